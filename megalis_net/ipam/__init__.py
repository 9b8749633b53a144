"""Resource allocation (IPAM): addresses, VLANs and VPN identifiers.

``allocate`` fills in what the model needs on top of what is already
allocated; ``load_allocations`` / ``save_allocations`` keep the state in the
inventory beside the sites.
"""

from megalis_net.ipam.allocate import AllocationReport, allocate, placement_valid
from megalis_net.ipam.model import Allocations, SiteAllocation
from megalis_net.ipam.pools import PoolExhausted
from megalis_net.ipam.store import (
    ALLOCATIONS_FILE,
    SITE_ALLOCATIONS_FILE,
    allocation_slots,
    load_allocations,
    parse_site_allocation,
    save_allocations,
    site_allocation_row,
)
from megalis_net.ipam.vpn import route_distinguisher, route_target

__all__ = [
    "ALLOCATIONS_FILE",
    "SITE_ALLOCATIONS_FILE",
    "AllocationReport",
    "Allocations",
    "PoolExhausted",
    "SiteAllocation",
    "allocate",
    "allocation_slots",
    "load_allocations",
    "parse_site_allocation",
    "placement_valid",
    "route_distinguisher",
    "route_target",
    "save_allocations",
    "site_allocation_row",
]
