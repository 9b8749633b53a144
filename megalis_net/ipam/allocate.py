"""Allocate what the network needs, keeping every allocation already made.

Rules:
- deterministic: what is new is allocated in sorted order (routers and links
  by name, sites by id), each taking the lowest free resource, so the order
  of the site file never matters;
- stable: an existing allocation is kept as long as it is still valid for its
  site (a site moved to another PoP gets a new VLAN there, nothing else);
- nothing is freed unless asked: allocations of sites, routers or links no
  longer in the model stay reserved until ``release_orphans``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from ipaddress import IPv4Network

from megalis_net.errors import MegalisError
from megalis_net.ipam.model import Allocations, SiteAllocation
from megalis_net.ipam.pools import AddressPool, VlanPool
from megalis_net.model import Community, Network, Site, Topology


@dataclass(frozen=True)
class AllocationReport:
    allocations: Allocations
    added: tuple[str, ...]
    moved: tuple[str, ...]
    orphans: tuple[str, ...]
    released: tuple[str, ...]

    @property
    def changed(self) -> bool:
        return bool(self.added or self.moved or self.released)


def allocate(
    network: Network, current: Allocations, release_orphans: bool = False
) -> AllocationReport:
    """Fill in every missing allocation of ``network`` on top of ``current``."""
    added: list[str] = []
    orphans: list[str] = []
    released: list[str] = []
    topology = network.topology
    loopbacks = _allocate_names(
        "loopback",
        sorted(d.name for d in network.devices),
        {k: IPv4Network(v) for k, v in current.loopbacks.items()},
        ("loopbacks", topology.pools.loopbacks, 32, 1),
        release_orphans,
        (added, orphans, released),
    )
    links = _allocate_names(
        "link",
        sorted(link.name for link in topology.backbone_links),
        dict(current.links),
        ("backbone_links", topology.pools.backbone_links, 31, 0),
        release_orphans,
        (added, orphans, released),
    )
    sites, moved = _allocate_sites(
        network, current.sites, release_orphans, added, orphans, released
    )
    _check_lans_disjoint(sites)
    allocations = Allocations(
        loopbacks={k: v.network_address for k, v in loopbacks.items()},
        links=links,
        sites=sites,
    )
    return AllocationReport(
        allocations, tuple(added), tuple(moved), tuple(orphans), tuple(released)
    )


def _allocate_names(
    what: str,
    names: list[str],
    current: Mapping[str, IPv4Network],
    pool_spec: tuple[str, IPv4Network, int, int],
    release_orphans: bool,
    log: tuple[list[str], list[str], list[str]],
) -> dict[str, IPv4Network]:
    added, orphans, released = log
    wanted = set(names)
    kept = {k: v for k, v in current.items() if k in wanted or not release_orphans}
    for name in sorted(current.keys() - wanted):
        (released if release_orphans else orphans).append(f"{what} {name}")
    pool_name, prefix, length, reserve = pool_spec
    pool = AddressPool(pool_name, prefix, kept.values(), reserve_first=reserve)
    for name in names:
        if name not in kept:
            kept[name] = pool.take(length)
            added.append(f"{what} {name} {kept[name]}")
    return dict(sorted(kept.items()))


def placement_valid(topology: Topology, site: Site, alloc: SiteAllocation) -> bool:
    """Whether the site's VLANs are still right for it: its PoP, a port it has, the
    range, and an L2 VLAN exactly when it has the L2 service."""
    vlans = topology.pools.access_vlans
    in_range = [alloc.vlan] + ([alloc.l2_vlan] if alloc.l2_vlan is not None else [])
    return (
        alloc.pop == site.pop
        and alloc.port < topology.pop(site.pop).access_ports
        and all(vlans.first <= v <= vlans.last for v in in_range)
        and (alloc.l2_vlan is not None) == site.l2_renater
    )


def _kept_sites(
    network: Network, current: Mapping[str, SiteAllocation], release_orphans: bool
) -> tuple[dict[str, SiteAllocation], dict[str, SiteAllocation], list[str]]:
    """Allocations kept as they are, and those whose site needs a new placement."""
    by_id = {s.id: s for s in network.sites}
    kept: dict[str, SiteAllocation] = {}
    replace_placement: dict[str, SiteAllocation] = {}
    gone = []
    for site_id, alloc in current.items():
        site = by_id.get(site_id)
        if site is None:
            gone.append(site_id)
            if not release_orphans:
                kept[site_id] = alloc
        elif placement_valid(network.topology, site, alloc):
            kept[site_id] = _with_lan(site, alloc)
        else:
            replace_placement[site_id] = _with_lan(site, alloc)
    return kept, replace_placement, sorted(gone)


def _with_lan(site: Site, alloc: SiteAllocation) -> SiteAllocation:
    # An imported site's LAN is the one it had: the site file is the authority.
    if site.legacy and alloc.lan != site.legacy.lan_prefix:
        return replace(alloc, lan=site.legacy.lan_prefix)
    return alloc


class LanOverlap(MegalisError):
    """Two sites would hold overlapping LANs (a legacy LAN imported onto a pool LAN)."""


def _check_lans_disjoint(sites: Mapping[str, SiteAllocation]) -> None:
    # Sorted by start, an overlap always shows between neighbours (widest kept).
    ordered = sorted(sites.values(), key=lambda a: (a.lan.network_address, a.lan.prefixlen))
    widest: SiteAllocation | None = None
    for alloc in ordered:
        if widest is not None and alloc.lan.overlaps(widest.lan):
            raise LanOverlap(
                f"LAN {alloc.lan} of site {alloc.site} overlaps LAN {widest.lan}"
                f" of site {widest.site}"
            )
        if widest is None or alloc.lan.broadcast_address > widest.lan.broadcast_address:
            widest = alloc


class _SitePools:
    """Every pool a site draws from, around what ``held`` already uses."""

    def __init__(self, network: Network, held: Iterable[SiteAllocation]) -> None:
        topology = network.topology
        held = list(held)
        pools = topology.pools
        self.links = AddressPool("site_links", pools.site_links, (a.link_net for a in held))
        lans = [a.lan for a in held] + [s.legacy.lan_prefix for s in network.sites if s.legacy]
        self.lans = {
            community: AddressPool(f"site_lans.{community.value}", prefix, lans)
            for community, prefix in pools.site_lans.items()
        }
        self.lan_length = pools.new_site_lan_length
        vlans = pools.access_vlans
        self.vlans = {
            pop.name: VlanPool(
                f"access_vlans at PoP {pop.name}",
                pop.access_ports,
                vlans.first,
                vlans.last,
                [(a.port, v) for a in held if a.pop == pop.name for v in _vlans_of(a)],
            )
            for pop in topology.pops
        }
        self.handoff = VlanPool(
            "access_vlans on the L2 hand-off port",
            1,
            vlans.first,
            vlans.last,
            [(0, a.handoff_vlan) for a in held if a.handoff_vlan is not None],
        )

    def lan(self, community: Community) -> IPv4Network:
        return self.lans[community].take(self.lan_length)

    def place(self, site: Site, alloc: SiteAllocation) -> SiteAllocation:
        port, vlans = self.vlans[site.pop].take(2 if site.l2_renater else 1)
        handoff = alloc.handoff_vlan
        if site.l2_renater and handoff is None:
            handoff = self.handoff.take()[1][0]
        return replace(
            alloc,
            pop=site.pop,
            port=port,
            vlan=vlans[0],
            l2_vlan=vlans[1] if site.l2_renater else None,
            handoff_vlan=handoff if site.l2_renater else None,
        )


def _vlans_of(alloc: SiteAllocation) -> list[int]:
    return [alloc.vlan] + ([alloc.l2_vlan] if alloc.l2_vlan is not None else [])


def _allocate_sites(
    network: Network,
    current: Mapping[str, SiteAllocation],
    release_orphans: bool,
    added: list[str],
    orphans: list[str],
    released: list[str],
) -> tuple[dict[str, SiteAllocation], list[str]]:
    kept, to_place, gone = _kept_sites(network, current, release_orphans)
    (released if release_orphans else orphans).extend(f"site {s}" for s in gone)
    # A re-placed site keeps its link net, LAN and hand-off VLAN: hold them too.
    pools = _SitePools(network, list(kept.values()) + _unplaced(to_place.values()))
    moved = []
    for site in sorted(network.sites, key=lambda s: s.id):
        if site.id in kept:
            continue
        previous = to_place.get(site.id)
        if previous is not None:
            kept[site.id] = pools.place(site, previous)
            moved.append(f"site {site.id} {_describe(kept[site.id])}")
            continue
        lan = site.legacy.lan_prefix if site.legacy else pools.lan(site.community)
        fresh = SiteAllocation(site.id, site.pop, 0, 0, pools.links.take(31), lan)
        kept[site.id] = pools.place(site, fresh)
        added.append(f"site {site.id} {_describe(kept[site.id])}")
    return dict(sorted(kept.items())), moved


def _unplaced(allocs: Iterable[SiteAllocation]) -> list[SiteAllocation]:
    """Allocations whose VLANs are given up: only their addresses stay held."""
    return [replace(a, pop="", l2_vlan=None) for a in allocs]


def _describe(alloc: SiteAllocation) -> str:
    l2 = f" l2 vlan {alloc.l2_vlan} hand-off vlan {alloc.handoff_vlan}" if alloc.l2_vlan else ""
    return f"{alloc.pop} port {alloc.port} vlan {alloc.vlan} {alloc.link_net} lan {alloc.lan}{l2}"
