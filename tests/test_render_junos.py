"""Junos templates: golden configs, well-formed braces, and a parse-back check.

The parse-back reads a rendered config into a tree (each statement maps to
its children, as `show configuration` nests them) and checks that every site
unit, VRF, BGP neighbor, static route and L2 circuit of the intent sits where
Junos expects it. Two readers build that tree: ciscoconfparse2 (its junos
syntax) and ``read_braces`` below, which must agree on the small network.
The full model (3000 sites, 43 000 lines) is read with ``read_braces`` only:
ciscoconfparse2 takes about 8 s over it, ``read_braces`` 20 ms.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from ipaddress import IPv4Address

import pytest
from ciscoconfparse2 import BaseCfgLine, CiscoConfParse

from megalis_net.intent import DeviceIntent, build_intents
from megalis_net.intent.model import Vrf
from megalis_net.ipam import Allocations, load_allocations
from megalis_net.loader import load_network
from megalis_net.model import Network, Platform, SiteStatus
from megalis_net.render import render_device
from tests.conftest import ROOT

Tree = dict[str, "Tree"]
Where = tuple[str, ...]  # statements from the top, as `display set` spells them

HOSTNAMES = (
    "pe-brest",
    "pe-lannion",
    "pe-lorient",
    "pe-quimper",
    "pe-rennes",
    "pe-saint-brieuc",
    "pe-saint-malo",
    "pe-vannes",
)
IBGP, IBGP_CLIENTS, UPSTREAMS = "group IBGP", "group IBGP-RR-CLIENTS", "group UPSTREAMS"


class BraceError(ValueError):
    """A config that is not well-formed curly-brace Junos."""


def read_braces(text: str) -> Tree:
    """The statement tree of a brace config; equal statements merge, as in Junos.

    Examples:
        >>> read_braces('system {\\n    host-name pe-x;\\n}\\n')
        {'system': {'host-name pe-x': {}}}
    """
    root: Tree = {}
    stack = [root]
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if line == "}":
            if len(stack) == 1:
                raise BraceError(f"line {number}: '}}' closes nothing")
            stack.pop()
        elif line.endswith("{"):
            stack.append(stack[-1].setdefault(line[:-1].rstrip(), {}))
        elif line.endswith(";"):
            stack[-1].setdefault(line[:-1], {})
        elif line:
            raise BraceError(f"line {number}: {line!r} ends with none of '{{', '}}', ';'")
    if len(stack) > 1:
        raise BraceError(f"{len(stack) - 1} block(s) left open at the end")
    return root


def ccp_tree(text: str) -> Tree:
    """The same tree, as ciscoconfparse2's junos syntax reads it."""
    parse = CiscoConfParse(text.splitlines(), syntax="junos")

    def add(tree: Tree, obj: BaseCfgLine) -> None:
        child = tree.setdefault(obj.text.strip(), {})
        for grandchild in obj.children:
            add(child, grandchild)

    root: Tree = {}
    for top in parse.objs:
        if top.parent is top:
            add(root, top)
    return root


def has(tree: Tree, path: Where) -> bool:
    for statement in path:
        if statement not in tree:
            return False
        tree = tree[statement]
    return True


def expected_paths(intent: DeviceIntent) -> Iterator[Where]:
    """Where each piece of the intent must appear, as `display set` would spell it."""
    yield from _unit_paths(intent)
    yield from _ibgp_paths(intent)
    yield from _vrf_paths(intent)
    yield from _l2circuit_paths(intent)


def _unit_paths(intent: DeviceIntent) -> Iterator[Where]:
    for port in intent.ports:
        for sub in port.subinterfaces:
            unit = ("interfaces", port.name, f"unit {sub.unit}")
            yield (*unit, f"vlan-id {sub.vlan}")
            if sub.l3 is None:
                yield (*unit, "encapsulation vlan-ccc")
            else:
                yield (*unit, "family inet", f"address {sub.l3.address}")
    for site in intent.sites:
        name, number = site.interface.rsplit(".", 1)
        yield ("interfaces", name, f"unit {number}", "family inet", f"address {site.address}")


