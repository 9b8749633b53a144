"""Group the legacy sites into waves, and check what the ring carries after each one.

A wave takes at most ``per_pop`` sites from each PoP and ``per_wave`` in all;
the PoPs with the most sites left go first, so the biggest PoP (Rennes) is in
every wave and the number of waves is as small as the limits allow. Within a
PoP, sites go by commune, then id: a wave's sites of one PoP are neighbours.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Collection, Sequence
from dataclasses import dataclass

from megalis_net.audit import FindingKind, run_audit
from megalis_net.migrate.constraints import Constraints
from megalis_net.migrate.windows import pack
from megalis_net.model import Network, Site, SiteStatus


@dataclass(frozen=True)
class Group:
    """A wave before it is numbered and dated."""

    kind: str | None
    sites: tuple[Site, ...]


def wave_cap(constraints: Constraints) -> int:
    """A wave must fit in one window, so it never passes the budget."""
    return min(constraints.per_wave, constraints.budget)


def fill(sites: Sequence[Site], per_pop: int, cap: int) -> list[tuple[Site, ...]]:
    """Waves of at most ``cap`` sites and ``per_pop`` per PoP, fullest PoPs first."""
    queues: dict[str, deque[Site]] = {}
    for site in sorted(sites, key=lambda s: (s.pop, s.commune, s.id)):
        queues.setdefault(site.pop, deque()).append(site)
    waves = []
    while queues:
        room, chosen = cap, []
        for pop in sorted(queues, key=lambda p: (-len(queues[p]), p)):
            take = min(per_pop, room, len(queues[pop]))
            chosen.append((pop, [queues[pop].popleft() for _ in range(take)]))
            room -= take
            if not queues[pop]:
                del queues[pop]
            if room == 0:
                break
        waves.append(tuple(site for _, taken in sorted(chosen) for site in taken))
    return waves


def group_waves(sites: Sequence[Site], constraints: Constraints) -> list[Group]:
    """The legacy sites as waves, in the order to migrate them.

    The first window's general waves go first: the procedure is proven on a
    night of schools and town halls before it touches a hospital. Then come
    the own-window kinds, each in its own waves, then the other general waves.
    """
    legacy = [site for site in sites if not site.active]
    own = set(constraints.own_window_kinds)
    cap = wave_cap(constraints)
    general = [
        Group(None, wave)
        for wave in fill([s for s in legacy if s.kind not in own], constraints.per_pop, cap)
    ]
    special = [
        Group(kind.value, wave)
        for kind in constraints.own_window_kinds
        for wave in fill([s for s in legacy if s.kind is kind], constraints.per_pop, cap)
    ]
    slots = pack([len(g.sites) for g in general], [None] * len(general), constraints)
    pilot = slots.count(0)
    return general[:pilot] + special + general[pilot:]


@dataclass(frozen=True)
class RingLoad:
    """The busiest backbone link once a wave is migrated, in any scenario the
    audit runs at the plan's depth (normal operation included)."""

    utilisation: float
    link: str | None
    scenario: str | None
    overload: str | None  # the audit's first over-capacity finding, if any


def carried(network: Network, migrated: Collection[str]) -> Network:
    """What Mégalis II carries once ``migrated`` are moved: its active sites only
    (a legacy site's traffic is still on Mégalis I)."""
    after = network.with_status(SiteStatus.ACTIVE, migrated)
    return after.model_copy(update={"sites": tuple(s for s in after.sites if s.active)})


def ring_load(network: Network, migrated: Collection[str], depth: int) -> RingLoad:
    """Run the audit on the network once ``migrated`` are active; any over-capacity
    finding (whatever its severity under the policy) fails the check."""
    report = run_audit(carried(network, migrated), depth)
    overloads = [
        finding
        for result in (report.baseline, *report.results)
        for finding in result.findings
        if finding.kind is FindingKind.OVER_CAPACITY
    ]
    worst = report.worst_link
    return RingLoad(
        utilisation=worst.utilisation if worst else 0.0,
        link=f"{worst.link} {worst.direction}" if worst else None,
        scenario=worst.scenario if worst else None,
        overload=overloads[0].detail if overloads else None,
    )


def prefix_ids(groups: Sequence[Group], count: int) -> set[str]:
    return {site.id for group in groups[:count] for site in group.sites}


def first_overload(network: Network, groups: Sequence[Group], depth: int) -> int | None:
    """Index of the first wave after which the ring is overloaded, or None.

    Loads only grow as sites are added (routing does not depend on demand), so
    the overloaded prefixes are a suffix of all prefixes: bisect, a handful of
    audits instead of one per wave.
    """
    if not groups or ring_load(network, prefix_ids(groups, len(groups)), depth).overload is None:
        return None
    low, high = 0, len(groups) - 1  # the answer lies in [low, high]
    while low < high:
        middle = (low + high) // 2
        if ring_load(network, prefix_ids(groups, middle + 1), depth).overload is None:
            low = middle + 1
        else:
            high = middle
    return low
