"""The intent: one typed record per router holding everything its config needs.

Built in Python from the model and the allocations (``intent.build``);
templates only format it. Every interface name here is already the
platform's own (``intent.naming``), so a template never computes a name.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from ipaddress import IPv4Address, IPv4Interface, IPv4Network

from megalis_net.model import Platform

# Every platform's management interface carries this description.
MANAGEMENT_DESCRIPTION = "management"


class PortRole(StrEnum):
    BACKBONE = "backbone"  # ring and extension: IS-IS + LDP
    UPSTREAM = "upstream"  # eBGP to an exit
    ACCESS = "access"  # collecte: one 802.1Q sub-interface per site
    HANDOFF = "handoff"  # L2 hand-off to Renater: one sub-interface per L2 site


class PolicyMatch(StrEnum):
    DEFAULT_ONLY = "default-only"
    NOT_DEFAULT = "not-default"
    ANNOUNCED = "announced"  # only the prefixes listed on the policy (none: nothing)


@dataclass(frozen=True, slots=True)
class Layer3:
    address: IPv4Interface
    peer: IPv4Address | None = None
    vrf: str | None = None


@dataclass(frozen=True, slots=True)
class Policer:
    name: str
    rate_mbps: int
    burst_bytes: int


@dataclass(frozen=True, slots=True)
class SubInterface:
    """An 802.1Q sub-interface: routed (``l3``) or L2 transport (``l3`` is None)."""

    name: str
    unit: int
    vlan: int
    description: str
    l3: Layer3 | None
    policer: Policer | None = None
    site_id: str | None = None  # the site this unit attaches


@dataclass(frozen=True, slots=True)
class Port:
    name: str
    role: PortRole
    description: str
    speed_mbps: int
    l3: Layer3 | None = None
    isis_metric: int | None = None
    subinterfaces: tuple[SubInterface, ...] = ()
    link: str | None = None  # the model's link (backbone, upstream)

    @property
    def tagged(self) -> bool:
        return self.role in (PortRole.ACCESS, PortRole.HANDOFF)


@dataclass(frozen=True, slots=True)
class IsisInterface:
    name: str
    metric: int | None  # None: passive (the loopback)


@dataclass(frozen=True, slots=True)
class Isis:
    instance: str
    net: str
    interfaces: tuple[IsisInterface, ...]


@dataclass(frozen=True, slots=True)
class RoutePolicy:
    name: str
    match: PolicyMatch
    local_preference: int | None = None
    prepend: tuple[int, ...] = ()
    prefixes: tuple[IPv4Network, ...] = ()


@dataclass(frozen=True, slots=True)
class BgpNeighbor:
    address: IPv4Address
    remote_as: int
    description: str
    ibgp: bool
    route_reflector_client: bool = False
    update_source: str | None = None
    import_policy: str | None = None
    export_policy: str | None = None


@dataclass(frozen=True, slots=True)
class StaticRoute:
    prefix: IPv4Network
    next_hop: IPv4Address
    interface: str
    description: str


@dataclass(frozen=True, slots=True)
class Vrf:
    """A VRF: a community's intranet, or an extranet holding one kind of upstream."""

    name: str
    description: str
    rd: str
    label: int  # per-VRF VPN label, for platforms that originate VPN routes statically
    route_targets_import: tuple[str, ...]
    route_targets_export: tuple[str, ...]
    static_routes: tuple[StaticRoute, ...] = ()
    neighbors: tuple[BgpNeighbor, ...] = ()


@dataclass(frozen=True, slots=True)
class Bgp:
    asn: int
    router_id: IPv4Address
    cluster_id: IPv4Address | None  # set on route reflectors
    ibgp: tuple[BgpNeighbor, ...]  # IPv4 unicast and VPNv4


@dataclass(frozen=True, slots=True)
class SiteAttachment:
    site_id: str
    description: str
    interface: str
    vlan: int
    address: IPv4Interface
    site_address: IPv4Address
    lan: IPv4Network
    vrf: str
    rate_mbps: int
    policer: str


@dataclass(frozen=True, slots=True)
class L2Circuit:
    """A point-to-point pseudowire (or a local cross-connect when both ends are here)."""

    name: str
    description: str
    interface: str
    pw_id: int
    neighbor: IPv4Address | None
    local_interface: str | None = None


@dataclass(frozen=True, slots=True)
class ManagementPlane:
    domain: str
    ntp_servers: tuple[IPv4Address, ...]
    syslog_servers: tuple[IPv4Address, ...]
    snmp_location: str
    snmp_contact: str


@dataclass(frozen=True, slots=True)
class DeviceIntent:
    hostname: str
    platform: Platform
    pop: str
    loopback: str
    router_id: IPv4Address
    management: str
    management_address: IPv4Interface
    management_plane: ManagementPlane
    ports: tuple[Port, ...]
    isis: Isis
    ldp_interfaces: tuple[str, ...]
    bgp: Bgp
    vrfs: tuple[Vrf, ...]
    policies: tuple[RoutePolicy, ...]
    policers: tuple[Policer, ...]
    sites: tuple[SiteAttachment, ...]
    l2circuits: tuple[L2Circuit, ...]

    def ports_of(self, role: PortRole) -> tuple[Port, ...]:
        return tuple(p for p in self.ports if p.role is role)
