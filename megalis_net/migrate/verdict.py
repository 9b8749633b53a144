"""Does the plan meet the deadline, which constraint binds, and what would make it hold.

The binding constraint is found by drafting the plan again with each
constraint relaxed in turn (lifted entirely) and keeping the one whose
relaxation ends the schedule soonest: the constraint to argue about first.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict

from megalis_net.migrate.constraints import Constraints, Night
from megalis_net.migrate.draft import Draft, draft
from megalis_net.migrate.waves import wave_cap
from megalis_net.migrate.windows import windows_before
from megalis_net.model import Network, Site

DAY = timedelta(days=1)


class Verdict(BaseModel):
    """The plan's outcome in numbers and in sentences an engineer can act on."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    holds: bool
    sites: int  # legacy sites planned
    unplanned: int  # legacy sites the ring cannot carry
    waves: int
    windows: int
    deadline: datetime
    last_window_end: datetime | None
    margin_days: int  # days to spare (>= 0) or short (< 0)
    overload: str | None
    binding: str | None  # the constraint's key: per_pop, budget, calendar...
    binding_text: str
    # Every relaxation that ends the schedule sooner, most first: "budget: 9 days sooner".
    relaxations: tuple[str, ...]
    remedies: tuple[str, ...]


def deadline_of(constraints: Constraints) -> datetime:
    """The deadline date at midnight: the last window must end before that day starts."""
    return datetime.combine(constraints.deadline, datetime.min.time())


def margin_days(end: datetime | None, deadline: datetime) -> int:
    """Whole days to spare (rounded down) or short (rounded up, negative).

    Examples:
        >>> margin_days(datetime(2007, 6, 29, 6), datetime(2007, 7, 1))
        1
        >>> margin_days(datetime(2007, 7, 3, 6), datetime(2007, 7, 1))
        -3
    """
    if end is None:
        return 0
    if end <= deadline:
        return (deadline - end).days
    return -math.ceil((end - deadline) / DAY)


Relax = Callable[[Constraints, int], dict[str, Any]]

# Each constraint lifted entirely; ``n`` is the number of legacy sites.
RELAXATIONS: dict[str, Relax] = {
    "per_pop": lambda c, n: {"per_pop": n},
    "per_wave": lambda c, n: {"per_wave": n},
    "waves_per_window": lambda c, n: {"waves_per_window": n},
    "budget": lambda c, n: {"budget": n},
    "own_windows": lambda c, n: {"own_window_kinds": ()},
    "capacity": lambda c, n: {"check_capacity": False},
    "calendar": lambda c, n: {"nights": tuple(Night), "skip_holidays": False},
}


def judge(network: Network, constraints: Constraints, base: Draft) -> Verdict:
    """The verdict on ``base``, the plan drafted under ``constraints``."""
    deadline = deadline_of(constraints)
    holds = base.holds(deadline)
    key, text, ranked = binding(network, constraints, base)
    return Verdict(
        holds=holds,
        sites=sum(len(g.sites) for g in base.groups),
        unplanned=base.unplanned,
        waves=len(base.groups),
        windows=base.window_count,
        deadline=deadline,
        last_window_end=base.end,
        margin_days=margin_days(base.end, deadline),
        overload=base.overload,
        binding=key,
        binding_text=text,
        relaxations=ranked,
        remedies=() if holds else remedies(network, constraints, base),
    )


def _finish(plan: Draft) -> float:
    """When the schedule ends, as a number; never when sites are left out."""
    if plan.unplanned:
        return math.inf
    return plan.end.timestamp() if plan.end else -math.inf


def binding(
    network: Network, constraints: Constraints, base: Draft
) -> tuple[str | None, str, tuple[str, ...]]:
    """The constraint whose relaxation shortens the schedule most, explained,
    and every relaxation that shortens it at all, most first."""
    legacy = [site for site in network.sites if not site.active]
    if not legacy:
        return None, "nothing to migrate: every site is active", ()
    gains: list[tuple[float, int, str, Draft]] = []
    for order, (key, relax) in enumerate(RELAXATIONS.items()):
        relaxed = draft(network, constraints.model_copy(update=relax(constraints, len(legacy))))
        gain = _finish(base) - _finish(relaxed)
        if not math.isnan(gain) and gain > 0:
            gains.append((-gain, order, key, relaxed))
    if not gains:
        return None, "no single constraint binds: lifting any one alone ends no sooner", ()
    gains.sort(key=lambda g: (g[0], g[1]))
    _, _, key, relaxed = gains[0]
    ranked = tuple(f"{k}: {_sooner(base, r)}" for _, _, k, r in gains)
    return key, f"{EXPLAIN[key](legacy, constraints, base)}; {_gain(base, relaxed)}", ranked


def _sooner(base: Draft, relaxed: Draft) -> str:
    if base.unplanned:
        return "every site planned"
    assert base.end is not None and relaxed.end is not None
    days = (base.end - relaxed.end).days
    return f"{days} day{'' if days == 1 else 's'} sooner"


def _gain(base: Draft, relaxed: Draft) -> str:
    end = relaxed.end.strftime("%Y-%m-%d") if relaxed.end else "at once"
    if base.unplanned:
        return f"without it every site is planned, the last window ending {end}"
    assert base.end is not None
    return (
        f"without it the last window ends {end} instead of {base.end:%Y-%m-%d}"
        f" ({_sooner(base, relaxed)})"
    )


