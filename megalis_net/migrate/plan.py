"""``migrate plan``: the legacy sites in waves, the waves in maintenance windows.

The plan file (``state/migrate-plan.json``) is what ``migrate run`` executes,
wave by wave: its shape is the ``PlanFile`` model below (``format: 1``).

The steps (``plan_migration``):

1. group the legacy sites into waves (``waves.group_waves``): per-PoP and
   per-wave limits, own-window kinds (hospitals) apart;
2. run the audit after each wave on what Mégalis II then carries: planning
   stops before the first wave that would overload the ring (the verdict
   says which and why; later waves are left unplanned rather than planned
   into an overload that ``migrate run`` would then execute);
3. pack the waves into windows (``windows.schedule``) and date them;
4. judge: the deadline, the binding constraint, what would make it hold.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from megalis_net.errors import InputError, Problem, UsageError
from megalis_net.fileio import atomic_write_text
from megalis_net.migrate.constraints import Constraints
from megalis_net.migrate.draft import Draft, draft
from megalis_net.migrate.verdict import Verdict, judge
from megalis_net.migrate.waves import RingLoad
from megalis_net.model import Network
from megalis_net.pydantic_errors import dotted, located_errors

PLAN_FILE = "migrate-plan.json"
FORMAT = 1

__all__ = [
    "FORMAT",
    "PLAN_FILE",
    "Constraints",
    "Plan",
    "Verdict",
    "Wave",
    "plan_document",
    "plan_json",
    "plan_migration",
    "read_plan",
    "write_plan",
]


@dataclass(frozen=True)
class Wave:
    """Sites migrated together, then checked together; the unit of rollback."""

    number: int  # 1-based
    sites: tuple[str, ...]  # site ids, in the order to migrate
    kind: str | None  # the own-window kind (e.g. "hopital"), None for general waves
    window_start: datetime | None
    window_end: datetime | None
    per_pop: tuple[tuple[str, int], ...] = ()  # sites per PoP, by PoP name
    load: float | None = None  # busiest backbone link's utilisation once migrated
    busiest: str | None = None  # that link and direction, and the scenario


@dataclass(frozen=True)
class Plan:
    waves: tuple[Wave, ...]
    constraints: Constraints
    verdict: Verdict

    def wave(self, number: int) -> Wave:
        """Wave ``number``; a UsageError names the waves there are. A plan made
        after earlier waves ran numbers its waves after theirs."""
        if not self.waves:
            raise UsageError(f"--wave {number}: the plan has no waves (nothing to migrate)")
        if not self.waves[0].number <= number <= self.waves[-1].number:
            raise UsageError(f"--wave {number}: the plan has waves {self.numbers}")
        return self.waves[number - self.waves[0].number]

    @property
    def numbers(self) -> str:
        return f"{self.waves[0].number}..{self.waves[-1].number}" if self.waves else "none"


def plan_migration(network: Network, constraints: Constraints, first_wave: int = 1) -> Plan:
    """Plan the legacy sites of ``network`` in waves and windows (see the module
    doc), numbering the waves from ``first_wave``."""
    base = draft(network, constraints, with_loads=True)
    return Plan(_waves(base, first_wave), constraints, judge(network, constraints, base))


def _waves(base: Draft, first_wave: int) -> tuple[Wave, ...]:
    loads: list[RingLoad | None] = [*base.loads] + [None] * (len(base.groups) - len(base.loads))
    waves = []
    for number, (group, window, load) in enumerate(
        zip(base.groups, base.windows, loads, strict=True), start=first_wave
    ):
        counts: dict[str, int] = {}
        for site in group.sites:
            counts[site.pop] = counts.get(site.pop, 0) + 1
        waves.append(
            Wave(
                number=number,
                sites=tuple(site.id for site in group.sites),
                kind=group.kind,
                window_start=window.start,
                window_end=window.end,
                per_pop=tuple(sorted(counts.items())),
                # Rounded as in the file, so that a plan read back equals the plan.
                load=round(load.utilisation, 6) if load else None,
                busiest=f"{load.link} ({load.scenario})" if load and load.link else None,
            )
        )
    return tuple(waves)


# The file's shape: validated on read, so a hand-edited plan fails with its field.
class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class WindowFile(_Frozen):
    start: datetime
    end: datetime


class RingFile(_Frozen):
    utilisation: float
    busiest: str | None


class WaveFile(_Frozen):
    wave: int = Field(ge=1)
    kind: str | None
    window: WindowFile | None
    sites: tuple[str, ...] = Field(min_length=1)
    per_pop: dict[str, int]
    ring: RingFile | None = None


class PlanFile(_Frozen):
    format: int = Field(ge=FORMAT, le=FORMAT)
    constraints: Constraints
    verdict: Verdict
    waves: tuple[WaveFile, ...]


def plan_document(plan: Plan) -> dict[str, Any]:
    """The plan as JSON-ready data: the plan file's content."""
    doc = PlanFile(
        format=FORMAT,
        constraints=plan.constraints,
        verdict=plan.verdict,
        waves=tuple(_wave_file(wave) for wave in plan.waves),
    )
    return doc.model_dump(mode="json")


