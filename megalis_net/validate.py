"""Cross-reference checks: the rules no single object can check on its own.

Each check returns every problem it finds (never stops at the first), located
by a path the loader turns into a file and line.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterator
from ipaddress import IPv4Network

from megalis_net.model import Device, LinkRole, PopRole, Preference, Site, Topology, UpstreamKind
from megalis_net.pydantic_errors import Loc

TopologyFinding = tuple[Loc, str]


def _check_unique(topology: Topology) -> Iterator[TopologyFinding]:
    groups: dict[str, list[str]] = {
        "pops": [p.name for p in topology.pops],
        "srlgs": [s.name for s in topology.srlgs],
        "links": [link.name for link in topology.links],
        "upstreams": [u.name for u in topology.upstreams],
        "providers": [p.name for p in topology.providers],
        "l2_services": [s.name for s in topology.l2_services],
    }
    for key, names in groups.items():
        first: dict[str, int] = {}
        for i, name in enumerate(names):
            if name in first:
                yield (key, i, "name"), f"duplicate name {name!r} (first is {key}[{first[name]}])"
            first.setdefault(name, i)
    pops = set(groups["pops"])
    for i, upstream in enumerate(topology.upstreams):
        if upstream.name in pops:
            yield ("upstreams", i, "name"), f"{upstream.name!r} is already a PoP name"
    vpns = [v.community for v in topology.vpns]
    for i, community in enumerate(vpns):
        if vpns.count(community) > 1:
            yield ("vpns", i, "community"), f"community {community.value!r} has more than one VPN"


def _check_ring(topology: Topology) -> Iterator[TopologyFinding]:
    ring_pops = {p.name for p in topology.pops if p.role is PopRole.RING}
    for i, name in enumerate(topology.ring):
        if name not in ring_pops:
            yield ("ring", i), f"unknown ring PoP {name!r}"
    for i, pop in enumerate(topology.pops):
        if pop.role is PopRole.RING and pop.name not in topology.ring:
            yield ("pops", i, "role"), f"ring PoP {pop.name!r} is missing from the ring order"
    if len(topology.ring) < 3:
        yield ("ring",), "a ring needs at least 3 PoPs"
        return
    ring_pairs = {
        frozenset((link.a, link.b)) for link in topology.links if link.role is LinkRole.RING
    }
    order = topology.ring
    for i, name in enumerate(order):
        after = order[(i + 1) % len(order)]
        if frozenset((name, after)) not in ring_pairs:
            yield ("ring", i), f"no ring link between {name!r} and {after!r}"


def _check_links(topology: Topology) -> Iterator[TopologyFinding]:
    pops = {p.name for p in topology.pops}
    srlgs = {s.name for s in topology.srlgs}
    providers = {p.name for p in topology.providers}
    for i, link in enumerate(topology.links):
        for end in ("a", "b"):
            if getattr(link, end) not in pops:
                yield (
                    ("links", i, end),
                    f"link to a missing node: unknown PoP {getattr(link, end)!r}",
                )
        if link.a == link.b:
            yield ("links", i, "b"), "a link cannot join a PoP to itself"
        if link.role not in (LinkRole.RING, LinkRole.EXTENSION):
            yield ("links", i, "role"), "backbone links are ring or extension links"
        yield from _check_refs(("links", i), link.srlgs, srlgs, link.provider, providers)
    linked = {end for link in topology.links for end in (link.a, link.b)}
    for i, pop in enumerate(topology.pops):
        if pop.name not in linked:
            yield ("pops", i, "name"), f"PoP {pop.name!r} has no backbone link"


def _check_refs(
    loc: Loc, used: tuple[str, ...], srlgs: set[str], provider: str, providers: set[str]
) -> Iterator[TopologyFinding]:
    for j, srlg in enumerate(used):
        if srlg not in srlgs:
            yield (*loc, "srlgs", j), f"unknown SRLG {srlg!r}"
    if provider not in providers:
        yield (*loc, "provider"), f"unknown provider {provider!r}"


def _check_upstreams(topology: Topology) -> Iterator[TopologyFinding]:
    pops = {p.name for p in topology.pops}
    srlgs = {s.name for s in topology.srlgs}
    providers = {p.name for p in topology.providers}
    for i, upstream in enumerate(topology.upstreams):
        if upstream.pop not in pops:
            yield ("upstreams", i, "pop"), f"unknown PoP {upstream.pop!r}"
        yield from _check_refs(
            ("upstreams", i), upstream.srlgs, srlgs, upstream.provider, providers
        )
    internet = [u for u in topology.upstreams if u.kind is UpstreamKind.INTERNET]
    if not any(u.preference is Preference.PRIMARY for u in internet):
        yield ("upstreams",), "no primary Internet upstream"
    upstreams = {u.name for u in topology.upstreams}
    for i, service in enumerate(topology.l2_services):
        if service.handoff not in upstreams:
            yield ("l2_services", i, "handoff"), f"unknown upstream {service.handoff!r}"


def _check_pools(topology: Topology) -> Iterator[TopologyFinding]:
    named = topology.pools.named_prefixes()
    for i, (name, prefix) in enumerate(named):
        for other_name, other in named[i + 1 :]:
            if prefix.overlaps(other):
                loc: Loc = ("pools", *name.split("."))
                yield loc, f"pool {prefix} overlaps pool {other_name} ({other})"
    for community in (v.community for v in topology.vpns):
        if community not in topology.pools.site_lans:
            yield ("pools", "site_lans"), f"no site LAN pool for community {community.value!r}"


def _check_routing(topology: Topology) -> Iterator[TopologyFinding]:
    routing = topology.routing
    pops = {p.name for p in topology.pops}
    reflectors = routing.route_reflectors
    for i, pop in enumerate(reflectors):
        if pop not in pops:
            yield ("routing", "route_reflectors", i), f"unknown PoP {pop!r}"
    if len(reflectors) != 2 or len(set(reflectors)) != 2:
        yield ("routing", "route_reflectors"), "name two route reflectors on different PoPs"
    kinds = {u.kind for u in topology.upstreams}
    for kind in sorted(kinds - routing.extranets.keys()):
        yield ("routing", "extranets"), f"no extranet route target for {kind.value} upstreams"
    vpn_ids = {v.vpn_id: v.community.value for v in topology.vpns}
    for kind, number in routing.extranets.items():
        if number in vpn_ids:
            yield (
                ("routing", "extranets", kind.value),
                f"{number} is already the vpn_id of community {vpn_ids[number]!r}",
            )
    if routing.asn in {p.asn for p in topology.providers}:
        yield ("routing", "asn"), f"AS {routing.asn} is also an upstream provider's AS"


def _check_management(topology: Topology) -> Iterator[TopologyFinding]:
    pool = topology.pools.management
    management = topology.management
    for key in ("ntp_servers", "syslog_servers"):
        for i, server in enumerate(getattr(management, key)):
            if server not in pool:
                yield ("management", key, i), f"{server} is outside the management pool {pool}"


def check_topology(topology: Topology) -> list[TopologyFinding]:
    """Every cross-reference problem of the topology."""
    checks = (
        _check_unique,
        _check_ring,
        _check_links,
        _check_upstreams,
        _check_pools,
        _check_routing,
        _check_management,
    )
    return [finding for check in checks for finding in check(topology)]


def check_devices(topology: Topology, devices: list[Device]) -> list[tuple[str, str, str]]:
    """Problems as (host name, field, message); one PE router per PoP."""
    pops = {p.name for p in topology.pops}
    problems = []
    by_pop: dict[str, list[str]] = defaultdict(list)
    for device in devices:
        by_pop[device.pop].append(device.name)
        if device.pop not in pops:
            problems.append((device.name, "data.pop", f"unknown PoP {device.pop!r}"))
        if device.mgmt_address not in topology.pools.management:
            pool = topology.pools.management
            problems.append(
                (
                    device.name,
                    "hostname",
                    f"{device.mgmt_address} is outside the management pool {pool}",
                )
            )
    for pop, names in by_pop.items():
        for name in names[1:]:
            problems.append((name, "data.pop", f"PoP {pop!r} already has router {names[0]!r}"))
    for pop in sorted(pops - by_pop.keys()):
        problems.append(("", "", f"PoP {pop!r} has no PE router"))
    addresses = Counter(d.mgmt_address for d in devices)
    for device in devices:
        if addresses[device.mgmt_address] > 1:
            problems.append(
                (device.name, "hostname", f"management address {device.mgmt_address} is used twice")
            )
    return problems


def check_sites(topology: Topology, sites: list[Site]) -> list[tuple[str, str, str]]:
    """Problems as (site id, column, message)."""
    pops = {p.name for p in topology.pops}
    vpns = {v.community for v in topology.vpns}
    l2_communities = {s.community for s in topology.l2_services}
    offered = topology.traffic.offered_rates_mbps
    problems = []
    for site in sites:
        if site.pop not in pops:
            problems.append((site.id, "pop", f"unknown PoP {site.pop!r}"))
        if site.community not in vpns:
            problems.append(
                (site.id, "community", f"no VPN for community {site.community.value!r}")
            )
        if site.rate_mbps not in offered:
            problems.append(
                (
                    site.id,
                    "rate_mbps",
                    f"{site.rate_mbps} Mb/s is not an offered rate {list(offered)}",
                )
            )
        if site.l2_renater and site.community not in l2_communities:
            problems.append(
                (site.id, "l2_renater", f"no L2 service for community {site.community.value!r}")
            )
    problems += _check_site_addressing(topology, sites)
    problems += _check_vlan_room(topology, sites)
    return problems


def _check_site_addressing(topology: Topology, sites: list[Site]) -> list[tuple[str, str, str]]:
    problems = []
    legacy = [(s.legacy.lan_prefix, s.id) for s in sites if s.legacy]
    for site in sites:
        if site.legacy and site.legacy.gateway not in site.legacy.lan_prefix:
            msg = f"gateway {site.legacy.gateway} is outside the LAN {site.legacy.lan_prefix}"
            problems.append((site.id, "legacy_gateway", msg))
    # Sorting by network makes any overlap show up between neighbours: O(n log n).
    legacy.sort(key=lambda item: (item[0].network_address, item[0].prefixlen))
    widest: tuple[IPv4Network, str] | None = None
    for prefix, site_id in legacy:
        if widest and prefix.overlaps(widest[0]):
            problems.append(
                (site_id, "legacy_lan", f"LAN {prefix} overlaps site {widest[1]!r} ({widest[0]})")
            )
        if widest is None or prefix.broadcast_address > widest[0].broadcast_address:
            widest = (prefix, site_id)
    return problems


def _check_vlan_room(topology: Topology, sites: list[Site]) -> list[tuple[str, str, str]]:
    known = {p.name for p in topology.pops}
    per_pop: dict[str, list[str]] = defaultdict(list)
    for site in sites:
        per_pop[site.pop].append(site.id)
    problems = []
    for pop, ids in sorted(per_pop.items()):
        room = topology.vlan_room(pop) if pop in known else len(ids)
        if len(ids) > room:
            msg = f"PoP {pop!r} has {len(ids)} sites but its access VLANs hold {room}"
            problems.append((ids[room], "pop", msg))
    return problems
