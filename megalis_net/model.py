"""Domain model of Mégalis II: frozen, typed, validated objects.

Raw YAML/CSV never travels past the loaders; everything downstream receives
these objects. Cross-references between objects (a link naming a PoP, a site
naming a community) are checked by ``validate.check_network`` so that every
problem is reported at once with its file and line.
"""

from __future__ import annotations

from collections.abc import Collection
from enum import StrEnum
from ipaddress import IPv4Address, IPv4Network
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

NEVER_ANNOUNCED = tuple(
    IPv4Network(p)
    for p in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10", "127.0.0.0/8")
)
"""RFC 1918, RFC 6598 and loopback space: never announced to an upstream."""

MAX_ACCESS_RATE_MBPS = 1000
"""Access rates go up to 1 Gb/s (the source document)."""

Name = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[a-z0-9][a-z0-9-]*$")]
"""Identifier used in configs, file names and interface descriptions."""


class Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Platform(StrEnum):
    FRR = "frr"
    IOSXR = "iosxr"
    JUNOS = "junos"


class PopRole(StrEnum):
    RING = "ring"
    EXTENSION = "extension"


class LinkRole(StrEnum):
    RING = "ring"
    EXTENSION = "extension"
    UPSTREAM = "upstream"
    ACCESS = "access"


class UpstreamKind(StrEnum):
    INTERNET = "internet"
    RENATER = "renater"


class Preference(StrEnum):
    PRIMARY = "primary"
    SECONDARY = "secondary"


class Community(StrEnum):
    EDUCATION = "education"
    HEALTH = "health"
    RESEARCH = "research"
    LOCAL_GOVERNMENT = "local-government"


class SiteKind(StrEnum):
    ECOLE = "ecole"
    COLLEGE = "college"
    LYCEE = "lycee"
    UNIVERSITE = "universite"
    LABORATOIRE = "laboratoire"
    HOPITAL = "hopital"
    EHPAD = "ehpad"
    MAIRIE = "mairie"
    EPCI = "epci"
    MEDIATHEQUE = "mediatheque"
    DEPARTEMENT = "departement"
    REGION = "region"


class SiteStatus(StrEnum):
    """Where a site's attachment is: still on Mégalis I (waiting for its wave,
    not on any Mégalis II router) or on Mégalis II."""

    LEGACY = "legacy"
    ACTIVE = "active"


class Departement(StrEnum):
    """The four départements of Brittany, by their INSEE number."""

    COTES_DARMOR = "22"
    FINISTERE = "29"
    ILLE_ET_VILAINE = "35"
    MORBIHAN = "56"


class Lot(StrEnum):
    """The market lots of the source document, each held by one provider."""

    BACKBONE = "backbone"
    ACCESS = "access"
    INTERNET = "internet"
    RESEARCH = "research"


class Severity(StrEnum):
    WARNING = "warning"
    VIOLATION = "violation"


class Pop(Frozen):
    name: Name
    city: str
    departement: Departement
    latitude: float = Field(ge=47.0, le=49.0)
    longitude: float = Field(ge=-5.5, le=-0.9)
    role: PopRole
    # Each access port carries the whole VLAN pool; a busy PoP gets more ports.
    access_ports: int = Field(default=1, ge=1, le=16)


class Srlg(Frozen):
    """A shared-risk link group: links that one event (a duct cut) takes down together."""

    name: Name
    description: str


class Link(Frozen):
    name: Name
    a: Name
    b: Name
    role: LinkRole
    capacity_mbps: int = Field(gt=0)
    metric: int = Field(default=10, ge=1, le=16_777_214)
    srlgs: tuple[Name, ...] = ()
    provider: Name


class Upstream(Frozen):
    """An exit of the backbone, attached to one PoP by one link."""

    name: Name
    kind: UpstreamKind
    preference: Preference
    provider: Name
    pop: Name
    capacity_mbps: int = Field(gt=0)
    srlgs: tuple[Name, ...] = ()

    @property
    def link(self) -> Link:
        return Link(
            name=f"up-{self.name}",
            a=self.pop,
            b=self.name,
            role=LinkRole.UPSTREAM,
            capacity_mbps=self.capacity_mbps,
            srlgs=self.srlgs,
            provider=self.provider,
        )


