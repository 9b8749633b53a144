"""Allocation: deterministic, stable, persisted, and loud when a pool runs dry."""

from __future__ import annotations

import random
from ipaddress import IPv4Network
from pathlib import Path

import pytest

from megalis_net.errors import InputError
from megalis_net.ipam import (
    SITE_ALLOCATIONS_FILE,
    Allocations,
    PoolExhausted,
    allocate,
    load_allocations,
    save_allocations,
)
from megalis_net.ipam.allocate import LanOverlap
from megalis_net.ipam.store import format_allocations_yaml, format_site_allocations
from megalis_net.loader import load_network
from megalis_net.model import Network, Site
from tests.conftest import ROOT, NetworkCopy


@pytest.fixture(scope="module")
def shipped() -> Network:
    return load_network(ROOT / "topology", ROOT / "inventory")


def _files(allocations: Allocations) -> tuple[str, str]:
    return format_allocations_yaml(allocations), format_site_allocations(allocations)


def test_shipped_inventory_is_fully_allocated(shipped: Network) -> None:
    report = allocate(shipped, load_allocations(ROOT / "inventory"))
    assert not report.changed, report.added[:3]
    assert not report.orphans
    assert len(report.allocations.sites) == len(shipped.sites) == 3000


def test_same_sites_in_any_order_give_the_same_allocations(shipped: Network) -> None:
    reference = allocate(shipped, Allocations()).allocations
    for seed in (1, 2):
        sites = list(shipped.sites)
        random.Random(seed).shuffle(sites)
        shuffled = shipped.model_copy(update={"sites": tuple(sites)})
        assert _files(allocate(shuffled, Allocations()).allocations) == _files(reference)


def test_shuffled_site_file_allocates_identically(network_copy: NetworkCopy) -> None:
    sites_file = network_copy.inventory / "sites.csv"
    header, *rows = sites_file.read_text().splitlines(keepends=True)
    network = load_network(network_copy.topology, network_copy.inventory)
    first = allocate(network, Allocations()).allocations
    sites_file.write_text(header + "".join(reversed(rows)))
    network = load_network(network_copy.topology, network_copy.inventory)
    assert _files(allocate(network, Allocations()).allocations) == _files(first)


def test_every_site_resource_is_unique(shipped: Network) -> None:
    sites = allocate(shipped, Allocations()).allocations.sites.values()
    vlans = [(a.pop, a.port, v) for a in sites for v in (a.vlan, a.l2_vlan) if v is not None]
    assert len(vlans) == len(set(vlans))
    nets = [a.link_net for a in sites]
    assert len(nets) == len(set(nets)) and all(n.prefixlen == 31 for n in nets)
    handoffs = [a.handoff_vlan for a in sites if a.handoff_vlan is not None]
    assert len(handoffs) == len(set(handoffs)) == sum(s.l2_renater for s in shipped.sites)


def test_adding_a_site_moves_nothing_else(shipped: Network) -> None:
    before = allocate(shipped, Allocations()).allocations
    newcomer = replace_site(shipped, "MEG2-00001", pop="brest", legacy=None)
    grown = shipped.model_copy(update={"sites": (*shipped.sites, newcomer)})
    after = allocate(grown, before)
    assert after.added == (after.added[0],) and "MEG2-00001" in after.added[0]
    assert {k: v for k, v in after.allocations.sites.items() if k != "MEG2-00001"} == dict(
        before.sites
    )
    new = after.allocations.sites["MEG2-00001"]
    assert new.lan.subnet_of(shipped.topology.pools.site_lans[newcomer.community])
    assert dict(after.allocations.loopbacks) == dict(before.loopbacks)


def replace_site(network: Network, new_id: str, **changes: object) -> Site:
    template = network.sites[0]
    return template.model_copy(update={"id": new_id, "name": f"New {new_id}", **changes})


def test_removed_site_stays_reserved_until_released(shipped: Network) -> None:
    before = allocate(shipped, Allocations()).allocations
    gone = shipped.sites[10]
    shrunk = shipped.model_copy(update={"sites": shipped.sites[:10] + shipped.sites[11:]})
    kept = allocate(shrunk, before)
    assert kept.orphans == (f"site {gone.id}",)
    assert kept.allocations.sites[gone.id] == before.sites[gone.id]
    released = allocate(shrunk, before, release_orphans=True)
    assert released.released == (f"site {gone.id}",)
    assert gone.id not in released.allocations.sites
    others = {k: v for k, v in before.sites.items() if k != gone.id}
    assert dict(released.allocations.sites) == others


def test_site_moved_to_another_pop_keeps_its_addresses(shipped: Network) -> None:
    before = allocate(shipped, Allocations()).allocations
    site = next(s for s in shipped.sites if s.pop == "lannion" and not s.l2_renater)
    moved = site.model_copy(update={"pop": "brest"})
    sites = tuple(moved if s.id == site.id else s for s in shipped.sites)
    after = allocate(shipped.model_copy(update={"sites": sites}), before)
    old, new = before.sites[site.id], after.allocations.sites[site.id]
    assert after.moved and site.id in after.moved[0]
    assert (new.pop, new.link_net, new.lan) == ("brest", old.link_net, old.lan)
    brest_vlans = {(a.port, a.vlan) for a in before.sites.values() if a.pop == "brest"}
    assert (new.port, new.vlan) not in brest_vlans