def _general(legacy: list[Site], constraints: Constraints) -> list[Site]:
    return [s for s in legacy if s.kind not in constraints.own_window_kinds]


def _per_pop(legacy: list[Site], c: Constraints, base: Draft) -> str:
    # Only own-window sites left (all hospitals): their busiest PoP then.
    sites = _general(legacy, c) or legacy
    pop, count = max(Counter(s.pop for s in sites).items(), key=lambda i: i[1])
    return (
        f"per-PoP limit: {pop} has {count} legacy sites, {c.per_pop} per wave"
        f" → {math.ceil(count / c.per_pop)} waves at least"
    )


def _per_wave(legacy: list[Site], c: Constraints, base: Draft) -> str:
    count = len(_general(legacy, c))
    return (
        f"wave size: {count} sites at {wave_cap(c)} per wave → {math.ceil(count / wave_cap(c))}"
        f" waves at least, {c.waves_per_window} per window"
    )


def _waves_per_window(legacy: list[Site], c: Constraints, base: Draft) -> str:
    return (
        f"waves per window: {c.waves_per_window} waves of at most {wave_cap(c)} sites a night"
        f" → {c.waves_per_window * wave_cap(c)} sites a night at most"
    )


def _budget(legacy: list[Site], c: Constraints, base: Draft) -> str:
    count = len(_general(legacy, c))
    return (
        f"window budget: {c.budget} sites a night → {count} sites need"
        f" {math.ceil(count / c.budget)} windows at least"
    )


def _own_windows(legacy: list[Site], c: Constraints, base: Draft) -> str:
    own = [s for s in legacy if s.kind in c.own_window_kinds]
    nights = len({w.start for g, w in zip(base.groups, base.windows, strict=True) if g.kind})
    kinds = ", ".join(c.own_window_kinds)
    return f"own windows: {len(own)} {kinds} sites take {nights} windows of their own"


def _capacity(legacy: list[Site], c: Constraints, base: Draft) -> str:
    return f"ring capacity: {base.overload}; {base.unplanned} legacy sites left unplanned"


def _calendar(legacy: list[Site], c: Constraints, base: Draft) -> str:
    nights = ", ".join(n.value for n in c.nights)
    holidays = " outside public holidays" if c.skip_holidays else ""
    every = c.model_copy(update=RELAXATIONS["calendar"](c, 0))
    deadline = deadline_of(c)
    return (
        f"calendar: windows on {nights} nights{holidays} only: {windows_before(c, deadline)}"
        f" windows before the deadline, where every night would give"
        f" {windows_before(every, deadline)}"
    )


EXPLAIN: dict[str, Callable[[list[Site], Constraints, Draft], str]] = {
    "per_pop": _per_pop,
    "per_wave": _per_wave,
    "waves_per_window": _waves_per_window,
    "budget": _budget,
    "own_windows": _own_windows,
    "capacity": _capacity,
    "calendar": _calendar,
}

# The numeric constraints a remedy may loosen, with how to say the needed value.
LOOSENABLE = {
    "budget": "a budget of {} sites a night",
    "waves_per_window": "{} waves per window",
    "per_wave": "{} sites per wave",
    "per_pop": "{} sites per PoP per wave",
}


def remedies(network: Network, constraints: Constraints, base: Draft) -> tuple[str, ...]:
    """What alone would make the plan hold: the smallest loosening of each
    numeric constraint that does, and the other relaxations that do.

    When no budget alone is enough (the waves a night cap it), the budget
    needed with as many waves a night as fit is given too: the night's real
    size, which the team then splits into waves.
    """
    deadline = deadline_of(constraints)
    count = sum(1 for site in network.sites if not site.active)
    out = []
    if base.overload:
        out.append(f"more ring capacity ({base.overload})")
    for field, wording in LOOSENABLE.items():
        needed = smallest_holding(network, constraints, field, count, deadline)
        if needed is not None:
            out.append(f"{wording.format(needed)} (now {getattr(constraints, field)})")
    if not any(line.startswith("a budget") for line in out):
        unlimited = constraints.model_copy(update={"waves_per_window": count})
        needed = smallest_holding(network, unlimited, "budget", count, deadline)
        if needed is not None:
            out.append(
                f"a budget of {needed} sites a night (now {constraints.budget})"
                f" in as many waves as fit ({math.ceil(needed / wave_cap(constraints))} or more)"
            )
    for key in ("own_windows", "calendar"):
        relaxed = constraints.model_copy(update=RELAXATIONS[key](constraints, count))
        if draft(network, relaxed).holds(deadline):
            out.append(REMEDY_WORDS[key])
    return tuple(out) or ("no single change is enough: start earlier or loosen several",)


REMEDY_WORDS = {
    "own_windows": "let the own-window kinds share windows with the other sites",
    "calendar": "windows every night, weekends and public holidays included",
}


def smallest_holding(
    network: Network, constraints: Constraints, field: str, most: int, deadline: datetime
) -> int | None:
    """The smallest value of ``field`` above today's that makes the plan hold,
    by bisection (a looser limit does not lengthen the schedule, bar packing
    quirks at the edges); None if
    even ``most`` does not."""

    def holds(value: int) -> bool:
        return draft(network, constraints.model_copy(update={field: value})).holds(deadline)

    low: int = getattr(constraints, field) + 1
    if low > most or not holds(most):
        return None
    high = most
    while low < high:
        middle = (low + high) // 2
        if holds(middle):
            high = middle
        else:
            low = middle + 1
    return low
