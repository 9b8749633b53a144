"""``lab up``, ``lab down`` and ``lab status``: the lab's life cycle.

``up`` records what it is about to make in the state folder *before* making
it, so that ``down`` removes exactly that, even after an ``up`` that failed
halfway. ``up`` is idempotent: it makes what is missing, removes the site
attachments the model no longer has, and leaves running routers alone
(their configuration is ``deploy``'s business).
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2

from megalis_net.fileio import atomic_write_text, exclusive
from megalis_net.lab import ifalias
from megalis_net.lab.daemons import (
    PE_DAEMONS,
    UPSTREAM_DAEMONS,
    UTS_WRAPPER,
    Frr,
    Snmpd,
    Sshd,
    stop_frr,
)
from megalis_net.lab.plan import (
    BRIDGE,
    BRIDGE_ADDRESS,
    MANAGEMENT,
    AccessNamespace,
    LabPlan,
    PeRouter,
    Veth,
)
from megalis_net.lab.system import (
    LabError,
    addresses,
    ip_batch,
    links,
    namespaces,
    require_root,
    run,
    stop_pids,
    sysctls,
)
from megalis_net.napalm_frr import onrouter
from megalis_net.napalm_frr.onrouter import policy_blocks
from megalis_net.render import TEMPLATES, render_device
from megalis_net.snmp.credentials import V3

STATE_DIR = Path(os.environ.get("MEGALIS_LAB_DIR", "/run/megalis-net/lab"))
STATE_FILE = "state.json"
KEY = "id_ed25519"
USERNAME = "root"
SNMP_V3 = "snmp-v3.json"
# Standard-library scripts run in the routers (ifAlias for snmpd, the alias
# sync) use the system's Python 3 (frr-pythontools needs it): a fixed path,
# so that snmpd.conf does not change with the interpreter running `lab up`
SYSTEM_PYTHON = "/usr/bin/python3"
# Routers forward; replies from a PoP's access namespace may come back on
# another site's link than the request went out on: no reverse-path filter.
SYSCTLS = {
    "net.ipv4.ip_forward": "1",
    "net.ipv6.conf.all.forwarding": "1",
    "net.ipv4.conf.all.rp_filter": "0",
    "net.ipv4.conf.default.rp_filter": "0",
}
Progress = Callable[[str], None]


def _quiet(_: str) -> None:
    return None


@dataclass(frozen=True, slots=True)
class RouterAccess:
    """How deploy and the tests reach a lab router."""

    host: str
    netns: str
    address: str
    username: str
    key_file: Path
    snmp_community: str
    snmp_v3: V3


@contextmanager
def _locked(state_dir: Path) -> Iterator[None]:
    require_root()
    state_dir.mkdir(parents=True, exist_ok=True)
    state_dir.chmod(0o700)
    with exclusive(state_dir):
        yield


def _templates() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES / "lab"),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


# -- state ---------------------------------------------------------------------


def _read_state(state_dir: Path) -> dict[str, Any]:
    try:
        state: dict[str, Any] = json.loads((state_dir / STATE_FILE).read_text())
    except FileNotFoundError:
        return {"namespaces": [], "root_links": [], "pathspaces": {}, "routers": {}}
    except (OSError, ValueError) as exc:
        raise LabError(f"{state_dir / STATE_FILE}: unreadable lab state ({exc})") from exc
    return state


def _write_state(state_dir: Path, state: dict[str, Any]) -> None:
    atomic_write_text(state_dir / STATE_FILE, json.dumps(state, indent=1, sort_keys=True) + "\n")


def _record(state_dir: Path, plan: LabPlan) -> dict[str, Any]:
    """Add to the state what this ``up`` is about to make."""
    state = _read_state(state_dir)
    state["namespaces"] = sorted(set(state["namespaces"]) | set(plan.namespaces))
    root = [BRIDGE] + [veth.name_b for veth in plan.management]
    state["root_links"] = sorted(set(state["root_links"]) | set(root))
    pathspaces = dict(state["pathspaces"])
    pathspaces.update({pe.netns: list(PE_DAEMONS) for pe in plan.pes})
    pathspaces.update({up.netns: list(UPSTREAM_DAEMONS) for up in plan.upstreams})
    state["pathspaces"] = pathspaces
    state["routers"] = {
        pe.host: {"netns": pe.netns, "address": str(pe.management.ip)} for pe in plan.pes
    }
    _write_state(state_dir, state)
    return state


# -- up ------------------------------------------------------------------------


def up(
    plan: LabPlan,
    state_dir: Path = STATE_DIR,
    bare: bool = False,
    progress: Progress = _quiet,
) -> None:
    """Make the lab match the model; start what is not running.

    ``bare`` starts routers that are not yet running with an empty config
    (hostname only), for a deploy to fill; otherwise with their rendered config.
    """
    with _locked(state_dir):
        state = _record(state_dir, plan)
        progress("keys")
        _credentials(state_dir)
        progress("namespaces and links")
        _namespaces(plan)
        _fixed_links(plan)
        progress("site attachments")
        held = state.get("held", {})
        for access in plan.access:
            _site_links(access, held.get(access.netns, []))
        _shape(plan)
        progress("routers")
        _routers(plan, state_dir, bare)
        progress("sshd and snmpd")
        _management_daemons(plan, state_dir)
        state["up"] = True
        _write_state(state_dir, state)


def _credentials(state_dir: Path) -> None:
    key = state_dir / KEY
    if not key.exists():
        run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "megalis-lab", "-f", str(key)])
    shutil.copyfile(key.with_suffix(".pub"), state_dir / "authorized_keys")
    community = state_dir / "snmp-community"
    if not community.exists():
        atomic_write_text(community, secrets.token_hex(12) + "\n")
    community.chmod(0o600)
    v3 = state_dir / SNMP_V3
    if not v3.exists():
        user = {
            "user": "megalis",
            "auth_key": secrets.token_hex(12),
            "priv_key": secrets.token_hex(12),
        }
        atomic_write_text(v3, json.dumps(user) + "\n")
    v3.chmod(0o600)
    wrapper = state_dir / "uts-wrap"
    wrapper.write_text(UTS_WRAPPER)
    wrapper.chmod(0o755)


def _namespaces(plan: LabPlan) -> None:
    existing = namespaces()
    for netns in plan.namespaces:
        if netns not in existing:
            run(["ip", "netns", "add", netns])
            ip_batch(["link set lo up"], netns)
            sysctls(netns, SYSCTLS)
    root = links()
    if BRIDGE not in root:
        ip_batch(
            [
                f"link add {BRIDGE} type bridge",
                f"addr add {BRIDGE_ADDRESS} dev {BRIDGE}",
                f"link set {BRIDGE} up",
            ]
        )


def _veth_command(veth: Veth) -> str:
    far = f" netns {veth.netns_b}" if veth.netns_b else ""
    return f"link add {veth.name_a} netns {veth.netns_a} type veth peer name {veth.name_b}{far}"


def _make_veths(veths: list[Veth]) -> None:
    """Create the pairs, then bring both ends up with their lab addresses."""
    ip_batch(_veth_command(v) for v in veths)
    per_netns: dict[str, list[str]] = {}
    for veth in veths:
        for netns, name, address in (
            (veth.netns_a, veth.name_a, veth.address_a),
            (veth.netns_b, veth.name_b, veth.address_b),
        ):
            lines = per_netns.setdefault(netns, [])
            if address is not None:
                lines.append(f"addr add {address} dev {name}")
            if not netns:  # root side of a management link
                lines.append(f"link set {name} master {BRIDGE}")
            lines.append(f"link set {name} up")
    for netns, lines in per_netns.items():
        ip_batch(lines, netns or None)


def _fixed_links(plan: LabPlan) -> None:
    present = {netns: set(links(netns)) for netns in plan.namespaces}
    missing = [
        veth for veth in (*plan.links, *plan.management) if veth.name_a not in present[veth.netns_a]
    ]
    _make_veths(missing)


def _site_links(access: AccessNamespace, held: Sequence[str] = ()) -> None:
    """Add the sites the model has, remove those it no longer has; the site
    ends of ``held`` links stay down (a CPE not plugged in yet)."""
    existing = links(access.netns)
    wanted = {site.interface: site for site in access.sites}
    extra = sorted(name for name in existing if name != "lo" and name not in wanted)
    ip_batch((f"link del {name}" for name in extra), access.netns)
    _make_veths([access.veth(s) for s in access.sites if s.interface not in existing])
    ip_batch((f"link set dev {name} down" for name in held if name in wanted), access.netns)
    # a site whose link exists but whose address moved (site moved, re-allocated)
    fix = []
    for name, site in wanted.items():
        if name in existing and addresses(existing[name]) != {str(site.address)}:
            fix += [f"addr flush dev {name}", f"addr add {site.address} dev {name}"]
    ip_batch(fix, access.netns)
    # a run killed between creating a pair and bringing it up leaves its ends down
    ip_batch(_raise(existing, wanted.keys() - set(held)), access.netns)
    ip_batch(_raise(links(access.pe_netns), wanted.keys()), access.pe_netns)
    loopback = addresses(existing.get("lo", {})) if "lo" in existing else set()
    lans = {str(s.lan_gateway) for s in access.sites}
    lines = [f"addr add {a} dev lo" for a in sorted(lans - loopback)]
    lines += [f"addr del {a} dev lo" for a in sorted(loopback - lans) if a != "127.0.0.1/8"]
    # a held link is down: the default route cannot go through it
    live = [site for site in access.sites if site.interface not in held]
    if live:
        lines.append(f"route replace default via {live[0].gateway} dev {live[0].interface}")
    ip_batch(lines, access.netns)


def _raise(present: dict[str, dict[str, Any]], names: Iterable[str]) -> list[str]:
    """The commands that bring up those of ``names`` that exist and are down."""
    return [
        f"link set dev {name} up"
        for name in sorted(names)
        if name in present and "UP" not in present[name].get("flags", ())
    ]


def _shape(plan: LabPlan) -> None:
    """Backbone and upstream links at their capacity (tbf; netem is not in this kernel)."""
    for veth in plan.links:
        if veth.rate_mbps is None:
            continue
        for netns, name in ((veth.netns_a, veth.name_a), (veth.netns_b, veth.name_b)):
            tbf = ["tbf", "rate", f"{veth.rate_mbps}mbit", "burst", "512kb", "latency", "10ms"]
            run(["tc", "-n", netns, "qdisc", "replace", "dev", name, "root", *tbf])


def bare_config(hostname: str) -> str:
    return (
        f"frr defaults traditional\nhostname {hostname}\nservice integrated-vtysh-config\n!\nend\n"
    )


def _routers(plan: LabPlan, state_dir: Path, bare: bool) -> None:
    wrapper = state_dir / "uts-wrap"
    starts: list[tuple[Frr, str]] = []
    settle: list[tuple[Frr, str]] = []
    for pe in plan.pes:
        frr = Frr(pe.netns, pe.host, PE_DAEMONS)
        if "watchfrr" in frr.running():
            # links made since (a site added) get their descriptions now
            shown = run(["vtysh", "-N", frr.pathspace, "-c", "show running-config"])
            _sync_aliases(frr, shown.stdout)
            continue
        if bare:
            starts.append((frr, bare_config(pe.host)))
            continue
        config = render_device(pe.intent)
        # FRR reads frr.conf in order and drops a VPN network whose route-map
        # comes later (see ``policy_blocks``): define the route-maps first,
        # then save the config back in FRR's own order once it is loaded.
        starts.append((frr, policy_blocks(config) + config))
        settle.append((frr, config))
    upstream = _templates().get_template("upstream.frr.j2")
    for router in plan.upstreams:
        frr = Frr(router.netns, router.name, UPSTREAM_DAEMONS)
        if "watchfrr" not in frr.running():
            starts.append((frr, upstream.render(router=router)))
    # frrinit.sh waits for each daemon to read its config: start them side by side
    with ThreadPoolExecutor(max_workers=4) as pool:
        list(pool.map(lambda start: start[0].start(start[1], wrapper), starts))
        list(pool.map(lambda loaded: _save_once_loaded(loaded[0], loaded[1], wrapper), settle))


def _comparable(config: str) -> list[str]:
    return [
        line
        for line in config.splitlines()
        if line.strip() and not line.startswith(("!", "hostname ", "frr version"))
    ]


def _save_once_loaded(frr: Frr, config: str, wrapper: Path, timeout: float = 300) -> None:
    """Wait until FRR prints ``config`` back (watchfrr loads it in the
    background), then save it: frr.conf in FRR's own order."""
    wanted = _comparable(config)
    deadline = time.monotonic() + timeout
    while True:
        shown = run(["vtysh", "-N", frr.pathspace, "-c", "show running-config"], check=False)
        lines = shown.stdout.splitlines()
        if "Current configuration:" in lines:
            lines = lines[lines.index("Current configuration:") + 1 :]
        if _comparable("\n".join(lines)) == wanted:
            break
        if time.monotonic() > deadline:
            raise LabError(f"{frr.pathspace}: FRR has not loaded its config after {timeout:g} s")
        time.sleep(0.5)
    # vtysh writes its own hostname into frr.conf: run it under the router's
    run([str(wrapper), frr.hostname, "vtysh", "-N", frr.pathspace, "-c", "write memory"])
    _sync_aliases(frr, config)


