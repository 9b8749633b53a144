"""IOS XR configurations: golden files, and a parse-back of each against its intent.

The parse-back reads a rendered configuration with ciscoconfparse2 into the
set of its paths (each line with the lines it sits under, e.g. ``("router
bgp 65010", "vrf internet", "neighbor 10.0.1.19")``) and lists the paths
the intent calls for that are not there. The expected paths are written
here from the intent, independently of the templates.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from ipaddress import IPv4Interface
from typing import Any

import pytest
from ciscoconfparse2 import CiscoConfParse

from megalis_net.intent import DeviceIntent, build_intents
from megalis_net.ipam import Allocations, load_allocations
from megalis_net.loader import load_devices, load_network
from megalis_net.model import Network, Platform, SiteStatus
from megalis_net.render import render_device
from tests.conftest import ROOT

HOSTNAMES = sorted(device.name for device in load_devices(ROOT / "inventory")[0])
XCONNECT_GROUP = "l2-renater"  # a constant of templates/iosxr/l2vpn.j2

ConfigPath = tuple[str, ...]
Rendered = dict[str, tuple[DeviceIntent, str]]


def _render(network: Network, allocations: Allocations) -> Rendered:
    intents = build_intents(network, allocations, Platform.IOSXR)
    return {name: (intent, render_device(intent)) for name, intent in intents.items()}


@pytest.fixture(scope="module")
def small(render_network: tuple[Network, Allocations]) -> Rendered:
    """The six-site network of tests/fixtures/render, rendered for IOS XR."""
    return _render(*render_network)


@pytest.fixture(scope="module")
def shipped() -> tuple[Network, Rendered]:
    """The shipped model (3000 sites) with its allocations, once every site is
    migrated, rendered for IOS XR."""
    network = load_network(ROOT / "topology", ROOT / "inventory").with_status(SiteStatus.ACTIVE)
    return network, _render(network, load_allocations(ROOT / "inventory"))


# --- the parse-back checker ---------------------------------------------------------------


def config_paths(config: str) -> set[ConfigPath]:
    """Every line of the configuration, as the path from its top-level line."""
    parse = CiscoConfParse(config.splitlines(), syntax="iosxr")

    def walk(lines: Iterable[Any], above: ConfigPath) -> Iterator[ConfigPath]:
        for line in lines:
            text = line.text.strip()
            if not text.startswith("!"):
                yield (*above, text)
                yield from walk(line.children, (*above, text))

    return set(walk(parse.find_objects(r"^\S"), ()))


def _ipv4(address: IPv4Interface) -> str:
    return f"ipv4 address {address.ip} {address.netmask}"


def _under(parent: ConfigPath, *children: str) -> Iterator[ConfigPath]:
    yield parent
    for child in children:
        yield (*parent, child)


def _subinterface_paths(intent: DeviceIntent) -> Iterator[ConfigPath]:
    for sub in (sub for port in intent.ports for sub in port.subinterfaces):
        lines = [f"encapsulation dot1q {sub.vlan}"]
        if sub.l3 is None:
            head = f"interface {sub.name} l2transport"
        else:
            head = f"interface {sub.name}"
            lines += [f"vrf {sub.l3.vrf}"] if sub.l3.vrf else []
            lines.append(_ipv4(sub.l3.address))
        if sub.policer:
            lines += [f"service-policy {way} {sub.policer.name}" for way in ("input", "output")]
        yield from _under((head,), *lines)


def _site_paths(intent: DeviceIntent) -> Iterator[ConfigPath]:
    for site in intent.sites:
        yield from _under(
            (f"interface {site.interface}",),
            f"encapsulation dot1q {site.vlan}",
            f"vrf {site.vrf}",
            _ipv4(site.address),
            f"service-policy input {site.policer}",
            f"service-policy output {site.policer}",
        )


def _vrf_paths(intent: DeviceIntent) -> Iterator[ConfigPath]:
    bgp = f"router bgp {intent.bgp.asn}"
    for vrf in intent.vrfs:
        family = (f"vrf {vrf.name}", "address-family ipv4 unicast")
        yield from _under((*family, "import route-target"), *vrf.route_targets_import)
        yield from _under((*family, "export route-target"), *vrf.route_targets_export)
        yield (bgp, f"vrf {vrf.name}", f"rd {vrf.rd}")
        if vrf.static_routes:
            yield (bgp, f"vrf {vrf.name}", "address-family ipv4 unicast", "redistribute static")


def _bgp_paths(intent: DeviceIntent) -> Iterator[ConfigPath]:
    bgp = f"router bgp {intent.bgp.asn}"
    for n in intent.bgp.ibgp:
        neighbor = (bgp, f"neighbor {n.address}")
        yield (*neighbor, f"remote-as {n.remote_as}")
        yield (*neighbor, "address-family ipv4 unicast")
        yield (*neighbor, "address-family vpnv4 unicast")
        if n.route_reflector_client:
            yield (*neighbor, "address-family vpnv4 unicast", "route-reflector-client")
    for vrf in intent.vrfs:
        for n in vrf.neighbors:
            neighbor = (bgp, f"vrf {vrf.name}", f"neighbor {n.address}")
            yield (*neighbor, f"remote-as {n.remote_as}")
            yield from _under(
                (*neighbor, "address-family ipv4 unicast"),
                f"route-policy {n.import_policy} in",
                f"route-policy {n.export_policy} out",
            )
    for policy in intent.policies:
        yield (f"route-policy {policy.name}",)


def _core_paths(intent: DeviceIntent) -> Iterator[ConfigPath]:
    yield (f"interface {intent.loopback}", f"ipv4 address {intent.router_id} 255.255.255.255")
    isis = f"router isis {intent.isis.instance}"
    yield (isis, f"net {intent.isis.net}")
    for interface in intent.isis.interfaces:
        if interface.metric is None:
            yield (isis, f"interface {interface.name}", "passive")
        else:
            yield (isis, f"interface {interface.name}", "point-to-point")
            family = (isis, f"interface {interface.name}", "address-family ipv4 unicast")
            yield (*family, f"metric {interface.metric}")
    yield from _under(("mpls ldp",), *(f"interface {name}" for name in intent.ldp_interfaces))


def _policer_paths(intent: DeviceIntent) -> Iterator[ConfigPath]:
    for policer in intent.policers:
        rate = f"police rate {policer.rate_mbps} mbps burst {policer.burst_bytes} bytes"
        yield (f"policy-map {policer.name}", "class class-default", rate)


def _static_paths(intent: DeviceIntent) -> Iterator[ConfigPath]:
    for vrf in intent.vrfs:
        family = ("router static", f"vrf {vrf.name}", "address-family ipv4 unicast")
        for r in vrf.static_routes:
            yield (*family, f"{r.prefix} {r.interface} {r.next_hop} description {r.description}")


def _l2circuit_paths(intent: DeviceIntent) -> Iterator[ConfigPath]:
    for circuit in intent.l2circuits:
        p2p = ("l2vpn", f"xconnect group {XCONNECT_GROUP}", f"p2p {circuit.name}")
        other = (
            f"interface {circuit.local_interface}"
            if circuit.neighbor is None
            else f"neighbor ipv4 {circuit.neighbor} pw-id {circuit.pw_id}"
        )
        yield from _under(p2p, f"interface {circuit.interface}", other)


def expected_paths(intent: DeviceIntent) -> list[ConfigPath]:
    """What the configuration of ``intent`` must hold, in order, without repeats."""
    features: list[Callable[[DeviceIntent], Iterator[ConfigPath]]] = [
        _core_paths,
        _policer_paths,
        _subinterface_paths,
        _site_paths,
        _vrf_paths,
        _bgp_paths,
        _static_paths,
        _l2circuit_paths,
    ]
    return list(dict.fromkeys(path for feature in features for path in feature(intent)))


def missing(intent: DeviceIntent, config: str) -> list[str]:
    """The paths of the intent that the configuration lacks, as ``a > b > c``.

    A missing line hides what the intent expects under it: only the
    outermost missing line of a branch is reported.
    """
    present = config_paths(config)
    wanted = dict.fromkeys(p[:n] for p in expected_paths(intent) for n in range(1, len(p) + 1))
    return [
        " > ".join(path)
        for path in wanted
        if path not in present and (len(path) == 1 or path[:-1] in present)
    ]


def without(config: str, target: ConfigPath) -> str:
    """The configuration less the line at ``target`` and every line under it."""
    kept: list[str] = []
    stack: list[tuple[int, str]] = []
    for line in config.splitlines():
        text, indent = line.strip(), len(line) - len(line.lstrip())
        if text.startswith("!"):
            kept.append(line)
            continue
        while stack and stack[-1][0] >= indent:
            stack.pop()
        stack.append((indent, text))
        if tuple(t for _, t in stack)[: len(target)] != target:
            kept.append(line)
    assert len(kept) < len(config.splitlines()), f"{' > '.join(target)} is not in the config"
    return "\n".join(kept) + "\n"


# --- tests --------------------------------------------------------------------------------


@pytest.mark.parametrize("hostname", HOSTNAMES)
def test_config_matches_its_golden_file(
    small: Rendered, golden: Callable[[str, str], None], hostname: str
) -> None:
    golden(f"iosxr/{hostname}.conf", small[hostname][1])


def test_small_network_exercises_every_template_branch(small: Rendered) -> None:
    intents = [intent for intent, _ in small.values()]
    circuits = [c for intent in intents for c in intent.l2circuits]
    subs = [s for i in intents for port in i.ports for s in port.subinterfaces]
    assert {c.neighbor is None for c in circuits} == {True, False}  # local and pseudowire
    assert {s.l3 is None for s in subs} == {True, False}  # L2 and routed
    assert {s.policer is None for s in subs} == {True, False}  # hand-off has none
    assert {p.match.value for i in intents for p in i.policies} == {
        "default-only",
        "not-default",
        "announced",
    }
    assert any(p.prepend for i in intents for p in i.policies)
    assert any(i.bgp.cluster_id for i in intents) and not all(i.bgp.cluster_id for i in intents)


@pytest.mark.parametrize("hostname", HOSTNAMES)
def test_small_network_parses_back_to_its_intent(small: Rendered, hostname: str) -> None:
    intent, config = small[hostname]
    assert missing(intent, config) == []


@pytest.mark.parametrize("hostname", HOSTNAMES)
def test_shipped_network_parses_back_to_its_intent(
    shipped: tuple[Network, Rendered], hostname: str
) -> None:
    intent, config = shipped[1][hostname]
    assert missing(intent, config) == []


def test_shipped_network_puts_every_site_in_some_config(
    shipped: tuple[Network, Rendered],
) -> None:
    network, rendered = shipped
    assert sum(len(intent.sites) for intent, _ in rendered.values()) == len(network.sites) > 0


# pe-rennes, of the small network: a route reflector, both upstreams, the L2 hand-off.
REMOVALS = {
    "ebgp-neighbor": ("router bgp 65010", "vrf internet", "neighbor 10.0.1.19"),
    "ebgp-import-policy": (
        "router bgp 65010",
        "vrf renater",
        "neighbor 10.0.1.23",
        "address-family ipv4 unicast",
        "route-policy RENATER-PRIMARY-IN in",
    ),
    "ibgp-neighbor": ("router bgp 65010", "neighbor 10.0.0.2"),
    "rr-client": (
        "router bgp 65010",
        "neighbor 10.0.0.2",
        "address-family vpnv4 unicast",
        "route-reflector-client",
    ),
    "vrf-definition": ("vrf research",),
    "vrf-import-target": (
        "vrf education",
        "address-family ipv4 unicast",
        "import route-target",
        "65010:1",
    ),
    "bgp-vrf": ("router bgp 65010", "vrf education"),
    "static-route": (
        "router static",
        "vrf education",
        "address-family ipv4 unicast",
        "10.64.0.0/28 GigabitEthernet0/0/2/0.103 10.16.0.11 description R-0006",
    ),
    "subinterface": ("interface GigabitEthernet0/0/2/0.103",),
    "subinterface-vrf": ("interface GigabitEthernet0/0/2/0.101", "vrf research"),
    "subinterface-policer": (
        "interface GigabitEthernet0/0/2/0.100",
        "service-policy input RATE-20M",
    ),
    "l2transport": ("interface GigabitEthernet0/0/3/0.101 l2transport",),
    "pseudowire": (
        "l2vpn",
        f"xconnect group {XCONNECT_GROUP}",
        "p2p R-0003",
        "neighbor ipv4 10.0.0.1 pw-id 100",
    ),
    "local-xconnect": (
        "l2vpn",
        f"xconnect group {XCONNECT_GROUP}",
        "p2p R-0005",
        "interface GigabitEthernet0/0/3/0.101",
    ),
    "route-policy": ("route-policy INTERNET-PRIMARY-IN",),
    "policy-map": ("policy-map RATE-8M",),
    "isis-metric": (
        "router isis megalis",
        "interface TenGigE0/0/0/2",
        "address-family ipv4 unicast",
        "metric 10",
    ),
    "ldp-interface": ("mpls ldp", "interface TenGigE0/0/0/3"),
}


@pytest.mark.parametrize("target", REMOVALS.values(), ids=list(REMOVALS))
def test_checker_reports_what_was_removed(small: Rendered, target: ConfigPath) -> None:
    intent, config = small["pe-rennes"]
    assert missing(intent, config) == []
    assert missing(intent, without(config, target)) == [" > ".join(target)]


def test_checker_reports_a_changed_value(small: Rendered) -> None:
    intent, config = small["pe-rennes"]
    changed = config.replace(" encapsulation dot1q 101\n", " encapsulation dot1q 999\n", 1)
    assert changed != config
    assert missing(intent, changed) == [
        "interface GigabitEthernet0/0/2/0.101 > encapsulation dot1q 101"
    ]
