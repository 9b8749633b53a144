"""What a migration plan must respect: wave sizes, window budgets, the calendar, the ring.

Constraints come from ``--constraints FILE`` (YAML, keys named like the
options: ``per_pop`` or ``per-pop``) and from options, which override the
file. Every bad value is reported with the file, line and field.
"""

from __future__ import annotations

from datetime import date, time
from enum import StrEnum
from pathlib import Path
from typing import Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
)

from megalis_net.errors import InputError, Problem
from megalis_net.model import SiteKind
from megalis_net.pydantic_errors import dotted, located_errors
from megalis_net.yamlsource import load_yaml

COMMAND_LINE = "command line"
"""Where an option's value came from, in an error message."""


class Night(StrEnum):
    """The weekday on which a night window starts."""

    MON = "mon"
    TUE = "tue"
    WED = "wed"
    THU = "thu"
    FRI = "fri"
    SAT = "sat"
    SUN = "sun"

    @property
    def weekday(self) -> int:
        """Monday is 0, as ``date.weekday()``."""
        return list(Night).index(self)


# A Friday-night change lands on a weekend without staff to fix what broke.
WORKING_NIGHTS = (Night.MON, Night.TUE, Night.WED, Night.THU)


class Constraints(BaseModel):
    """The limits a plan respects; the defaults are a cautious team's first month.

    A window (one night, 22:00-06:00) takes at most ``waves_per_window`` waves
    and ``budget`` sites: each wave ends with checks and a go/no-go before the
    next one starts, so a night holds a few waves, not any number of them.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    # One PoP's field team and its router's commit: a few sites at a time.
    per_pop: int = Field(default=10, ge=1)
    # A wave is the unit of rollback: small enough to undo in one go (about
    # three hours for 40 sites over four PoP teams, checks included).
    per_wave: int = Field(default=40, ge=1)
    waves_per_window: int = Field(default=3, ge=1)
    # Sites migrated and verified in one night, with two hours kept for a rollback.
    budget: int = Field(default=80, ge=1)
    # Kinds migrated alone, in their own windows (a hospital gets the whole team).
    own_window_kinds: tuple[SiteKind, ...] = (SiteKind.HOPITAL,)
    start: date = date(2007, 4, 2)
    # Mégalis II had to carry all 3000 sites by 1 July 2007: the last window
    # must end before that day starts.
    deadline: date = date(2007, 7, 1)
    nights: tuple[Night, ...] = Field(default=WORKING_NIGHTS, min_length=1)
    window_start: time = time(22, 0)
    window_end: time = time(6, 0)
    skip_holidays: bool = True
    # The ring must carry the migrated sites' traffic with this many elements down.
    capacity_depth: int = Field(default=1, ge=0, le=2)
    check_capacity: bool = True

    @field_validator("nights", "own_window_kinds", mode="before")
    @classmethod
    def _comma_separated(cls, value: Any) -> Any:
        """``mon,tue`` on the command line, a list in YAML: both accepted."""
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @field_validator("nights")
    @classmethod
    def _week_order(cls, nights: tuple[Night, ...]) -> tuple[Night, ...]:
        return tuple(sorted(set(nights), key=lambda n: n.weekday))

    @field_validator("own_window_kinds")
    @classmethod
    def _kind_order(cls, kinds: tuple[SiteKind, ...]) -> tuple[SiteKind, ...]:
        return tuple(sorted(set(kinds)))

    @field_validator("window_end")
    @classmethod
    def _not_empty(cls, end: time, info: ValidationInfo) -> time:
        if end == info.data.get("window_start"):
            raise ValueError("a window cannot end when it starts")
        return end


FIELDS = tuple(Constraints.model_fields)


def option_name(field: str) -> str:
    """``per_pop`` -> ``--per-pop``."""
    return "--" + field.replace("_", "-")


def load_constraints(path: Path | None, options: dict[str, Any]) -> Constraints:
    """The file's constraints (if any) with ``options`` (not None) on top.

    Raises InputError naming the file, line and field of each bad value, or
    the option (``command line: --per-pop``) when the value came from one.
    """
    raw: dict[str, Any] = {}
    lines: dict[str, int | None] = {}
    source = None
    if path is not None:
        source = load_yaml(path)
        data = source.data
        if data is None:
            data = {}
        if not isinstance(data, dict):
            raise InputError([Problem(str(path), 1, "", "expected a mapping of field: value")])
        for key, value in data.items():
            field = str(key).replace("-", "_")
            raw[field] = value
            lines[field] = source.line_of((key,))
    given = {field: value for field, value in options.items() if value is not None}
    try:
        return Constraints.model_validate({**raw, **given})
    except ValidationError as exc:
        problems = []
        for loc, message in located_errors(exc):
            field = str(loc[0]) if loc else ""
            if field in given or path is None:
                problems.append(Problem(COMMAND_LINE, None, option_name(field), message))
            else:
                problems.append(Problem(str(path), lines.get(field), dotted(loc), message))
        raise InputError(problems) from exc
