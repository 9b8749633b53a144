"""What the lab is made of, computed from the model alone (no root, no system calls).

The lab stands the network up on this machine: one network namespace per PE
router, one per upstream provider, one "access" namespace per PoP standing for
the collecte network, veth pairs for every link, and a management bridge in
the root namespace. Everything it names starts with ``mgx-`` (namespaces, FRR
pathspaces, root-side devices) so that ``lab down`` can find exactly what
``lab up`` made.

The lab kernel has neither 802.1Q nor VRF devices (see LAB.md): a site
attachment is one veth pair named after its sub-interface (``acc0.1234``) with
the site's /31 on it, and everything lives in each router's global table, as
the FRR templates say.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from ipaddress import IPv4Address, IPv4Interface, IPv4Network

from megalis_net.errors import MegalisError
from megalis_net.intent import DeviceIntent, PortRole, build_intents
from megalis_net.ipam import Allocations
from megalis_net.model import Network, Platform, UpstreamKind

PREFIX = "mgx-"
# The lab's management network lives in the root namespace, so it uses the
# benchmarking range (RFC 2544) rather than the production management pool:
# a lab address can never be mistaken for a production router.
MANAGEMENT = IPv4Network("198.18.0.0/24")
BRIDGE = f"{PREFIX}mgmt"
BRIDGE_ADDRESS = IPv4Interface("198.18.0.254/24")
# Routes the lab's Renater announces: research networks, in the benchmarking range too.
RESEARCH_ROUTES = (IPv4Network("198.19.0.0/17"), IPv4Network("198.19.128.0/17"))
IFNAMSIZ = 15  # Linux interface names: 15 characters at most


class LabPlanError(MegalisError):
    """The model cannot be laid out as a lab (a name too long, too many routers)."""


@dataclass(frozen=True, slots=True)
class Veth:
    """One veth pair; an end with an address gets it from the lab, not from FRR."""

    netns_a: str
    name_a: str
    netns_b: str
    name_b: str
    address_a: IPv4Interface | None = None
    address_b: IPv4Interface | None = None
    rate_mbps: int | None = None  # shaped with tbf on both ends when set


@dataclass(frozen=True, slots=True)
class PeRouter:
    host: str
    netns: str
    management: IPv4Interface  # the lab's management address, on the ``mgmt0`` veth
    management_port: str  # its root-side end, enslaved to the bridge
    intent: DeviceIntent


@dataclass(frozen=True, slots=True)
class UpstreamRouter:
    """A provider's router: eBGP to the PEs, announcing a default or research routes."""

    name: str  # the provider
    netns: str
    asn: int
    router_id: IPv4Address
    kind: UpstreamKind
    sessions: tuple[UpstreamSession, ...]
    announced: tuple[IPv4Network, ...]  # empty for Internet: they send a default route


@dataclass(frozen=True, slots=True)
class UpstreamSession:
    interface: str
    address: IPv4Interface
    peer: IPv4Address
    peer_as: int
    description: str


@dataclass(frozen=True, slots=True)
class AccessSite:
    """One site as its PoP's access namespace terminates it."""

    site_id: str
    interface: str
    address: IPv4Interface  # the site (CPE) side of the link net
    gateway: IPv4Address  # the PE side: the site's default route
    lan_gateway: IPv4Interface  # the LAN's first address, on the namespace's loopback


@dataclass(frozen=True, slots=True)
class AccessNamespace:
    pop: str
    netns: str
    pe_netns: str
    sites: tuple[AccessSite, ...]

    def veth(self, site: AccessSite) -> Veth:
        """A site's attachment: same name at both ends, the site's address on the access end."""
        return Veth(self.pe_netns, site.interface, self.netns, site.interface, None, site.address)


@dataclass(frozen=True, slots=True)
class LabPlan:
    pes: tuple[PeRouter, ...]
    upstreams: tuple[UpstreamRouter, ...]
    access: tuple[AccessNamespace, ...]
    links: tuple[Veth, ...]  # backbone and upstream links
    management: tuple[Veth, ...] = field(default=())

    @property
    def namespaces(self) -> list[str]:
        return (
            [p.netns for p in self.pes]
            + [u.netns for u in self.upstreams]
            + [a.netns for a in self.access]
        )

    def site_links(self) -> list[Veth]:
        """Every site attachment (thousands: created and removed in batches)."""
        return [a.veth(s) for a in self.access for s in a.sites]

    def pe(self, host: str) -> PeRouter:
        for pe in self.pes:
            if pe.host == host:
                return pe
        raise LabPlanError(f"no router {host!r} in the lab")


def netns_of(host: str) -> str:
    """The namespace (and FRR pathspace) of an inventory router.

    >>> netns_of("pe-rennes")
    'mgx-pe-rennes'
    """
    return f"{PREFIX}{host}"


def lab_address(network: Network, address: IPv4Address) -> IPv4Interface:
    """The lab's management address standing for a production one: same host number."""
    return lab_address_in(network.topology.pools.management, address)