def _ibgp_paths(intent: DeviceIntent) -> Iterator[Where]:
    for neighbor in intent.bgp.ibgp:
        group = ("protocols", "bgp", IBGP_CLIENTS if neighbor.route_reflector_client else IBGP)
        yield (*group, "type internal")
        yield (*group, f"local-address {intent.bgp.router_id}")
        yield (*group, f"neighbor {neighbor.address}")
        if neighbor.route_reflector_client:
            yield (*group, f"cluster {intent.bgp.cluster_id}")


def _vrf_paths(intent: DeviceIntent) -> Iterator[Where]:
    for vrf in intent.vrfs:
        instance = ("routing-instances", vrf.name)
        yield (*instance, "instance-type vrf")
        yield (*instance, f"route-distinguisher {vrf.rd}")
        for route in vrf.static_routes:
            static = (*instance, "routing-options", "static")
            yield (*static, f"route {route.prefix} next-hop {route.next_hop}")
        for neighbor in vrf.neighbors:
            group = (*instance, "protocols", "bgp", UPSTREAMS)
            yield (*group, "type external")
            peer = (*group, f"neighbor {neighbor.address}")
            yield (*peer, f"peer-as {neighbor.remote_as}")
            yield (*peer, f"import {neighbor.import_policy}")
            yield (*peer, f"export {neighbor.export_policy}")
    for site in intent.sites:
        yield ("routing-instances", site.vrf, f"interface {site.interface}")
    for port in intent.ports:
        if port.l3 is not None and port.l3.vrf is not None:
            yield ("routing-instances", port.l3.vrf, f"interface {port.name}.0")


def _l2circuit_paths(intent: DeviceIntent) -> Iterator[Where]:
    for circuit in intent.l2circuits:
        if circuit.neighbor is None:
            local = ("protocols", "l2circuit", "local-switching", f"interface {circuit.interface}")
            yield (*local, "end-interface", f"interface {circuit.local_interface}")
        else:
            remote = ("protocols", "l2circuit", f"neighbor {circuit.neighbor}")
            yield (*remote, f"interface {circuit.interface}", f"virtual-circuit-id {circuit.pw_id}")


def bgp_neighbor_paths(tree: Tree) -> set[Where]:
    """Every BGP neighbor of the config, global and per routing instance, with its group."""
    found: set[Where] = set()
    places: list[tuple[Where, Tree]] = [(("protocols", "bgp"), tree.get("protocols", {}))]
    for name, instance in tree.get("routing-instances", {}).items():
        places.append(
            (("routing-instances", name, "protocols", "bgp"), instance.get("protocols", {}))
        )
    for prefix, protocols in places:
        for group, statements in protocols.get("bgp", {}).items():
            found |= {(*prefix, group, s) for s in statements if s.startswith("neighbor ")}
    return found


def problems(intent: DeviceIntent, tree: Tree) -> list[str]:
    """What the config lacks of the intent, and the BGP neighbors it has beyond it."""
    expected = list(dict.fromkeys(expected_paths(intent)))
    missing = [f"missing: {' > '.join(p)}" for p in expected if not has(tree, p)]
    extra = sorted(bgp_neighbor_paths(tree) - {_up_to_neighbor(p) for p in expected})
    return missing + [f"unexpected: {' > '.join(p)}" for p in extra]


def _up_to_neighbor(where: Where) -> Where:
    """The path down to its `neighbor` statement (or empty if it has none)."""
    for n, statement in enumerate(where):
        if statement.startswith("neighbor "):
            return where[: n + 1]
    return ()


@pytest.fixture(scope="module")
def intents(render_network: tuple[Network, Allocations]) -> dict[str, DeviceIntent]:
    network, allocations = render_network
    return build_intents(network, allocations, Platform.JUNOS)


@pytest.fixture(scope="module")
def configs(intents: dict[str, DeviceIntent]) -> dict[str, str]:
    return {name: render_device(intent) for name, intent in intents.items()}


