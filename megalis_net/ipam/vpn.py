"""VPN identifiers: route distinguishers and route targets.

Both are derived, never drawn from a pool: an RD is the PE's loopback and the
VPN number (type 1, unique per PE and VRF without any bookkeeping), a route
target the backbone AS and the VPN number. They are as stable as the loopback
allocation and the ``vpn_id`` in ``services.yaml`` they come from.
"""

from __future__ import annotations

from ipaddress import IPv4Address


def route_distinguisher(loopback: IPv4Address, number: int) -> str:
    """Examples:
    >>> route_distinguisher(IPv4Address("10.0.0.1"), 101)
    '10.0.0.1:101'
    """
    return f"{loopback}:{number}"


def route_target(asn: int, number: int) -> str:
    """Examples:
    >>> route_target(65010, 103)
    '65010:103'
    """
    return f"{asn}:{number}"