class Vpn(Frozen):
    """An L3 VPN-MPLS intranet of one community."""

    community: Community
    description: str
    vpn_id: int = Field(ge=1, le=65535)
    internet: bool = True
    renater: bool = False


class L2Service(Frozen):
    """Point-to-point L2 service from a site to an upstream hand-off (Renater)."""

    name: Name
    description: str
    community: Community
    handoff: Name


class Provider(Frozen):
    name: Name
    display_name: str
    lots: tuple[Lot, ...]
    asn: int = Field(ge=1, le=4_294_967_295)


class VlanRange(Frozen):
    first: int = Field(ge=2, le=4094)
    last: int = Field(ge=2, le=4094)

    @field_validator("last")
    @classmethod
    def _ordered(cls, last: int, info: ValidationInfo) -> int:
        first = info.data.get("first")
        if first is not None and last < first:
            raise ValueError(f"last VLAN {last} is below first VLAN {first}")
        return last

    @property
    def size(self) -> int:
        return self.last - self.first + 1


class Pools(Frozen):
    loopbacks: IPv4Network
    backbone_links: IPv4Network
    site_links: IPv4Network
    management: IPv4Network
    legacy_lans: IPv4Network
    site_lans: dict[Community, IPv4Network]
    access_vlans: VlanRange
    # Prefix length of the LAN a new site gets from its community's pool.
    new_site_lan_length: int = Field(default=28, ge=16, le=30)

    def named_prefixes(self) -> list[tuple[str, IPv4Network]]:
        """Every pool prefix with its dotted field path, for overlap checks."""
        fixed = [
            (name, getattr(self, name))
            for name in ("loopbacks", "backbone_links", "site_links", "management", "legacy_lans")
        ]
        return fixed + [(f"site_lans.{c.value}", p) for c, p in self.site_lans.items()]


class LocalPreference(Frozen):
    primary: int = Field(default=200, ge=0, le=4_294_967_295)
    secondary: int = Field(default=100, ge=0, le=4_294_967_295)


class Routing(Frozen):
    """How the backbone routes: AS, IS-IS, route reflectors, exit policy."""

    asn: int = Field(ge=1, le=4_294_967_295)
    isis_area: Annotated[str, Field(pattern=r"^[0-9a-f]{2}(\.[0-9a-f]{4}){1,6}$")]
    # PoPs whose PE reflects iBGP routes; two, on different PoPs.
    route_reflectors: tuple[Name, ...]
    # Route-target numbers of the extranet VRFs that hold each kind of upstream.
    extranets: dict[UpstreamKind, int]
    local_preference: LocalPreference = LocalPreference()
    # AS-path prepends on what we announce to a secondary upstream.
    secondary_prepend: int = Field(default=3, ge=0, le=10)
    # Public aggregates announced to the upstreams: nothing else ever is.
    announced_prefixes: tuple[IPv4Network, ...] = ()

    @field_validator("announced_prefixes")
    @classmethod
    def _public_only(cls, prefixes: tuple[IPv4Network, ...]) -> tuple[IPv4Network, ...]:
        for prefix in prefixes:
            if any(prefix.overlaps(private) for private in NEVER_ANNOUNCED):
                raise ValueError(f"{prefix} is private space: it must never be announced upstream")
        return prefixes


class Management(Frozen):
    """The routers' management plane (no secrets: those are referenced, not stored)."""

    domain: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9.-]*[a-z0-9]$")]
    ntp_servers: tuple[IPv4Address, ...] = ()
    syslog_servers: tuple[IPv4Address, ...] = ()
    snmp_contact: Annotated[str, Field(min_length=1, max_length=120, pattern=r"^[ -~]+$")]


class Policy(Frozen):
    """What the redundancy audit must prove."""

    required_depth: int = Field(default=1, ge=0, le=2)
    pop_failure: Severity = Severity.WARNING
    max_utilisation: float = Field(default=1.0, gt=0, le=1.0)