def _sync_aliases(frr: Frr, config: str) -> None:
    """Descriptions -> ifAlias, as the NAPALM driver does after each commit
    (``sync_aliases``); run in the router's namespace, whose /sys is its own."""
    # the script alone (standard library), not the package: importing the
    # package pulls in NAPALM, ~0.8 s per router
    script = [SYSTEM_PYTHON, "-I", onrouter.__file__, "--state", "/nonexistent"]
    run(
        ["ip", "netns", "exec", frr.pathspace, *script, "sync-aliases", "--config", "-"],
        stdin=config,
    )


def _router_dir(state_dir: Path, pe: PeRouter) -> Path:
    return state_dir / pe.host


def _management_daemons(plan: LabPlan, state_dir: Path) -> None:
    templates = _templates()
    community = (state_dir / "snmp-community").read_text().strip()
    v3 = _snmp_v3(state_dir)
    for pe in plan.pes:
        directory = _router_dir(state_dir, pe)
        sshd = Sshd(pe.netns, pe.host, directory)
        if sshd.pid() is None:
            sshd.start(
                templates.get_template("sshd_config.j2").render(
                    host=pe.host,
                    address=pe.management.ip,
                    dir=directory,
                    authorized_keys=state_dir / "authorized_keys",
                ),
                Frr(pe.netns, pe.host, PE_DAEMONS),
            )
        Snmpd(pe.netns, directory).ensure(
            templates.get_template("snmpd.conf.j2").render(
                host=pe.host,
                address=pe.management.ip,
                community=community,
                v3=v3,
                python=SYSTEM_PYTHON,
                ifalias=Path(ifalias.__file__).resolve(),
                management_network=MANAGEMENT,
                location=pe.intent.management_plane.snmp_location,
                contact=pe.intent.management_plane.snmp_contact,
                speeds=_speeds(pe),
            )
        )


