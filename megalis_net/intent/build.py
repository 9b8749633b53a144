"""Model + allocations -> one ``DeviceIntent`` per router.

``build_intents`` reads as the list of features a PE carries; each feature
is one small function. Everything derived (addresses, names, policies) is
computed here, so the templates only format.
"""

from __future__ import annotations

import unicodedata
from collections import defaultdict
from collections.abc import Collection
from dataclasses import dataclass
from functools import cache, cached_property
from ipaddress import IPv4Address, IPv4Interface, IPv4Network

from megalis_net.errors import MegalisError
from megalis_net.intent.model import (
    Bgp,
    BgpNeighbor,
    DeviceIntent,
    Isis,
    IsisInterface,
    L2Circuit,
    Layer3,
    ManagementPlane,
    Policer,
    PolicyMatch,
    Port,
    PortRole,
    RoutePolicy,
    SiteAttachment,
    StaticRoute,
    SubInterface,
    Vrf,
)
from megalis_net.intent.naming import NAMING, Naming
from megalis_net.ipam import (
    Allocations,
    SiteAllocation,
    placement_valid,
    route_distinguisher,
    route_target,
)
from megalis_net.model import (
    Community,
    Device,
    Network,
    Platform,
    Preference,
    Site,
    Upstream,
    UpstreamKind,
)

ISIS_INSTANCE = "megalis"
VPN_LABEL_BASE = 1000  # per-VRF label = base + VPN number
POLICER_BURST_MS = 10
POLICER_MIN_BURST_BYTES = 15_000  # ten full frames
DESCRIPTION_MAX = 80


class MissingAllocation(MegalisError):
    """The model holds something the allocations do not cover yet."""


@cache
def ascii_description(text: str) -> str:
    """Descriptions every platform accepts: ASCII, no quotes, bounded length.

    Examples:
        >>> ascii_description('MEG1-00001 École "Jules Ferry"')
        'MEG1-00001 Ecole Jules Ferry'
    """
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return " ".join(folded.replace('"', "").replace("'", " ").split())[:DESCRIPTION_MAX]


def isis_net(area: str, loopback: IPv4Address) -> str:
    """The NET whose system id spells the loopback.

    Examples:
        >>> isis_net("49.0001", IPv4Address("10.0.0.5"))
        '49.0001.0100.0000.0005.00'
    """
    digits = "".join(f"{octet:03d}" for octet in loopback.packed)
    return f"{area}.{digits[0:4]}.{digits[4:8]}.{digits[8:12]}.00"


@cache
def _pe_side(link_net: IPv4Network) -> IPv4Interface:
    # Cached: building 3000 IPv4Interface objects twice per `site add` costs 0.3 s.
    return IPv4Interface((link_net.network_address, link_net.prefixlen))


