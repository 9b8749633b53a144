"""One attempt at a plan under some constraints: waves, their windows, the ring check.

The verdict drafts the plan again with each constraint relaxed in turn; only
the plan itself records the ring load after every wave.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from megalis_net.migrate.constraints import Constraints
from megalis_net.migrate.waves import Group, RingLoad, first_overload, group_waves, ring_load
from megalis_net.migrate.windows import Window, schedule
from megalis_net.model import Network


@dataclass(frozen=True)
class Draft:
    """Waves (up to the first that would overload the ring) and their windows."""

    groups: tuple[Group, ...]
    windows: tuple[Window, ...]
    loads: tuple[RingLoad, ...]  # empty unless asked for
    unplanned: int  # legacy sites left out: the ring cannot carry them
    overload: str | None  # why planning stopped

    @property
    def end(self) -> datetime | None:
        """When the last window ends; None when there is nothing to migrate."""
        return self.windows[-1].end if self.windows else None

    @property
    def window_count(self) -> int:
        return len({w.start for w in self.windows})

    def holds(self, deadline: datetime) -> bool:
        return self.unplanned == 0 and (self.end is None or self.end <= deadline)


def draft(network: Network, constraints: Constraints, with_loads: bool = False) -> Draft:
    """Group, check the ring (unless relaxed), schedule."""
    groups = group_waves(network.sites, constraints)
    loads: list[RingLoad] = []
    stop = None
    if with_loads and constraints.check_capacity:
        stop, loads = _loads_until_overload(network, groups, constraints.capacity_depth)
    elif constraints.check_capacity:
        stop = first_overload(network, groups, constraints.capacity_depth)
    kept = groups if stop is None else groups[:stop]
    overload = None
    if stop is not None:
        cause = loads[-1].overload if loads else _overload_of(network, groups, stop, constraints)
        overload = f"wave {stop + 1} would overload the ring: {cause}"
    windows = schedule([len(g.sites) for g in kept], [g.kind for g in kept], constraints)
    return Draft(
        groups=tuple(kept),
        windows=tuple(windows),
        loads=tuple(loads[: len(kept)]),
        unplanned=sum(len(g.sites) for g in groups[len(kept) :]),
        overload=overload,
    )


def _loads_until_overload(
    network: Network, groups: list[Group], depth: int
) -> tuple[int | None, list[RingLoad]]:
    """The ring load after each wave, stopping at the first overload (its load last)."""
    loads: list[RingLoad] = []
    migrated: set[str] = set()
    for index, group in enumerate(groups):
        migrated.update(site.id for site in group.sites)
        load = ring_load(network, migrated, depth)
        loads.append(load)
        if load.overload is not None:
            return index, loads
    return None, loads


def _overload_of(network: Network, groups: list[Group], stop: int, constraints: Constraints) -> str:
    migrated = {site.id for group in groups[: stop + 1] for site in group.sites}
    return ring_load(network, migrated, constraints.capacity_depth).overload or ""
