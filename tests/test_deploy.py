"""``deploy`` on the lab: a bare lab configured by Nornir + NAPALM, then failures.

The routers start empty (``lab up --bare``); one deploy configures all of
them. The checks look at what the routers themselves say (vtysh in their
namespaces, ping between them), not at what deploy reports.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from megalis_net.lab import access
from megalis_net.lab.plan import netns_of
from tests.conftest import ROOT, LabModel, lab_model, require_lab_machine

pytestmark = [pytest.mark.lab, pytest.mark.slow]

PES = (
    "pe-brest", "pe-lannion", "pe-lorient", "pe-quimper",
    "pe-rennes", "pe-saint-brieuc", "pe-saint-malo", "pe-vannes",
)  # fmt: skip
REFLECTORS = {"10.0.0.1", "10.0.0.5"}  # pe-brest, pe-rennes loopbacks (inventory/allocations.yaml)
CONVERGENCE = 120.0  # seconds allowed from a cold start


def vtysh(host: str, command: str) -> str:
    result = subprocess.run(
        ["vtysh", "-N", netns_of(host), "-c", command],
        capture_output=True, text=True, timeout=30, check=True,
    )  # fmt: skip
    return result.stdout


def vtysh_json(host: str, command: str) -> Any:
    return json.loads(vtysh(host, f"{command} json") or "{}")


def ping(netns: str, address: str) -> bool:
    result = subprocess.run(
        ["ip", "netns", "exec", netns, "ping", "-c1", "-W1", "-q", address],
        capture_output=True, timeout=10, check=False,
    )  # fmt: skip
    return result.returncode == 0


def wait_until(what: str, condition: Callable[[], bool], timeout: float = CONVERGENCE) -> float:
    """Seconds until ``condition`` holds; fails the test after ``timeout``."""
    started = time.monotonic()
    while not condition():
        if time.monotonic() - started > timeout:
            pytest.fail(f"{what}: not after {timeout:g} s")
        time.sleep(0.2)
    return time.monotonic() - started


def deploy(model: LabModel, *args: str, env: dict[str, str] | None = None) -> tuple[int, Any]:
    result = subprocess.run(
        [str(ROOT / ".venv/bin/megalis-net"), "deploy", "--lab", "--json", *args],
        capture_output=True, text=True, timeout=900, check=False, env=env or model.env,
    )  # fmt: skip
    try:
        return result.returncode, json.loads(result.stdout)
    except ValueError:
        pytest.fail(f"deploy printed no JSON (exit {result.returncode}): {result.stderr}")


def outcomes(report: Any) -> dict[str, str]:
    return {d["host"]: d["outcome"] for d in report["devices"]}


def running_configs() -> dict[str, str]:
    return {host: vtysh(host, "show running-config") for host in PES}


def loopbacks() -> dict[str, str]:
    return {
        host: str(vtysh_json(host, "show bgp summary")["ipv4Unicast"]["routerId"]) for host in PES
    }


def established(host: str) -> set[str]:
    summary = vtysh_json(host, "show bgp summary")
    peers = summary.get("ipv4Unicast", {}).get("peers", {})
    return {address for address, peer in peers.items() if peer["state"] == "Established"}


def default_next_hops(host: str) -> set[str]:
    routes = vtysh_json(host, "show ip route 0.0.0.0/0").get("0.0.0.0/0", [])
    selected = [r for r in routes if r.get("selected")]
    # a recursive next hop (a loopback) is listed with the hops resolving it: keep it alone
    return {
        hop["ip"]
        for r in selected
        for hop in r["nexthops"]
        if "ip" in hop and not hop.get("resolver")
    }


def all_loopbacks_reachable(lo: dict[str, str]) -> bool:
    """Every PE pings every other PE's loopback, all 56 pings at once (so that
    the convergence time measured is not the sum of ping timeouts)."""
    pings = [
        subprocess.Popen(
            ["ip", "netns", "exec", netns_of(src), "ping", "-c1", "-W0.2", "-q", lo[dst]],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for src in PES
        for dst in PES
        if src != dst
    ]
    return all([p.wait(timeout=10) == 0 for p in pings])


@pytest.fixture(scope="module")
def model(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LabModel]:
    require_lab_machine()
    model = lab_model(tmp_path_factory.mktemp("deploy"))
    model.cli("lab", "down", check=False)  # a lab left by someone else would mislead
    model.cli("lab", "up", "--bare")
    yield model
    model.cli("lab", "down", check=False)


@pytest.fixture(scope="module")
def deployed(model: LabModel) -> LabModel:
    code, report = deploy(model)
    assert code == 0, report
    assert set(outcomes(report).values()) == {"committed"}
    return model


def test_dry_run_on_a_bare_lab_shows_diffs_and_changes_nothing(model: LabModel) -> None:
    before = running_configs()
    code, report = deploy(model, "--dry-run")
    assert code == 0
    assert set(outcomes(report).values()) == {"would change"}
    rennes = next(d for d in report["devices"] if d["host"] == "pe-rennes")
    assert "+router bgp 65010" in rennes["diff"].splitlines()
    assert running_configs() == before


def test_after_deploy_the_igp_runs_on_every_ring_and_extension_link(deployed: LabModel) -> None:
    network, _ = deployed.network()
    expected = {}
    for link in network.topology.links:  # ring and extension
        expected[link.name] = (f"pe-{link.a}", f"pe-{link.b}")

    def adjacencies_up() -> bool:
        for a, b in expected.values():
            table = vtysh(a, "show isis neighbor")
            if not any(line.split()[:1] == [b] and " Up " in line for line in table.splitlines()):
                return False
        return True

    wait_until("IS-IS adjacencies on every backbone link", adjacencies_up)
    # the extension is protected: two adjacencies between Rennes and Saint-Malo
    table = vtysh("pe-saint-malo", "show isis neighbor")
    assert (
        sum(
            1 for line in table.splitlines() if line.split()[:1] == ["pe-rennes"] and " Up " in line
        )
        == 2
    )


def test_after_deploy_bgp_is_up_to_both_reflectors_and_every_upstream(deployed: LabModel) -> None:
    lo = loopbacks()
    upstream_peers = {
        "pe-rennes": {"10.0.1.19", "10.0.1.23"},  # France Télécom, Renater
        "pe-brest": set(),
    }
    network, allocations = deployed.network()
    for upstream in network.topology.upstreams:
        if upstream.pop == "brest":
            upstream_peers["pe-brest"].add(str(allocations.links[upstream.link.name][1]))

    def sessions_up() -> bool:
        for host in PES:
            wanted = REFLECTORS - {lo[host]} | upstream_peers.get(host, set())
            if not wanted <= established(host):
                return False
        return True

    wait_until("iBGP to both reflectors and eBGP to every upstream", sessions_up)


def test_after_deploy_the_default_route_points_at_the_primary_exit(deployed: LabModel) -> None:
    rennes = loopbacks()["pe-rennes"]

    def via_primary() -> bool:
        return default_next_hops("pe-rennes") == {"10.0.1.19"} and all(
            default_next_hops(host) == {rennes} for host in PES if host != "pe-rennes"
        )

    wait_until("default route via France Télécom at Rennes on every PE", via_primary)


def test_second_deploy_finds_no_diff_and_touches_nothing(deployed: LabModel) -> None:
    configs = {h: Path(f"/etc/frr/{netns_of(h)}/frr.conf").stat().st_mtime_ns for h in PES}
    code, report = deploy(deployed)
    assert code == 0
    assert set(outcomes(report).values()) == {"unchanged"}
    assert all(d["diff"] == "" for d in report["devices"])
    assert {h: Path(f"/etc/frr/{netns_of(h)}/frr.conf").stat().st_mtime_ns for h in PES} == configs


def test_a_cut_ring_link_reroutes_within_the_igp_convergence_time(deployed: LabModel) -> None:
    lo = loopbacks()
    wait_until("every loopback reachable before the cut", lambda: all_loopbacks_reachable(lo))
    subprocess.run(["ip", "-n", "mgx-pe-rennes", "link", "set", "bb0", "down"], check=True)
    try:
        seconds = wait_until(
            "every loopback reachable after cutting rennes bb0",
            lambda: all_loopbacks_reachable(lo),
            timeout=30,
        )
        print(f"\nIS-IS convergence after a ring cut: {seconds:.2f} s (all 56 pairs pinged)")
        assert seconds < 10
    finally:
        subprocess.run(["ip", "-n", "mgx-pe-rennes", "link", "set", "bb0", "up"], check=True)


def test_losing_the_primary_internet_link_moves_the_default_to_the_secondary(
    deployed: LabModel,
) -> None:
    lo = loopbacks()
    test_after_deploy_the_default_route_points_at_the_primary_exit(deployed)
    network, allocations = deployed.network()
    neuf = next(u for u in network.topology.upstreams if u.name == "internet-neuf")
    neuf_address = str(allocations.links[neuf.link.name][1])
    subprocess.run(["ip", "-n", "mgx-pe-rennes", "link", "set", "up0", "down"], check=True)
    try:

        def via_secondary() -> bool:
            return default_next_hops("pe-brest") == {neuf_address} and all(
                default_next_hops(host) == {lo["pe-brest"]} for host in PES if host != "pe-brest"
            )

        seconds = wait_until("default route via Neuf Cegetel at Brest", via_secondary, 60)
        print(f"\ndefault route on the secondary exit after {seconds:.2f} s")
    finally:
        subprocess.run(["ip", "-n", "mgx-pe-rennes", "link", "set", "up0", "up"], check=True)
    test_after_deploy_the_default_route_points_at_the_primary_exit(deployed)


def test_a_new_site_deployed_is_reachable_across_the_ring(deployed: LabModel) -> None:
    added = deployed.cli(
        "site", "add", "--name", "Collège Test - Quimper", "--pop", "quimper",
        "--community", "education", "--rate", "100M", "--json",
    )  # fmt: skip
    site = json.loads(added.stdout)
    site_id = site["site"]["id"]
    _, allocations = deployed.network()
    alloc = allocations.sites[site_id]
    deployed.cli("lab", "up")  # its access link, before its config
    code, report = deploy(deployed)
    assert code == 0, report
    assert outcomes(report)["pe-quimper"] == "committed"
    assert {h for h, o in outcomes(report).items() if o != "unchanged"} == {"pe-quimper"}
    lan_gateway = str(next(alloc.lan.hosts()))
    wait_until("the site from its PE", lambda: ping("mgx-pe-quimper", str(alloc.site_address)), 30)
    wait_until("the site's LAN from its PE", lambda: ping("mgx-pe-quimper", lan_gateway), 30)
    wait_until("the site's LAN across the ring", lambda: ping("mgx-pe-lannion", lan_gateway), 60)
    vpn = vtysh("pe-lannion", "show bgp ipv4 vpn")
    assert str(alloc.lan) in vpn  # distributed by the route reflectors
    rd = f"{loopbacks()['pe-quimper']}:101"  # education
    assert f"Route Distinguisher: {rd}" in vpn


def test_an_unreachable_router_stops_the_deploy_before_any_change(deployed: LabModel) -> None:
    deployed.cli(
        "site", "add", "--name", "Mairie Test - Vannes", "--pop", "vannes",
        "--community", "local-government", "--rate", "20M",
    )  # fmt: skip
    deployed.cli("lab", "up")
    before = running_configs()
    sshd = Path("/run/megalis-net/lab/pe-vannes/sshd.pid")
    subprocess.run(["kill", sshd.read_text().split()[0]], check=True)
    try:
        wait_until(
            "sshd of pe-vannes gone", lambda: not ssh_port_open(access()["pe-vannes"].address), 10
        )
        code, report = deploy(deployed)
        assert code == 1
        vannes = next(d for d in report["devices"] if d["host"] == "pe-vannes")
        assert vannes["outcome"] == "failed"
        assert "198.18.0.2" in vannes["error"] or "pe-vannes" in vannes["error"]
        assert all(
            o in ("unchanged", "not changed")
            for h, o in outcomes(report).items()
            if h != "pe-vannes"
        )
        assert running_configs() == before
    finally:
        deployed.cli("lab", "up")  # restarts the sshd it finds missing
    code, report = deploy(deployed)
    assert code == 0 and outcomes(report)["pe-vannes"] == "committed"


def ssh_port_open(address: str) -> bool:
    result = subprocess.run(
        ["bash", "-c", f"exec 3<>/dev/tcp/{address}/22"],
        capture_output=True,
        timeout=5,
        check=False,
    )
    return result.returncode == 0


def edited_templates(tmp_path: Path, *edits: tuple[str, str, str]) -> dict[str, str]:
    """The environment of a deploy whose FRR templates have these edits
    (file, old text, new text)."""
    templates = tmp_path / "templates"
    shutil.copytree(ROOT / "templates", templates)
    for file, old, new in edits:
        path = templates / "frr" / file
        text = path.read_text()
        assert old in text
        path.write_text(text.replace(old, new))
    return {"MEGALIS_TEMPLATES": str(templates)}


# A valid change on every router: deploy commits it wherever it can.
EXTRA_ROUTE = "ip route 203.0.113.0/24 blackhole\n"


def test_a_config_frr_rejects_is_refused_before_any_router_changes(
    deployed: LabModel, tmp_path: Path
) -> None:
    env = edited_templates(
        tmp_path,
        (
            "static.j2",
            "{% set routes",
            EXTRA_ROUTE + "{% if device.hostname == 'pe-saint-brieuc' %}"
            "ip route 203.0.113.0/33 blackhole\n{% endif %}{% set routes",
        ),
    )
    before = running_configs()
    code, report = deploy(deployed, env={**deployed.env, **env})
    assert code == 1
    result = outcomes(report)
    brieuc = next(d for d in report["devices"] if d["host"] == "pe-saint-brieuc")
    assert result.pop("pe-saint-brieuc") == "failed"
    assert "203.0.113.0/33" in brieuc["error"] or "FRR rejects" in brieuc["error"]
    assert set(result.values()) == {"not changed"}
    assert running_configs() == before


def test_a_failed_post_check_rolls_back_every_router_changed(
    deployed: LabModel, tmp_path: Path
) -> None:
    # valid for FRR, but it shuts pe-saint-brieuc's iBGP sessions down
    update_source = " neighbor {{ n.address }} update-source {{ n.update_source }}\n"
    shutdown = (
        "{% if device.hostname == 'pe-saint-brieuc' %}"
        " neighbor {{ n.address }} shutdown\n{% endif %}"
    )
    env = edited_templates(
        tmp_path,
        ("bgp.j2", update_source, update_source + shutdown),
        ("static.j2", "{% set routes", EXTRA_ROUTE + "{% set routes"),
    )
    before = running_configs()
    code, report = deploy(deployed, "--check-timeout", "15", env={**deployed.env, **env})
    assert code == 1
    result = outcomes(report)
    brieuc = next(d for d in report["devices"] if d["host"] == "pe-saint-brieuc")
    assert result.pop("pe-saint-brieuc") == "failed"
    assert "BGP sessions still down" in brieuc["error"]
    # the reflectors lose their session to it (10.0.0.6): their post-check fails too
    for device in report["devices"]:
        if device["host"] != "pe-saint-brieuc" and device["outcome"] == "failed":
            assert device["error"].endswith("10.0.0.6"), device
    assert set(result.values()) <= {"rolled back", "failed"}
    assert "rolled back" in result.values()
    assert running_configs() == before
