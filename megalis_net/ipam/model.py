"""What the allocator hands out: plain frozen records, one per router, link and site."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from ipaddress import IPv4Address, IPv4Network


@dataclass(frozen=True, slots=True)
class SiteAllocation:
    """Everything a site's connection uses on the network.

    ``port`` and ``vlan`` place the 802.1Q sub-interface on its PoP's access
    ports; ``link_net`` is the /31 on it (PE side even, site side odd);
    ``l2_vlan`` (same port) and ``handoff_vlan`` (on the hand-off port, also
    the pseudowire id) exist only for sites with the L2 Renater service.
    """

    site: str
    pop: str
    port: int
    vlan: int
    link_net: IPv4Network
    lan: IPv4Network
    l2_vlan: int | None = None
    handoff_vlan: int | None = None

    @property
    def pe_address(self) -> IPv4Address:
        return self.link_net.network_address

    @property
    def site_address(self) -> IPv4Address:
        return self.link_net.broadcast_address


@dataclass(frozen=True)
class Allocations:
    """The whole allocation state: loopbacks, backbone /31s and site resources."""

    loopbacks: Mapping[str, IPv4Address] = field(default_factory=dict)
    links: Mapping[str, IPv4Network] = field(default_factory=dict)
    sites: Mapping[str, SiteAllocation] = field(default_factory=dict)

    def same_as(self, other: Allocations) -> bool:
        return (
            dict(self.loopbacks) == dict(other.loopbacks)
            and dict(self.links) == dict(other.links)
            and dict(self.sites) == dict(other.sites)
        )