@pytest.fixture(scope="module")
def shipped_intents() -> dict[str, DeviceIntent]:
    network = load_network(ROOT / "topology", ROOT / "inventory").with_status(SiteStatus.ACTIVE)
    return build_intents(network, load_allocations(ROOT / "inventory"), Platform.JUNOS)


def test_every_router_has_its_cases(intents: dict[str, DeviceIntent]) -> None:
    assert tuple(intents) == HOSTNAMES


@pytest.mark.parametrize("hostname", HOSTNAMES)
def test_golden(hostname: str, configs: dict[str, str], golden: Callable[[str, str], None]) -> None:
    golden(f"junos/{hostname}.conf", configs[hostname])


@pytest.mark.parametrize("hostname", HOSTNAMES)
def test_well_formed(hostname: str, configs: dict[str, str]) -> None:
    text = configs[hostname]
    read_braces(text)  # raises on a bad line or unbalanced braces
    assert text.count("{") == text.count("}")
    assert "None" not in text
    assert text.startswith(f"system {{\n    host-name {hostname};\n")


@pytest.mark.parametrize("hostname", HOSTNAMES)
def test_readers_agree(hostname: str, configs: dict[str, str]) -> None:
    assert read_braces(configs[hostname]) == ccp_tree(configs[hostname])


@pytest.mark.parametrize("hostname", HOSTNAMES)
def test_parse_back(
    hostname: str, intents: dict[str, DeviceIntent], configs: dict[str, str]
) -> None:
    tree = ccp_tree(configs[hostname])
    assert problems(intents[hostname], tree) == []


def test_parse_back_covers_every_case(intents: dict[str, DeviceIntent]) -> None:
    """The small network exercises what the checks look at (else they prove little)."""
    everything = list(intents.values())
    assert any(i.bgp.cluster_id for i in everything)
    assert any(v.static_routes for i in everything for v in i.vrfs)
    assert any(v.neighbors for i in everything for v in i.vrfs)
    assert {c.neighbor is None for i in everything for c in i.l2circuits} == {True, False}
    assert any(
        s.l3 is None and s.policer for i in everything for p in i.ports for s in p.subinterfaces
    )


def test_parse_back_full_model(shipped_intents: dict[str, DeviceIntent]) -> None:
    found = {
        name: problems(intent, read_braces(render_device(intent)))
        for name, intent in shipped_intents.items()
    }
    assert sum(len(i.sites) for i in shipped_intents.values()) >= 3000
    assert found == {name: [] for name in shipped_intents}


RENNES_MUTATIONS = [
    pytest.param(
        '            neighbor 10.0.0.2 {\n                description "pe-lannion";\n            }\n',
        "",
        "missing: protocols > bgp > group IBGP-RR-CLIENTS > neighbor 10.0.0.2",
        id="ibgp-neighbor-removed",
    ),
    pytest.param(
        "            cluster 10.0.0.5;\n",
        "",
        "missing: protocols > bgp > group IBGP-RR-CLIENTS > cluster 10.0.0.5",
        id="cluster-removed",
    ),
    pytest.param(
        'neighbor 10.0.0.1 {\n                description "pe-brest";',
        'neighbor 10.0.0.9 {\n                description "pe-brest";',
        "unexpected: protocols > bgp > group IBGP > neighbor 10.0.0.9",
        id="ibgp-neighbor-wrong-address",
    ),
    pytest.param(
        "group IBGP {",
        "group IBGP-RR-CLIENTS {",
        "missing: protocols > bgp > group IBGP > neighbor 10.0.0.1",
        id="reflector-among-clients",
    ),
    pytest.param(
        "peer-as 5511;",
        "peer-as 5512;",
        "missing: routing-instances > internet > protocols > bgp > group UPSTREAMS"
        " > neighbor 10.0.1.19 > peer-as 5511",
        id="ebgp-wrong-peer-as",
    ),
    pytest.param(
        "vlan-id 103;",
        "vlan-id 104;",
        "missing: interfaces > ge-0/2/0 > unit 103 > vlan-id 103",
        id="site-wrong-vlan",
    ),
    pytest.param(
        "address 10.16.0.10/31;",
        "address 10.16.0.12/31;",
        "missing: interfaces > ge-0/2/0 > unit 103 > family inet > address 10.16.0.10/31",
        id="site-wrong-address",
    ),
    pytest.param(
        "        interface ge-0/2/0.101;\n",
        "",
        "missing: routing-instances > research > interface ge-0/2/0.101",
        id="site-unit-outside-its-vrf",
    ),
    pytest.param(
        "route-distinguisher 10.0.0.5:103;",
        "route-distinguisher 10.0.0.5:104;",
        "missing: routing-instances > research > route-distinguisher 10.0.0.5:103",
        id="vrf-wrong-rd",
    ),
    pytest.param(
        "                route 10.64.0.0/28 next-hop 10.16.0.11;\n",
        "",
        "missing: routing-instances > education > routing-options > static"
        " > route 10.64.0.0/28 next-hop 10.16.0.11",
        id="static-route-removed",
    ),
    pytest.param(
        "virtual-circuit-id 100;",
        "virtual-circuit-id 101;",
        "missing: protocols > l2circuit > neighbor 10.0.0.1 > interface ge-0/3/0.100"
        " > virtual-circuit-id 100",
        id="pseudowire-wrong-id",
    ),
]