class TrafficModel(Frozen):
    """Committed rate x share per site kind = busy-hour traffic of a site."""

    busy_hour_share: dict[SiteKind, float]
    offered_rates_mbps: tuple[int, ...]

    @field_validator("busy_hour_share")
    @classmethod
    def _shares_are_fractions(cls, shares: dict[SiteKind, float]) -> dict[SiteKind, float]:
        for kind, share in shares.items():
            if not 0 < share <= 1:
                raise ValueError(f"share of {kind.value} must be in (0, 1], got {share}")
        return shares

    @field_validator("offered_rates_mbps")
    @classmethod
    def _rates_sorted_and_bounded(cls, rates: tuple[int, ...]) -> tuple[int, ...]:
        if list(rates) != sorted(set(rates)) or not rates:
            raise ValueError("offered rates must be a non-empty, strictly increasing list")
        if rates[0] < 1 or rates[-1] > MAX_ACCESS_RATE_MBPS:
            raise ValueError(f"offered rates must lie between 1 and {MAX_ACCESS_RATE_MBPS} Mb/s")
        return rates

    def share(self, kind: SiteKind) -> float:
        return self.busy_hour_share.get(kind, 1.0)


class Topology(Frozen):
    """The backbone design: everything in ``topology/``."""

    ring: tuple[Name, ...]
    pops: tuple[Pop, ...]
    srlgs: tuple[Srlg, ...] = ()
    links: tuple[Link, ...]
    upstreams: tuple[Upstream, ...]
    providers: tuple[Provider, ...]
    vpns: tuple[Vpn, ...]
    l2_services: tuple[L2Service, ...] = ()
    pools: Pools
    routing: Routing
    management: Management
    policy: Policy = Policy()
    traffic: TrafficModel

    def pop(self, name: str) -> Pop:
        return next(p for p in self.pops if p.name == name)

    def vpn(self, community: Community) -> Vpn:
        return next(v for v in self.vpns if v.community is community)

    def provider(self, name: str) -> Provider:
        return next(p for p in self.providers if p.name == name)

    def upstream(self, name: str) -> Upstream:
        return next(u for u in self.upstreams if u.name == name)

    @property
    def l2_handoff_pop(self) -> str | None:
        """Where the L2 services reach their hand-off (one hand-off: Renater's)."""
        return self.upstream(self.l2_services[0].handoff).pop if self.l2_services else None

    def vlan_room(self, pop: str) -> int:
        """How many site attachments the PoP can hold: one VLAN each, per access port."""
        return self.pop(pop).access_ports * self.pools.access_vlans.size

    @property
    def backbone_links(self) -> tuple[Link, ...]:
        """Ring, extension and upstream links: what the audit fails."""
        return self.links + tuple(u.link for u in self.upstreams)


class Device(Frozen):
    """A PE router, as described by the Nornir inventory."""

    name: Name
    pop: Name
    platform: Platform
    mgmt_address: IPv4Address


class LegacyAttachment(Frozen):
    """What the site has today on the old network (kept through migration)."""

    lan_prefix: IPv4Network
    gateway: IPv4Address
    rate_kbps: int = Field(gt=0)


class Site(Frozen):
    """An establishment connected to one PoP."""

    id: Annotated[str, Field(min_length=1, max_length=32, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$")]
    name: Annotated[str, Field(min_length=1, max_length=120)]
    kind: SiteKind
    commune: Annotated[str, Field(min_length=1)]
    departement: Departement
    latitude: float = Field(ge=47.0, le=49.0)
    longitude: float = Field(ge=-5.5, le=-0.9)
    pop: Name
    community: Community
    rate_mbps: int = Field(gt=0)
    l2_renater: bool = False
    legacy: LegacyAttachment | None = None
    status: SiteStatus = SiteStatus.ACTIVE

    @property
    def active(self) -> bool:
        """On Mégalis II: its attachment is (to be) on the routers."""
        return self.status is SiteStatus.ACTIVE

    @field_validator("rate_mbps")
    @classmethod
    def _at_most_1g(cls, rate: int) -> int:
        if rate > MAX_ACCESS_RATE_MBPS:
            raise ValueError("rate above 1 Gb/s, the highest access rate (Mb/s)")
        return rate


class Network(Frozen):
    """The whole source of truth: backbone, routers and sites."""

    topology: Topology
    devices: tuple[Device, ...]
    sites: tuple[Site, ...]

    def with_status(self, status: SiteStatus, ids: Collection[str] | None = None) -> Network:
        """The same network with the sites of ``ids`` (default: all) in ``status``:
        e.g. as it is once those sites are migrated."""
        return self.model_copy(
            update={
                "sites": tuple(
                    site.model_copy(update={"status": status})
                    if ids is None or site.id in ids
                    else site
                    for site in self.sites
                )
            }
        )
