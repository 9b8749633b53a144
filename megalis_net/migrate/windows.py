"""The maintenance calendar: which nights a window opens, and which waves each one takes.

French public holidays are computed (fixed dates, and Easter's moveable
feasts): a dozen dates a year do not justify a dependency.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from itertools import islice, takewhile

from megalis_net.migrate.constraints import Constraints

_FIXED_HOLIDAYS = (
    (1, 1, "Jour de l'an"),
    (5, 1, "Fête du travail"),
    (5, 8, "Victoire 1945"),
    (7, 14, "Fête nationale"),
    (8, 15, "Assomption"),
    (11, 1, "Toussaint"),
    (11, 11, "Armistice 1918"),
    (12, 25, "Noël"),
)
# Days after Easter Sunday.
_EASTER_HOLIDAYS = ((1, "Lundi de Pâques"), (39, "Ascension"), (50, "Lundi de Pentecôte"))


def easter(year: int) -> date:
    """Easter Sunday (Gregorian calendar, the anonymous algorithm).

    Examples:
        >>> easter(2007), easter(2024)
        (datetime.date(2007, 4, 8), datetime.date(2024, 3, 31))
    """
    a, b, c = year % 19, year // 100, year % 100
    d, e = divmod(b, 4)
    g = (8 * b + 13) // 25
    h = (19 * a + b - d - g + 15) % 30
    i, k = divmod(c, 4)
    l_ = (32 + 2 * e + 2 * i - h - k) % 7
    m = (a + 11 * h + 22 * l_) // 451
    month, day = divmod(h + l_ - 7 * m + 114, 31)
    return date(year, month, day + 1)


def french_holidays(year: int) -> dict[date, str]:
    """The public holidays of France (métropole) in ``year``, by date.

    Examples:
        >>> sorted(d.isoformat() for d in french_holidays(2007) if 4 <= d.month <= 6)
        ['2007-04-09', '2007-05-01', '2007-05-08', '2007-05-17', '2007-05-28']
    """
    fixed = {date(year, month, day): name for month, day, name in _FIXED_HOLIDAYS}
    sunday = easter(year)
    moving = {sunday + timedelta(days=n): name for n, name in _EASTER_HOLIDAYS}
    return {**fixed, **moving}


def is_holiday(day: date) -> bool:
    return day in french_holidays(day.year)


@dataclass(frozen=True)
class Window:
    """One maintenance window: a night, from ``start`` to ``end``."""

    start: datetime
    end: datetime


def usable(day: date, constraints: Constraints) -> bool:
    """A window may start on ``day``: a chosen night, and (unless told otherwise)
    neither its evening nor its morning after is a public holiday, when the
    staff that would fix a failure is off."""
    if day.weekday() not in {night.weekday for night in constraints.nights}:
        return False
    if not constraints.skip_holidays:
        return True
    window = window_on(day, constraints)
    return not (is_holiday(window.start.date()) or is_holiday(window.end.date()))


def window_on(day: date, constraints: Constraints) -> Window:
    """The window opening on ``day``; it ends the next morning when it crosses midnight."""
    start = datetime.combine(day, constraints.window_start)
    end = datetime.combine(day, constraints.window_end)
    return Window(start, end if end > start else end + timedelta(days=1))


def windows(constraints: Constraints) -> Iterator[Window]:
    """Every usable window from the start date on, without end."""
    day = constraints.start
    while True:
        if usable(day, constraints):
            yield window_on(day, constraints)
        day += timedelta(days=1)


def windows_before(constraints: Constraints, deadline: datetime) -> int:
    """How many windows end by ``deadline``."""
    return sum(1 for _ in takewhile(lambda w: w.end <= deadline, windows(constraints)))


def pack(sizes: Sequence[int], kinds: Sequence[str | None], constraints: Constraints) -> list[int]:
    """The window index of each wave: waves in order, a window closing when the next
    wave would pass the budget or the waves per window, or is of another kind
    (own-window kinds never share a window with anything else)."""
    index, used, count, kind = -1, 0, 0, object()
    out = []
    for size, wave_kind in zip(sizes, kinds, strict=True):
        full = used + size > constraints.budget or count == constraints.waves_per_window
        if index < 0 or full or wave_kind != kind:
            index, used, count, kind = index + 1, 0, 0, wave_kind
        used, count = used + size, count + 1
        out.append(index)
    return out


def schedule(
    sizes: Sequence[int], kinds: Sequence[str | None], constraints: Constraints
) -> list[Window]:
    """The window of each wave (see ``pack``), dated from the calendar."""
    slots = pack(sizes, kinds, constraints)
    dated = list(islice(windows(constraints), slots[-1] + 1 if slots else 0))
    return [dated[slot] for slot in slots]
