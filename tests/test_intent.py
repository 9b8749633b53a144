"""The per-router intent: what every config must hold, checked on the data itself."""

from __future__ import annotations

from ipaddress import IPv4Address

import pytest

from megalis_net.errors import InputError
from megalis_net.intent import DeviceIntent, MissingAllocation, PortRole, build_intents
from megalis_net.intent.model import PolicyMatch
from megalis_net.ipam import Allocations, load_allocations
from megalis_net.loader import load_network
from megalis_net.model import Community, Network, Platform
from megalis_net.provision import SiteRequest, add_site
from tests.conftest import ROOT, NetworkCopy

Small = tuple[Network, Allocations]


@pytest.fixture(scope="module")
def intents(render_network: Small) -> dict[str, DeviceIntent]:
    return build_intents(*render_network)


def test_ring_and_extension_links_are_symmetric(render_network: Small, intents: dict) -> None:
    network, _ = render_network
    ends: dict[str, list[tuple[str, object]]] = {}
    for intent in intents.values():
        for port in intent.ports_of(PortRole.BACKBONE):
            ends.setdefault(port.description.split()[0], []).append((intent.hostname, port))
    assert set(ends) == {link.name for link in network.topology.links}
    for link, ((_, a), (_, b)) in ends.items():
        assert a.isis_metric == b.isis_metric, link
        assert a.l3.address.network == b.l3.address.network, link
        assert (a.l3.peer, b.l3.peer) == (b.l3.address.ip, a.l3.address.ip), link


def test_every_pe_peers_with_two_route_reflectors_on_different_pops(intents: dict) -> None:
    reflectors = {i.hostname: i for i in intents.values() if i.bgp.cluster_id is not None}
    assert len(reflectors) == 2
    assert len({r.pop for r in reflectors.values()}) == 2
    rr_loopbacks = {r.router_id for r in reflectors.values()}
    for intent in intents.values():
        peers = {n.address for n in intent.bgp.ibgp}
        if intent.hostname in reflectors:
            assert peers == {i.router_id for i in intents.values()} - {intent.router_id}
            clients = {n.address for n in intent.bgp.ibgp if n.route_reflector_client}
            assert clients == peers - rr_loopbacks
        else:
            assert peers == rr_loopbacks


def test_renater_routes_reach_only_the_research_vrf(intents: dict) -> None:
    renater_target = "65010:2"
    for intent in intents.values():
        for vrf in intent.vrfs:
            if vrf.name in ("research", "renater"):
                assert renater_target in vrf.route_targets_import
            else:
                assert renater_target not in vrf.route_targets_import, (intent.hostname, vrf.name)


def test_renater_extranet_imports_only_research(intents: dict) -> None:
    renater = next(v for v in intents["pe-rennes"].vrfs if v.name == "renater")
    assert renater.route_targets_import == ("65010:2", "65010:103")


def test_primary_internet_is_preferred_and_secondary_prepended(intents: dict) -> None:
    def policy(host: str, name: str) -> object:
        return next(p for p in intents[host].policies if p.name == name)

    primary_in = policy("pe-rennes", "INTERNET-PRIMARY-IN")
    secondary_in = policy("pe-brest", "INTERNET-SECONDARY-IN")
    assert primary_in.local_preference > secondary_in.local_preference
    assert policy("pe-brest", "INTERNET-SECONDARY-OUT").prepend == (65010, 65010, 65010)
    assert policy("pe-rennes", "INTERNET-PRIMARY-OUT").prepend == ()
    neighbors = [n for v in intents["pe-brest"].vrfs for n in v.neighbors]
    assert {n.remote_as for n in neighbors} == {15557, 2200}


def test_community_vrfs_only_where_the_community_has_sites(
    render_network: Small, intents: dict
) -> None:
    network, _ = render_network
    for intent in intents.values():
        communities = {s.community.value for s in network.sites if s.pop == intent.pop}
        vrfs = {v.name for v in intent.vrfs} - {"internet", "renater"}
        assert vrfs == communities, intent.hostname


def test_site_attachment_carries_vlan_address_vrf_policer_and_route(
    render_network: Small, intents: dict
) -> None:
    network, allocations = render_network
    for site in network.sites:
        alloc = allocations.sites[site.id]
        pe = next(i for i in intents.values() if i.pop == site.pop)
        attachment = next(a for a in pe.sites if a.site_id == site.id)
        assert attachment.vlan == alloc.vlan
        assert attachment.interface.endswith(f".{alloc.vlan}")
        assert attachment.address.ip == alloc.pe_address
        assert attachment.vrf == site.community.value
        assert any(p.rate_mbps == site.rate_mbps for p in pe.policers)
        vrf = next(v for v in pe.vrfs if v.name == site.community.value)
        route = next(r for r in vrf.static_routes if r.prefix == alloc.lan)
        assert route.next_hop == alloc.site_address