def lab_address_in(pool: IPv4Network, address: IPv4Address) -> IPv4Interface:
    """
    >>> str(lab_address_in(IPv4Network("10.0.2.0/24"), IPv4Address("10.0.2.7")))
    '198.18.0.7/24'
    """
    offset = int(address) - int(pool.network_address)
    if not 0 < offset < MANAGEMENT.num_addresses - 2:
        raise LabPlanError(
            f"management address {address} is host {offset} of {pool}: the lab's"
            f" management network {MANAGEMENT} has room for hosts 1-{MANAGEMENT.num_addresses - 3}"
        )
    return IPv4Interface((MANAGEMENT.network_address + offset, MANAGEMENT.prefixlen))


def plan_lab(network: Network, allocations: Allocations) -> LabPlan:
    """The lab for the model: every router on FRR, whatever the inventory's platform."""
    intents = build_intents(network, allocations, Platform.FRR)
    pes = tuple(
        PeRouter(
            host=intent.hostname,
            netns=netns_of(intent.hostname),
            management=lab_address(network, intent.management_address.ip),
            management_port=_management_port(network, intent),
            intent=intent,
        )
        for intent in intents.values()
    )
    upstreams, upstream_links = _upstreams(network, pes)
    links = _backbone_links(pes) + upstream_links
    management = tuple(
        Veth(pe.netns, pe.intent.management, "", pe.management_port, pe.management) for pe in pes
    )
    plan = LabPlan(pes, upstreams, _access(pes), links, management)
    _check_names(plan)
    return plan


def _management_port(network: Network, intent: DeviceIntent) -> str:
    host_number = int(lab_address(network, intent.management_address.ip).ip) & 0xFF
    return f"{PREFIX}m{host_number}"


def _backbone_links(pes: tuple[PeRouter, ...]) -> tuple[Veth, ...]:
    """Pair the backbone ports of the PEs by their /31: a-side even, b-side odd."""
    ends: dict[IPv4Network, list[tuple[PeRouter, str, int]]] = defaultdict(list)
    for pe in pes:
        for port in pe.intent.ports:
            if port.role is PortRole.BACKBONE and port.l3 is not None:
                ends[port.l3.address.network].append((pe, port.name, port.speed_mbps))
    links = []
    for net, pair in sorted(ends.items(), key=lambda item: item[0]):
        if len(pair) != 2:
            raise LabPlanError(f"backbone link {net} has {len(pair)} ends in the model, not 2")
        (a, a_port, speed), (b, b_port, _) = pair
        links.append(Veth(a.netns, a_port, b.netns, b_port, rate_mbps=speed))
    return tuple(links)


def _upstreams(
    network: Network, pes: tuple[PeRouter, ...]
) -> tuple[tuple[UpstreamRouter, ...], tuple[Veth, ...]]:
    """One router per provider, with one session per upstream link it serves."""
    topology = network.topology
    by_description = {}
    for pe in pes:
        for port in pe.intent.ports:
            if port.role is PortRole.UPSTREAM and port.l3 is not None:
                by_description[port.description.split()[0]] = (pe, port)
    sessions: dict[str, list[UpstreamSession]] = defaultdict(list)
    kinds: dict[str, UpstreamKind] = {}
    links = []
    for upstream in topology.upstreams:
        pe, port = by_description[upstream.link.name]
        assert port.l3 is not None and port.l3.peer is not None
        provider = topology.provider(upstream.provider)
        netns = f"{PREFIX}{provider.name}"
        interface = upstream.name
        sessions[provider.name].append(
            UpstreamSession(
                interface=interface,
                address=IPv4Interface((port.l3.peer, port.l3.address.network.prefixlen)),
                peer=port.l3.address.ip,
                peer_as=topology.routing.asn,
                description=pe.host,
            )
        )
        kinds[provider.name] = upstream.kind
        links.append(Veth(pe.netns, port.name, netns, interface, rate_mbps=port.speed_mbps))
    routers = tuple(
        UpstreamRouter(
            name=name,
            netns=f"{PREFIX}{name}",
            asn=topology.provider(name).asn,
            router_id=min(s.address.ip for s in provider_sessions),
            kind=kinds[name],
            sessions=tuple(provider_sessions),
            announced=RESEARCH_ROUTES if kinds[name] is UpstreamKind.RENATER else (),
        )
        for name, provider_sessions in sorted(sessions.items())
    )
    return routers, tuple(links)


def _access(pes: tuple[PeRouter, ...]) -> tuple[AccessNamespace, ...]:
    namespaces = []
    for pe in pes:
        sites = tuple(
            AccessSite(
                site_id=site.site_id,
                interface=site.interface,
                address=IPv4Interface((site.site_address, site.address.network.prefixlen)),
                gateway=site.address.ip,
                lan_gateway=IPv4Interface((next(site.lan.hosts()), 32)),
            )
            for site in pe.intent.sites
        )
        namespaces.append(
            AccessNamespace(pe.intent.pop, f"{PREFIX}acc-{pe.intent.pop}", pe.netns, sites)
        )
    return tuple(namespaces)


def _check_names(plan: LabPlan) -> None:
    names = [
        name
        for veth in (*plan.links, *plan.management, *plan.site_links())
        for name in (veth.name_a, veth.name_b)
    ]
    too_long = sorted({n for n in names if len(n) > IFNAMSIZ})
    if too_long:
        raise LabPlanError(
            f"interface name {too_long[0]!r} is longer than Linux's {IFNAMSIZ} characters"
        )