@dataclass(frozen=True, slots=True)
class _Speed:
    name: str
    mbps: int


def _speeds(pe: PeRouter) -> list[tuple[int, _Speed]]:
    """ifHighSpeed overrides by ifIndex for the ports with a model speed."""
    present = links(pe.netns)
    return [
        (present[port.name]["ifindex"], _Speed(port.name, port.speed_mbps))
        for port in pe.intent.ports
        if port.l3 is not None and port.name in present
    ]


# -- hold ----------------------------------------------------------------------


def hold(plan: LabPlan, host: str, interface: str, state_dir: Path = STATE_DIR) -> None:
    """Keep the site end of ``host``'s ``interface`` down, now and in every
    ``up`` (even before the site exists): the link a site's CPE would bring up."""
    _set_held(plan, host, interface, True, state_dir)


def release(plan: LabPlan, host: str, interface: str, state_dir: Path = STATE_DIR) -> None:
    _set_held(plan, host, interface, False, state_dir)


def _set_held(plan: LabPlan, host: str, interface: str, held: bool, state_dir: Path) -> None:
    pe = next((pe for pe in plan.pes if pe.host == host), None)
    if pe is None:
        raise LabError(f"{host} is not a router of the lab")
    if not interface.startswith("acc"):
        raise LabError(f"{interface}: only site links (acc<port>.<vlan>) can be held down")
    netns = next(a.netns for a in plan.access if a.pe_netns == pe.netns)
    with _locked(state_dir):
        state = _read_state(state_dir)
        names = set(state.setdefault("held", {}).get(netns, []))
        names = names | {interface} if held else names - {interface}
        state["held"][netns] = sorted(names)
        _write_state(state_dir, state)
        if netns in namespaces() and interface in links(netns):
            ip_batch([f"link set dev {interface} {'down' if held else 'up'}"], netns)