@pytest.mark.parametrize(("old", "new", "reported"), RENNES_MUTATIONS)
def test_parse_back_reports(
    old: str, new: str, reported: str, intents: dict[str, DeviceIntent], configs: dict[str, str]
) -> None:
    text = configs["pe-rennes"]
    assert text.count(old) == 1, f"{old!r} should be in the config once"
    assert problems(intents["pe-rennes"], read_braces(text)) == []
    mutated = text.replace(old, new)
    assert reported in problems(intents["pe-rennes"], read_braces(mutated))
    assert reported in problems(intents["pe-rennes"], ccp_tree(mutated))


def test_parse_back_reports_what_the_config_lacks(
    intents: dict[str, DeviceIntent], configs: dict[str, str]
) -> None:
    """The other way round: an intent that holds more than the config."""
    intent = intents["pe-brest"]
    extra = dataclasses.replace(intent.bgp.ibgp[0], address=IPv4Address("10.0.0.99"))
    bigger = dataclasses.replace(
        intent, bgp=dataclasses.replace(intent.bgp, ibgp=(*intent.bgp.ibgp, extra))
    )
    found = problems(bigger, read_braces(configs["pe-brest"]))
    assert found == [f"missing: protocols > bgp > {IBGP_CLIENTS} > neighbor 10.0.0.99"]


@pytest.mark.parametrize(
    ("text", "error"),
    [
        pytest.param("system {\n    host-name x;\n", "left open", id="unclosed"),
        pytest.param("system {\n}\n}\n", "closes nothing", id="extra-close"),
        pytest.param("system {\n    host-name x\n}\n", "ends with none", id="no-semicolon"),
    ],
)
def test_read_braces_rejects(text: str, error: str) -> None:
    with pytest.raises(BraceError, match=error):
        read_braces(text)


def _single_target(vrf: Vrf) -> Vrf:
    own = vrf.route_targets_export
    return dataclasses.replace(vrf, route_targets_import=own)


def test_vrf_with_one_target_uses_vrf_target(intents: dict[str, DeviceIntent]) -> None:
    """A VRF importing only what it exports gets `vrf-target`, not policies."""
    intent = intents["pe-saint-malo"]
    vrf = intent.vrfs[0]
    tree = read_braces(render_device(dataclasses.replace(intent, vrfs=(_single_target(vrf),))))
    instance = tree["routing-instances"][vrf.name]
    assert f"vrf-target target:{vrf.route_targets_export[0]}" in instance
    assert not any(s.startswith(("vrf-import", "vrf-export")) for s in instance)
    assert not any(s.startswith("policy-statement VRF-") for s in tree["policy-options"])