@pytest.mark.parametrize(
    ("old", "new", "pool"),
    [
        ("loopbacks: 10.0.0.0/24", "loopbacks: 10.0.0.0/29", "pool loopbacks (10.0.0.0/29)"),
        ("backbone_links: 10.0.1.0/24", "backbone_links: 10.0.1.0/28", "pool backbone_links"),
        ("site_links: 10.16.0.0/16", "site_links: 10.16.0.0/30", "pool site_links"),
        (
            "local-government: 10.112.0.0/12",
            "local-government: 10.112.0.0/29",
            "pool site_lans.local-government (10.112.0.0/29) is exhausted: no free /28",
        ),
    ],
    ids=["loopbacks", "backbone-links", "site-links", "community-lans"],
)
def test_exhausted_pool_is_named(network_copy: NetworkCopy, old: str, new: str, pool: str) -> None:
    network_copy.edit("topology/pools.yaml", old, new)
    network = load_network(network_copy.topology, network_copy.inventory)
    with pytest.raises(PoolExhausted, match=pool.replace("(", r"\(").replace(")", r"\)")):
        allocate(network, Allocations())


def test_vlans_spill_to_the_next_access_port_then_run_out(network_copy: NetworkCopy) -> None:
    network_copy.edit("topology/pools.yaml", "{first: 100, last: 3999}", "{first: 100, last: 101}")
    network = load_network(network_copy.topology, network_copy.inventory)
    research = next(s for s in network.sites if s.l2_renater)  # two VLANs at brest
    extra = research.model_copy(
        update={"id": "T-0009", "name": "x", "l2_renater": False, "legacy": None}
    )
    port_1 = allocate(network.model_copy(update={"sites": (*network.sites, extra)}), Allocations())
    assert (port_1.allocations.sites["T-0009"].port, port_1.allocations.sites["T-0009"].vlan) == (
        1,
        100,
    )
    crowd = [extra.model_copy(update={"id": f"T-001{i}"}) for i in range(3)]
    with pytest.raises(PoolExhausted, match="access_vlans at PoP brest"):
        allocate(network.model_copy(update={"sites": (*network.sites, *crowd)}), Allocations())


def test_allocations_round_trip_through_files(shipped: Network, tmp_path: Path) -> None:
    allocations = allocate(shipped, Allocations()).allocations
    assert save_allocations(tmp_path, allocations)
    assert load_allocations(tmp_path).same_as(allocations)
    assert save_allocations(tmp_path, allocations) == []  # unchanged files are not rewritten


def test_bad_allocation_rows_are_located(network_copy: NetworkCopy) -> None:
    network = load_network(network_copy.topology, network_copy.inventory)
    save_allocations(network_copy.inventory, allocate(network, Allocations()).allocations)
    path = network_copy.inventory / SITE_ALLOCATIONS_FILE
    lines = path.read_text().splitlines(keepends=True)
    lines[2] = lines[2].replace(",lorient,0,100,", ",lorient,0,abc,")
    lines.append(lines[1].replace("T-0001", "T-0099"))  # same VLAN and link net as T-0001
    path.write_text("".join(lines))
    with pytest.raises(InputError) as caught:
        load_allocations(network_copy.inventory)
    messages = [str(p) for p in caught.value.problems]
    assert any(":3: bad allocation row" in m for m in messages), messages
    assert any(":6: vlan: already allocated to site 'T-0001'" in m for m in messages), messages
    assert any(":6: link_net: already allocated to site 'T-0001'" in m for m in messages)


def test_allocation_yaml_errors_name_the_line(network_copy: NetworkCopy) -> None:
    path = network_copy.inventory / "allocations.yaml"
    path.write_text(path.read_text().replace("pe-brest: 10.0.0.1", "pe-brest: 10.0.0.300"))
    with pytest.raises(InputError, match=r"allocations.yaml:4: loopbacks.pe-brest"):
        load_allocations(network_copy.inventory)


def test_link_nets_are_slash_31s_inside_their_pool(shipped: Network) -> None:
    links = load_allocations(ROOT / "inventory").links
    pool = shipped.topology.pools.backbone_links
    assert set(links) == {link.name for link in shipped.topology.backbone_links}
    assert all(net.prefixlen == 31 and net.subnet_of(pool) for net in links.values())
    assert len(set(links.values())) == len(links)
    assert IPv4Network("10.0.1.0/31") in links.values()


def test_imported_lan_overlapping_a_pool_lan_is_refused(network_copy: NetworkCopy) -> None:
    network = load_network(network_copy.topology, network_copy.inventory)
    allocations = allocate(network, Allocations()).allocations
    pool_lan = allocations.sites["T-0004"].lan  # T-0004 has no legacy LAN: its LAN is a pool one
    site = network.sites[0]
    legacy = site.legacy.model_copy(  # type: ignore[union-attr]
        update={"lan_prefix": pool_lan, "gateway": pool_lan[1]}
    )
    imported = site.model_copy(update={"id": "T-0005", "name": "Imported", "legacy": legacy})
    grown = network.model_copy(update={"sites": (*network.sites, imported)})
    with pytest.raises(LanOverlap, match=f"LAN {pool_lan} of site T-000[45] overlaps"):
        allocate(grown, allocations)