# -- down ----------------------------------------------------------------------


def down(state_dir: Path = STATE_DIR, progress: Progress = _quiet) -> list[str]:
    """Remove what ``up`` made (by its record); the names of what was removed."""
    with _locked(state_dir):
        state = _read_state(state_dir)
        removed: list[str] = []
        progress("daemons")
        for host in state["routers"]:
            directory = state_dir / host
            Sshd(state["routers"][host]["netns"], host, directory).stop()
            Snmpd(state["routers"][host]["netns"], directory).stop()
        frrs = [Frr(name, name, tuple(daemons)) for name, daemons in state["pathspaces"].items()]
        stop_frr(frrs)
        # anything else still running in the lab's namespaces: a commit-confirm
        # timer the NAPALM driver left on a router, a shell an engineer opened
        existing = namespaces()
        stop_pids(
            int(pid)
            for netns in state["namespaces"]
            if netns in existing
            for pid in run(["ip", "netns", "pids", netns], check=False).stdout.split()
        )
        progress("namespaces")
        # Root-side ends first: deleting one end deletes its pair, and after
        # ``ip netns del`` the kernel frees them in the background, at its pace.
        root = links()
        gone = [name for name in state["root_links"] if name in root]
        ip_batch(f"link del {name}" for name in gone)
        removed += gone
        existing = namespaces()
        for netns in state["namespaces"]:
            if netns in existing:
                run(["ip", "netns", "del", netns])
                removed.append(netns)
        for entry in state_dir.iterdir():
            if entry.is_dir():
                shutil.rmtree(entry)
            elif entry.name != ".megalis.lock":
                entry.unlink()
        return removed


