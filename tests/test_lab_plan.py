"""The lab's layout, computed from the model (no root needed)."""

from __future__ import annotations

from ipaddress import IPv4Address

import pytest

from megalis_net.intent import PortRole
from megalis_net.ipam import Allocations
from megalis_net.lab import LabPlanError, plan_lab
from megalis_net.lab.plan import MANAGEMENT, lab_address_in
from megalis_net.model import Network


def test_one_namespace_per_router_provider_and_pop(
    render_network: tuple[Network, Allocations],
) -> None:
    network, _ = render_network
    plan = plan_lab(*render_network)
    pops = {pop.name for pop in network.topology.pops}
    assert {pe.host for pe in plan.pes} == {d.name for d in network.devices}
    assert {u.name for u in plan.upstreams} == {u.provider for u in network.topology.upstreams}
    assert {a.pop for a in plan.access} == pops
    assert len(set(plan.namespaces)) == len(plan.namespaces)
    assert all(ns.startswith("mgx-") for ns in plan.namespaces)


def test_every_backbone_and_upstream_link_is_one_veth_between_its_ends(
    render_network: tuple[Network, Allocations],
) -> None:
    network, allocations = render_network
    plan = plan_lab(network, allocations)
    expected = len(network.topology.links) + len(network.topology.upstreams)
    assert len(plan.links) == expected
    for veth in plan.links:
        assert veth.netns_a != veth.netns_b
        assert veth.rate_mbps is not None and veth.rate_mbps > 0
    # each backbone port of each PE is used by exactly one veth
    ends = {(v.netns_a, v.name_a) for v in plan.links} | {(v.netns_b, v.name_b) for v in plan.links}
    for pe in plan.pes:
        for port in pe.intent.ports:
            if port.role in (PortRole.BACKBONE, PortRole.UPSTREAM):
                assert (pe.netns, port.name) in ends


def test_upstream_sessions_face_the_pe_addresses(
    render_network: tuple[Network, Allocations],
) -> None:
    plan = plan_lab(*render_network)
    pe_addresses = {
        port.l3.address.ip: port.l3.peer
        for pe in plan.pes
        for port in pe.intent.ports
        if port.role is PortRole.UPSTREAM and port.l3 is not None
    }
    sessions = [s for u in plan.upstreams for s in u.sessions]
    assert len(sessions) == len(pe_addresses) == 4
    for session in sessions:
        assert pe_addresses[session.peer] == session.address.ip
        assert session.address.network.prefixlen == 31
    renater = next(u for u in plan.upstreams if u.name == "renater")
    assert len(renater.sessions) == 2 and renater.announced  # dual-homed, research routes
    internet = [u for u in plan.upstreams if u.name != "renater"]
    assert all(not u.announced for u in internet)  # a default route instead


def test_site_links_carry_the_site_side_of_their_link_net(
    render_network: tuple[Network, Allocations],
) -> None:
    network, allocations = render_network
    plan = plan_lab(network, allocations)
    site_links = plan.site_links()
    assert len(site_links) == len(network.sites)
    for access in plan.access:
        for site in access.sites:
            alloc = allocations.sites[site.site_id]
            assert site.address.ip == alloc.site_address
            assert site.gateway == alloc.pe_address
            assert site.lan_gateway.ip in alloc.lan


def test_management_addresses_keep_the_host_number(
    render_network: tuple[Network, Allocations],
) -> None:
    network, _ = render_network
    plan = plan_lab(*render_network)
    for pe in plan.pes:
        device = next(d for d in network.devices if d.name == pe.host)
        assert pe.management.ip in MANAGEMENT
        assert int(pe.management.ip) & 0xFF == int(device.mgmt_address) & 0xFF
        assert pe.management_port.startswith("mgx-m")


def test_a_management_address_out_of_the_lab_range_is_refused() -> None:
    from ipaddress import IPv4Network

    with pytest.raises(LabPlanError, match="room for hosts"):
        lab_address_in(IPv4Network("10.0.0.0/16"), IPv4Address("10.0.3.1"))