@cache
def policer_for(rate_mbps: int) -> Policer:
    burst = max(rate_mbps * 1_000_000 // 8 * POLICER_BURST_MS // 1000, POLICER_MIN_BURST_BYTES)
    return Policer(f"RATE-{rate_mbps}M", rate_mbps, burst)


def policy_name(upstream: Upstream, direction: str) -> str:
    return f"{upstream.kind.value}-{upstream.preference.value}-{direction}".upper()


@dataclass(frozen=True)
class _Index:
    """Lookups shared by every device of one build."""

    network: Network
    allocations: Allocations

    @cached_property
    def device_at(self) -> dict[str, Device]:
        return {d.pop: d for d in self.network.devices}

    @cached_property
    def sites_at(self) -> dict[str, list[tuple[Site, SiteAllocation]]]:
        by_pop: dict[str, list[tuple[Site, SiteAllocation]]] = defaultdict(list)
        for site in self.network.sites:
            if not site.active:
                continue  # still on Mégalis I: nothing of it on the routers yet
            alloc = self.allocations.sites[site.id]
            by_pop[site.pop].append((site, alloc))
        for attached in by_pop.values():
            attached.sort(key=lambda pair: (pair[1].port, pair[1].vlan))
        return by_pop

    @cached_property
    def l2_sites(self) -> list[tuple[Site, SiteAllocation]]:
        pairs = (pair for attached in self.sites_at.values() for pair in attached)
        return sorted((p for p in pairs if p[0].l2_renater), key=lambda p: p[1].handoff_vlan or 0)

    def loopback(self, pop: str) -> IPv4Address:
        return self.allocations.loopbacks[self.device_at[pop].name]


def check_allocated(network: Network, allocations: Allocations) -> None:
    """Raise MissingAllocation naming the first thing not allocated (and how many)."""
    missing = [f"router {d.name}" for d in network.devices if d.name not in allocations.loopbacks]
    missing += [
        f"link {link.name}"
        for link in network.topology.backbone_links
        if link.name not in allocations.links
    ]
    for site in network.sites:
        alloc = allocations.sites.get(site.id)
        if alloc is None and not site.active:
            continue  # allocated when its migration wave runs
        if alloc is None or not placement_valid(network.topology, site, alloc):
            missing.append(f"site {site.id}")
    if missing:
        more = f" (and {len(missing) - 1} more)" if len(missing) > 1 else ""
        raise MissingAllocation(
            f"{missing[0]} has no current allocation{more}: run `megalis-net allocate`"
        )


def build_intents(
    network: Network,
    allocations: Allocations,
    platform: Platform | None = None,
    devices: Collection[str] | None = None,
) -> dict[str, DeviceIntent]:
    """One intent per router (or per router of ``devices``), by name.

    ``platform`` overrides the inventory's platform of every router.
    """
    check_allocated(network, allocations)
    index = _Index(network, allocations)
    return {
        device.name: build_device(index, device, platform or device.platform)
        for device in sorted(network.devices, key=lambda d: d.name)
        if devices is None or device.name in devices
    }


def devices_of_site(network: Network, site: Site) -> set[str]:
    """The routers whose config holds something of ``site``: its PE, and the
    hand-off PE when the site has the L2 service."""
    pops = {site.pop}
    handoff = network.topology.l2_handoff_pop
    if site.l2_renater and handoff is not None:
        pops.add(handoff)
    return {d.name for d in network.devices if d.pop in pops}


def build_device(index: _Index, device: Device, platform: Platform) -> DeviceIntent:
    naming = NAMING[platform]
    loopback = index.allocations.loopbacks[device.name]
    ports = (
        _backbone_ports(index, device, naming)
        + _upstream_ports(index, device, naming)
        + _access_ports(index, device, naming)
        + _handoff_ports(index, device, naming)
    )
    topology = index.network.topology
    return DeviceIntent(
        hostname=device.name,
        platform=platform,
        pop=device.pop,
        loopback=naming.loopback,
        router_id=loopback,
        management=naming.management,
        management_address=IPv4Interface(
            (device.mgmt_address, topology.pools.management.prefixlen)
        ),
        management_plane=_management_plane(index, device),
        ports=ports,
        isis=_isis(index, loopback, naming, ports),
        ldp_interfaces=tuple(p.name for p in ports if p.role is PortRole.BACKBONE),
        bgp=_bgp(index, device, loopback, naming),
        vrfs=_community_vrfs(index, device, naming) + _extranet_vrfs(index, device, naming),
        policies=_policies(index, device),
        policers=tuple(
            policer_for(rate)
            for rate in sorted({site.rate_mbps for site, _ in index.sites_at.get(device.pop, [])})
        ),
        sites=_site_attachments(index, device, naming),
        l2circuits=_l2circuits(index, device, naming),
    )


def _management_plane(index: _Index, device: Device) -> ManagementPlane:
    topology = index.network.topology
    pop = topology.pop(device.pop)
    return ManagementPlane(
        domain=topology.management.domain,
        ntp_servers=topology.management.ntp_servers,
        syslog_servers=topology.management.syslog_servers,
        snmp_location=ascii_description(f"Megalis II PoP {pop.city}"),
        snmp_contact=topology.management.snmp_contact,
    )


def _backbone_ports(index: _Index, device: Device, naming: Naming) -> tuple[Port, ...]:
    ports = []
    mine = [link for link in index.network.topology.links if device.pop in (link.a, link.b)]
    for n, link in enumerate(mine):
        net = index.allocations.links[link.name]
        a_side = link.a == device.pop
        address, peer = net[0], net[1]
        if not a_side:
            address, peer = peer, address
        far = index.device_at[link.b if a_side else link.a].name
        ports.append(
            Port(
                name=naming.port(PortRole.BACKBONE, n),
                role=PortRole.BACKBONE,
                description=f"{link.name} {far}",
                speed_mbps=link.capacity_mbps,
                l3=Layer3(IPv4Interface((address, 31)), peer),
                isis_metric=link.metric,
                link=link.name,
            )
        )
    return tuple(ports)


def _upstreams_at(index: _Index, pop: str) -> list[Upstream]:
    return [u for u in index.network.topology.upstreams if u.pop == pop]


def _upstream_ports(index: _Index, device: Device, naming: Naming) -> tuple[Port, ...]:
    ports = []
    for n, upstream in enumerate(_upstreams_at(index, device.pop)):
        net = index.allocations.links[upstream.link.name]
        asn = index.network.topology.provider(upstream.provider).asn
        ports.append(
            Port(
                name=naming.port(PortRole.UPSTREAM, n),
                role=PortRole.UPSTREAM,
                description=f"{upstream.link.name} AS{asn}",
                speed_mbps=upstream.capacity_mbps,
                l3=Layer3(IPv4Interface((net[0], 31)), net[1], vrf=upstream.kind.value),
                link=upstream.link.name,
            )
        )
    return tuple(ports)


def _site_description(site: Site) -> str:
    return ascii_description(f"{site.id} {site.name}")


def _access_ports(index: _Index, device: Device, naming: Naming) -> tuple[Port, ...]:
    pop = index.network.topology.pop(device.pop)
    units: dict[int, list[SubInterface]] = defaultdict(list)
    for site, alloc in index.sites_at.get(device.pop, []):
        port = naming.port(PortRole.ACCESS, alloc.port)
        units[alloc.port].append(
            SubInterface(
                name=naming.sub(port, alloc.vlan),
                unit=alloc.vlan,
                vlan=alloc.vlan,
                description=_site_description(site),
                l3=Layer3(
                    _pe_side(alloc.link_net),
                    alloc.site_address,
                    vrf=site.community.value,
                ),
                policer=policer_for(site.rate_mbps),
                site_id=site.id,
            )
        )
        if alloc.l2_vlan is not None:
            units[alloc.port].append(
                SubInterface(
                    name=naming.sub(port, alloc.l2_vlan),
                    unit=alloc.l2_vlan,
                    vlan=alloc.l2_vlan,
                    description=ascii_description(f"l2-renater {site.id} {site.name}"),
                    l3=None,
                    policer=policer_for(site.rate_mbps),
                    site_id=site.id,
                )
            )
    return tuple(
        Port(
            name=naming.port(PortRole.ACCESS, n),
            role=PortRole.ACCESS,
            description=f"access {device.pop} {n}",
            speed_mbps=1000,
            subinterfaces=tuple(sorted(units[n], key=lambda u: u.unit)),
        )
        for n in range(pop.access_ports)
    )


def _handoff_ports(index: _Index, device: Device, naming: Naming) -> tuple[Port, ...]:
    if index.network.topology.l2_handoff_pop != device.pop:
        return ()
    port = naming.port(PortRole.HANDOFF, 0)
    units = tuple(
        SubInterface(
            name=naming.sub(port, alloc.handoff_vlan),
            unit=alloc.handoff_vlan,
            vlan=alloc.handoff_vlan,
            description=ascii_description(f"l2-renater {site.id} {site.name}"),
            l3=None,
        )
        for site, alloc in index.l2_sites
        if alloc.handoff_vlan is not None
    )
    handoff = index.network.topology.l2_services[0].handoff
    return (Port(port, PortRole.HANDOFF, f"l2 hand-off {handoff}", 1000, subinterfaces=units),)


def _isis(index: _Index, loopback: IPv4Address, naming: Naming, ports: tuple[Port, ...]) -> Isis:
    backbone = [IsisInterface(p.name, p.isis_metric) for p in ports if p.role is PortRole.BACKBONE]
    return Isis(
        instance=ISIS_INSTANCE,
        net=isis_net(index.network.topology.routing.isis_area, loopback),
        interfaces=(IsisInterface(naming.loopback, None), *backbone),
    )


def _bgp(index: _Index, device: Device, loopback: IPv4Address, naming: Naming) -> Bgp:
    routing = index.network.topology.routing
    reflectors = set(routing.route_reflectors)
    is_reflector = device.pop in reflectors
    peers = [
        d
        for d in sorted(index.network.devices, key=lambda d: d.name)
        if d.name != device.name and (is_reflector or d.pop in reflectors)
    ]
    neighbors = tuple(
        BgpNeighbor(
            address=index.allocations.loopbacks[peer.name],
            remote_as=routing.asn,
            description=peer.name,
            ibgp=True,
            route_reflector_client=is_reflector and peer.pop not in reflectors,
            update_source=naming.loopback,
        )
        for peer in peers
    )
    return Bgp(routing.asn, loopback, loopback if is_reflector else None, neighbors)


def _vpn_targets(index: _Index, community: Community) -> tuple[tuple[str, ...], tuple[str, ...]]:
    topology = index.network.topology
    asn, vpn = topology.routing.asn, topology.vpn(community)
    own = route_target(asn, vpn.vpn_id)
    allowed = {UpstreamKind.INTERNET: vpn.internet, UpstreamKind.RENATER: vpn.renater}
    present = {u.kind for u in topology.upstreams}
    extranets = [
        route_target(asn, number)
        for kind, number in sorted(topology.routing.extranets.items())
        if allowed[kind] and kind in present
    ]
    return (own, *extranets), (own,)


def _community_vrfs(index: _Index, device: Device, naming: Naming) -> tuple[Vrf, ...]:
    topology = index.network.topology
    loopback = index.loopback(device.pop)
    statics: dict[Community, list[StaticRoute]] = defaultdict(list)
    for site, alloc in index.sites_at.get(device.pop, []):
        interface = naming.sub(naming.port(PortRole.ACCESS, alloc.port), alloc.vlan)
        statics[site.community].append(
            StaticRoute(alloc.lan, alloc.site_address, interface, site.id)
        )
    vrfs = []
    for vpn in topology.vpns:
        if vpn.community not in statics:
            continue
        imports, exports = _vpn_targets(index, vpn.community)
        vrfs.append(
            Vrf(
                name=vpn.community.value,
                description=ascii_description(vpn.description),
                rd=route_distinguisher(loopback, vpn.vpn_id),
                label=VPN_LABEL_BASE + vpn.vpn_id,
                route_targets_import=imports,
                route_targets_export=exports,
                static_routes=tuple(sorted(statics[vpn.community], key=lambda r: r.prefix)),
            )
        )
    return tuple(vrfs)


def _extranet_vrfs(index: _Index, device: Device, naming: Naming) -> tuple[Vrf, ...]:
    topology = index.network.topology
    asn = topology.routing.asn
    loopback = index.loopback(device.pop)
    upstreams = _upstreams_at(index, device.pop)
    vrfs = []
    for kind in sorted({u.kind for u in upstreams}):
        number = topology.routing.extranets[kind]
        members = [
            v.vpn_id
            for v in topology.vpns
            if (v.internet if kind is UpstreamKind.INTERNET else v.renater)
        ]
        own = route_target(asn, number)
        neighbors = tuple(_ebgp_neighbor(index, u) for u in upstreams if u.kind is kind)
        vrfs.append(
            Vrf(
                name=kind.value,
                description=f"extranet of the {kind.value} upstreams",
                rd=route_distinguisher(loopback, number),
                label=VPN_LABEL_BASE + number,
                route_targets_import=(own, *(route_target(asn, m) for m in sorted(members))),
                route_targets_export=(own,),
                neighbors=neighbors,
            )
        )
    return tuple(vrfs)


def _ebgp_neighbor(index: _Index, upstream: Upstream) -> BgpNeighbor:
    net = index.allocations.links[upstream.link.name]
    provider = index.network.topology.provider(upstream.provider)
    return BgpNeighbor(
        address=net[1],
        remote_as=provider.asn,
        description=ascii_description(f"{upstream.name} {provider.display_name}"),
        ibgp=False,
        import_policy=policy_name(upstream, "in"),
        export_policy=policy_name(upstream, "out"),
    )


def _policies(index: _Index, device: Device) -> tuple[RoutePolicy, ...]:
    routing = index.network.topology.routing
    policies = []
    for upstream in _upstreams_at(index, device.pop):
        primary = upstream.preference is Preference.PRIMARY
        match = (
            PolicyMatch.DEFAULT_ONLY
            if upstream.kind is UpstreamKind.INTERNET
            else PolicyMatch.NOT_DEFAULT
        )
        preference = (
            routing.local_preference.primary if primary else routing.local_preference.secondary
        )
        prepend = () if primary else (routing.asn,) * routing.secondary_prepend
        policies += [
            RoutePolicy(policy_name(upstream, "in"), match, local_preference=preference),
            RoutePolicy(
                policy_name(upstream, "out"),
                PolicyMatch.ANNOUNCED,
                prepend=prepend,
                prefixes=routing.announced_prefixes,
            ),
        ]
    return tuple(sorted(policies, key=lambda p: p.name))


def _site_attachments(index: _Index, device: Device, naming: Naming) -> tuple[SiteAttachment, ...]:
    return tuple(
        SiteAttachment(
            site_id=site.id,
            description=_site_description(site),
            interface=naming.sub(naming.port(PortRole.ACCESS, alloc.port), alloc.vlan),
            vlan=alloc.vlan,
            address=_pe_side(alloc.link_net),
            site_address=alloc.site_address,
            lan=alloc.lan,
            vrf=site.community.value,
            rate_mbps=site.rate_mbps,
            policer=policer_for(site.rate_mbps).name,
        )
        for site, alloc in index.sites_at.get(device.pop, [])
    )


def _l2circuits(index: _Index, device: Device, naming: Naming) -> tuple[L2Circuit, ...]:
    handoff_pop = index.network.topology.l2_handoff_pop
    if handoff_pop is None:
        return ()
    handoff_port = naming.port(PortRole.HANDOFF, 0)
    circuits = []
    for site, alloc in index.l2_sites:
        if alloc.l2_vlan is None or alloc.handoff_vlan is None:
            continue
        site_sub = naming.sub(naming.port(PortRole.ACCESS, alloc.port), alloc.l2_vlan)
        handoff_sub = naming.sub(handoff_port, alloc.handoff_vlan)
        description = ascii_description(f"l2-renater {site.id} {site.name}")
        if site.pop == device.pop == handoff_pop:
            circuits.append(
                L2Circuit(site.id, description, site_sub, alloc.handoff_vlan, None, handoff_sub)
            )
        elif site.pop == device.pop:
            circuits.append(
                L2Circuit(
                    site.id, description, site_sub, alloc.handoff_vlan, index.loopback(handoff_pop)
                )
            )
        elif device.pop == handoff_pop:
            circuits.append(
                L2Circuit(
                    site.id, description, handoff_sub, alloc.handoff_vlan, index.loopback(site.pop)
                )
            )
    return tuple(circuits)
