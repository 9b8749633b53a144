"""First-free allocators over an address prefix or a VLAN range.

Both are deterministic (the lowest free resource wins) and never hand out
what is already in use, whoever holds it. They only ever fill up during a
run, so each keeps a cursor below which nothing is free: allocating n items
costs O(n log n), not O(n²).
"""

from __future__ import annotations

from bisect import bisect_right, insort
from collections.abc import Iterable
from ipaddress import IPv4Network

from megalis_net.errors import MegalisError


class PoolExhausted(MegalisError):
    """A pool has no room left for what was asked."""

    def __init__(self, pool: str, extent: str, wanted: str) -> None:
        super().__init__(f"pool {pool} ({extent}) is exhausted: no free {wanted} left")
        self.pool = pool


def _align_up(value: int, size: int) -> int:
    return -(-value // size) * size


class AddressPool:
    """Free blocks of one prefix, around the blocks already used.

    Examples:
        >>> pool = AddressPool("site_links", IPv4Network("10.16.0.0/29"),
        ...                    [IPv4Network("10.16.0.2/31")])
        >>> [str(pool.take(31)) for _ in range(3)]
        ['10.16.0.0/31', '10.16.0.4/31', '10.16.0.6/31']
    """

    def __init__(
        self, name: str, prefix: IPv4Network, used: Iterable[IPv4Network], reserve_first: int = 0
    ) -> None:
        self.name = name
        self.prefix = prefix
        self._first = int(prefix.network_address) + reserve_first
        self._end = int(prefix.broadcast_address) + 1
        # Disjoint used blocks, sorted: starts and (exclusive) ends side by side.
        spans = sorted(
            (start, end)
            for start, end in (
                (int(n.network_address), int(n.network_address) + (1 << (32 - n.prefixlen)))
                for n in used
            )
            if start < self._end and end > int(prefix.network_address)
        )
        self._starts = [s for s, _ in spans]
        self._ends = [e for _, e in spans]
        self._cursor: dict[int, int] = {}

    def take(self, length: int) -> IPv4Network:
        size = 1 << (32 - length)
        start = _align_up(max(self._cursor.get(length, self._first), self._first), size)
        while start + size <= self._end:
            i = bisect_right(self._ends, start)
            if i < len(self._starts) and self._starts[i] < start + size:
                start = _align_up(self._ends[i], size)
                continue
            self._cursor[length] = start + size
            insort(self._starts, start)
            insort(self._ends, start + size)
            return IPv4Network((start, length))
        raise PoolExhausted(self.name, str(self.prefix), f"/{length}")


class VlanPool:
    """Free (port, VLAN) pairs over a PoP's access ports, each carrying the whole range.

    Examples:
        >>> pool = VlanPool("access_vlans at quimper", ports=2, first=100, last=101,
        ...                 used=[(0, 100)])
        >>> pool.take(), pool.take(), pool.take()
        ((0, [101]), (1, [100]), (1, [101]))
        >>> pool.take()
        Traceback (most recent call last):
        megalis_net.ipam.pools.PoolExhausted: pool access_vlans at quimper (VLANs 100-101 on \
2 ports) is exhausted: no free VLAN left
    """

    def __init__(
        self, name: str, ports: int, first: int, last: int, used: Iterable[tuple[int, int]]
    ) -> None:
        self.name = name
        self.ports = ports
        self.first = first
        self.last = last
        self._used = set(used)
        self._cursor = (0, first)

    @property
    def extent(self) -> str:
        ports = f"{self.ports} port{'s' if self.ports > 1 else ''}"
        return f"VLANs {self.first}-{self.last} on {ports}"

    def _free_on(self, port: int, start: int) -> int | None:
        for vlan in range(start, self.last + 1):
            if (port, vlan) not in self._used:
                return vlan
        return None

    def take(self, count: int = 1) -> tuple[int, list[int]]:
        """``count`` free VLANs on one port (a site's attachments share its port)."""
        port, start = self._cursor
        while port < self.ports:
            vlans: list[int] = []
            vlan = self._free_on(port, start)
            while vlan is not None and len(vlans) < count:
                vlans.append(vlan)
                vlan = self._free_on(port, vlan + 1)
            if len(vlans) == count:
                self._used.update((port, v) for v in vlans)
                if count == 1:
                    self._cursor = (port, vlans[0] + 1)
                return port, vlans
            port, start = port + 1, self.first
            if count == 1:
                self._cursor = (port, start)
        wanted = "VLAN" if count == 1 else f"{count} VLANs on one port"
        raise PoolExhausted(self.name, self.extent, wanted)