def test_l2_service_is_a_pseudowire_or_a_local_cross_connect(
    render_network: Small, intents: dict
) -> None:
    _, allocations = render_network
    rennes, brest = intents["pe-rennes"], intents["pe-brest"]
    remote = {c.name: c for c in brest.l2circuits}["R-0003"]
    far_end = {c.name: c for c in rennes.l2circuits}["R-0003"]
    assert (remote.neighbor, far_end.neighbor) == (rennes.router_id, brest.router_id)
    assert remote.pw_id == far_end.pw_id == allocations.sites["R-0003"].handoff_vlan
    local = {c.name: c for c in rennes.l2circuits}["R-0005"]
    assert local.neighbor is None and local.local_interface is not None
    handoff = rennes.ports_of(PortRole.HANDOFF)[0]
    assert {s.name for s in handoff.subinterfaces} == {far_end.interface, local.local_interface}
    assert not intents["pe-vannes"].l2circuits


def test_platform_names_interfaces(render_network: Small) -> None:
    names = {
        p: build_intents(*render_network, platform=p)["pe-brest"].ports[0].name for p in Platform
    }
    assert names == {
        Platform.FRR: "bb0",
        Platform.IOSXR: "TenGigE0/0/0/0",
        Platform.JUNOS: "xe-0/0/0",
    }


def test_unallocated_site_is_refused(render_network: Small) -> None:
    network, allocations = render_network
    partial = Allocations(allocations.loopbacks, allocations.links, {})
    with pytest.raises(MissingAllocation, match=r"site R-0001 has no current allocation \(and 5"):
        build_intents(network, partial)


def test_a_new_site_changes_only_its_pe_and_the_handoff_pe(render_network: Small) -> None:
    network, allocations = render_network
    request = SiteRequest("Labo X", "vannes", Community.RESEARCH, "100M", l2_renater=True)
    change = add_site(network, allocations, request)
    before = build_intents(network, allocations)
    after = build_intents(change.network, change.allocations)
    changed = {name for name in after if after[name] != before[name]}
    assert changed == {"pe-vannes", "pe-rennes"}


def test_loopbacks_are_router_ids_and_isis_system_ids(intents: dict) -> None:
    for intent in intents.values():
        system_id = intent.isis.net.split(".")[2:5]
        octets = "".join(system_id)
        assert IPv4Address(".".join(str(int(octets[i : i + 3])) for i in range(0, 12, 3))) == (
            intent.router_id
        )


def test_nothing_private_is_announced_upstream() -> None:
    network = load_network(ROOT / "topology", ROOT / "inventory")
    intents = build_intents(network, load_allocations(ROOT / "inventory"))
    outs = [p for i in intents.values() for p in i.policies if p.name.endswith("-OUT")]
    assert len(outs) == 4
    assert all(p.match is PolicyMatch.ANNOUNCED and p.prefixes == () for p in outs)


def test_private_announced_prefix_is_refused_with_its_line(network_copy: NetworkCopy) -> None:
    path = network_copy.edit(
        "topology/routing.yaml", "announced_prefixes: []", "announced_prefixes: [10.64.0.0/12]"
    )
    with pytest.raises(InputError) as caught:
        load_network(network_copy.topology, network_copy.inventory)
    message = str(caught.value.problems[0])
    assert message.startswith(f"{path}:")
    assert ": routing.announced_prefixes: 10.64.0.0/12 is private space" in message


def test_management_plane_is_on_every_router(render_network: Small, intents: dict) -> None:
    from megalis_net.render import render_device

    network, allocations = render_network
    for platform in (Platform.IOSXR, Platform.JUNOS):
        for intent in build_intents(network, allocations, platform).values():
            plane = intent.management_plane
            assert plane.snmp_location.endswith(network.topology.pop(intent.pop).city)
            text = render_device(intent)
            for server in (*plane.ntp_servers, *plane.syslog_servers):
                assert f" {server}" in text, (platform, intent.hostname, server)
            assert plane.snmp_location in text


def test_management_server_outside_the_pool_is_located(network_copy: NetworkCopy) -> None:
    path = network_copy.edit("topology/management.yaml", "10.0.2.252", "192.0.2.9")
    with pytest.raises(InputError) as caught:
        load_network(network_copy.topology, network_copy.inventory)
    assert str(caught.value.problems[0]) == (
        f"{path}:8: management.syslog_servers[0]: 192.0.2.9 is outside the management pool"
        " 10.0.2.0/24"
    )