def plan_json(plan: Plan) -> str:
    """The plan file's text: deterministic, so the same plan gives the same bytes."""
    return json.dumps(plan_document(plan), ensure_ascii=False, indent=1) + "\n"


def _wave_file(wave: Wave) -> WaveFile:
    window = None
    if wave.window_start is not None and wave.window_end is not None:
        window = WindowFile(start=wave.window_start, end=wave.window_end)
    ring = None
    if wave.load is not None:
        ring = RingFile(utilisation=wave.load, busiest=wave.busiest)
    return WaveFile(
        wave=wave.number,
        kind=wave.kind,
        window=window,
        sites=wave.sites,
        per_pop=dict(wave.per_pop),
        ring=ring,
    )


def write_plan(path: Path, plan: Plan) -> None:
    """Write the plan atomically: ``migrate run`` never reads half a plan."""
    atomic_write_text(path, plan_json(plan))


def read_plan(path: Path) -> Plan:
    """The plan of ``path``; InputError naming the file (and field) when it is
    missing, unreadable or malformed."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise _bad(path, "", "no plan: run `megalis-net migrate plan` first") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise _bad(path, "", f"cannot read: {exc}") from exc
    try:
        doc = PlanFile.model_validate_json(text)
    except ValidationError as exc:
        problems = [Problem(str(path), None, dotted(loc), msg) for loc, msg in located_errors(exc)]
        raise InputError(problems) from exc
    _check_waves(path, doc.waves)
    return Plan(tuple(_wave(w) for w in doc.waves), doc.constraints, doc.verdict)


def _check_waves(path: Path, waves: tuple[WaveFile, ...]) -> None:
    """Waves numbered in a row (from 1, or after the waves of an earlier plan),
    each site in one wave only: what ``migrate run`` relies on."""
    seen: dict[str, int] = {}
    first = waves[0].wave if waves else 1
    for index, wave in enumerate(waves):
        if wave.wave != first + index:
            raise _bad(
                path, f"waves[{index}].wave", f"expected wave {first + index}, got {wave.wave}"
            )
        for site in wave.sites:
            if site in seen:
                raise _bad(path, f"waves[{index}].sites", f"{site} is in wave {seen[site]} already")
            seen[site] = wave.wave


def _bad(path: Path, field: str, message: str) -> InputError:
    return InputError([Problem(str(path), None, field, message)])


def _wave(doc: WaveFile) -> Wave:
    return Wave(
        number=doc.wave,
        sites=doc.sites,
        kind=doc.kind,
        window_start=doc.window.start if doc.window else None,
        window_end=doc.window.end if doc.window else None,
        per_pop=tuple(sorted(doc.per_pop.items())),
        load=doc.ring.utilisation if doc.ring else None,
        busiest=doc.ring.busiest if doc.ring else None,
    )
