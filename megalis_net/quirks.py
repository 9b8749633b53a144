"""Platform quirks the templates need: ordering a platform imposes on its own output.

FRR prints ``show running-config`` in its own order (interfaces by its
natural name order, static routes by prefix, default values omitted). A
rendered config that already has that form diffs to nothing against the
running one, which is what makes a re-deploy with no change a no-op.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cmp_to_key
from ipaddress import IPv4Interface, IPv4Network

from megalis_net.intent.model import MANAGEMENT_DESCRIPTION, DeviceIntent, StaticRoute
from megalis_net.model import Platform

FRR_DEFAULT_ISIS_METRIC = 10  # FRR omits it from its running config


def frr_name_cmp(left: str, right: str) -> int:
    """FRR's interface name order (``if_cmp_name_func`` in lib/if.c): alphabetic
    parts as strings, numeric parts by value; when two alphabetic parts differ
    in length, plain string order of the rest decides.

    Examples:
        >>> names = ["acc0.100", "bb0", "acc0.99", "lo", "l2h0", "acc1.1", "bb10", "bb2"]
        >>> sorted(names, key=frr_name_key)
        ['acc0.99', 'acc0.100', 'acc1.1', 'bb0', 'bb2', 'bb10', 'l2h0', 'lo']
    """
    p1, p2 = left, right
    while p1 and p2:
        l1, l2 = _run(p1, digits=False), _run(p2, digits=False)
        if l1 != l2:
            return _cmp(p1, p2)
        if p1[:l1] != p2[:l2]:
            return _cmp(p1[:l1], p2[:l2])
        p1, p2 = p1[l1:], p2[l2:]
        if not p1 or not p2:
            break
        d1, d2 = _run(p1, digits=True), _run(p2, digits=True)
        if int(p1[:d1]) != int(p2[:d2]):
            return -1 if int(p1[:d1]) < int(p2[:d2]) else 1
        p1, p2 = p1[d1:], p2[d2:]
    return (len(p1) > 0) - (len(p2) > 0)


def _run(text: str, digits: bool) -> int:
    """Length of the leading run of digits (or of non-digits)."""
    for i, char in enumerate(text):
        if char.isdigit() != digits:
            return i
    return len(text)


def _cmp(a: str, b: str) -> int:
    return (a > b) - (a < b)


frr_name_key = cmp_to_key(frr_name_cmp)


@dataclass(frozen=True, slots=True)
class FrrInterface:
    """One ``interface`` block of an FRR config."""

    name: str
    description: str | None
    address: IPv4Interface
    isis_metric: int | None = None  # set on backbone links
    isis_passive: bool = False


def frr_interfaces(device: DeviceIntent) -> list[FrrInterface]:
    """Every routed interface of the device, in FRR's order."""
    blocks = [
        FrrInterface(device.loopback, None, IPv4Interface((device.router_id, 32)), None, True),
        FrrInterface(device.management, MANAGEMENT_DESCRIPTION, device.management_address),
    ]
    for port in device.ports:
        if port.l3 is not None:
            blocks.append(
                FrrInterface(port.name, port.description, port.l3.address, port.isis_metric)
            )
        blocks += [
            FrrInterface(sub.name, sub.description, sub.l3.address)
            for sub in port.subinterfaces
            if sub.l3 is not None
        ]
    return sorted(blocks, key=lambda b: frr_name_key(b.name))


def frr_static_routes(device: DeviceIntent) -> list[StaticRoute]:
    """Every static route (FRR has no VRFs in the lab: one table), by prefix."""
    routes = [route for vrf in device.vrfs for route in vrf.static_routes]
    return sorted(routes, key=lambda r: _prefix_key(r.prefix))


def _prefix_key(prefix: IPv4Network) -> tuple[int, int]:
    return int(prefix.network_address), prefix.prefixlen


TEMPLATE_GLOBALS: dict[Platform, dict[str, object]] = {
    Platform.FRR: {
        "FRR_DEFAULT_ISIS_METRIC": FRR_DEFAULT_ISIS_METRIC,
        "frr_interfaces": frr_interfaces,
        "frr_static_routes": frr_static_routes,
    },
}
"""Constants and functions each platform's templates may use."""