# -- status --------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RouterStatus:
    name: str
    kind: str  # pe, upstream, access
    netns: str
    present: bool
    address: str | None
    daemons: tuple[str, ...]  # running
    expected: tuple[str, ...]
    interfaces: int


def status(state_dir: Path = STATE_DIR) -> list[RouterStatus]:
    require_root()
    state = _read_state(state_dir)
    existing = namespaces()
    by_netns = {r["netns"]: (host, r["address"]) for host, r in state["routers"].items()}
    rows = []
    for netns in state["namespaces"]:
        present = netns in existing
        host, address = by_netns.get(netns, (netns.removeprefix("mgx-"), None))
        daemons: list[str] = []
        expected: tuple[str, ...] = ()
        kind = "access"
        if netns in state["pathspaces"]:
            expected = ("watchfrr", *state["pathspaces"][netns])
            kind = "pe" if netns in by_netns else "upstream"
            daemons = Frr(netns, host, tuple(state["pathspaces"][netns])).running()
        if netns in by_netns:
            expected += ("sshd", "snmpd")
            directory = state_dir / host
            daemons += [
                name
                for name, pid in (
                    ("sshd", Sshd(netns, host, directory).pid()),
                    ("snmpd", Snmpd(netns, directory).pid()),
                )
                if pid is not None
            ]
        count = len(links(netns)) - 1 if present else 0  # without lo
        rows.append(
            RouterStatus(host, kind, netns, present, address, tuple(daemons), expected, count)
        )
    return rows


def access(state_dir: Path = STATE_DIR) -> dict[str, RouterAccess]:
    """Management address and credentials of each lab router, for deploy and tests."""
    state = _read_state(state_dir)
    if not state.get("routers"):
        raise LabError(f"no lab is up (nothing recorded in {state_dir}): run `megalis-net lab up`")
    community = (state_dir / "snmp-community").read_text().strip()
    v3 = _snmp_v3(state_dir)
    return {
        host: RouterAccess(host, r["netns"], r["address"], USERNAME, state_dir / KEY, community, v3)
        for host, r in state["routers"].items()
    }


def _snmp_v3(state_dir: Path) -> V3:
    """The lab's SNMPv3 user (SHA + AES, authPriv), made by ``up``."""
    user = json.loads((state_dir / SNMP_V3).read_text())
    return V3(user["user"], user["auth_key"], user["priv_key"], "sha", "aes")


def access_for(hosts: list[str], state_dir: Path = STATE_DIR) -> dict[str, RouterAccess]:
    """``access()`` of these routers; an error naming the first not in the lab."""
    routers = access(state_dir)
    missing = [host for host in hosts if host not in routers]
    if missing:
        raise LabError(f"{missing[0]} is not in the lab: run `megalis-net lab up`")
    return {host: routers[host] for host in hosts}
