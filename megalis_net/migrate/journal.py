"""The migration journal: every step of every site, durably, in SQLite.

One file in the state directory (``migrate.sqlite``). Each record is its own
committed transaction with ``synchronous=FULL``: once a call returns, the
record survives ``kill -9`` and power loss. A step is written when it begins
and again when it ends (or fails), so a run that died leaves the steps it was
in the middle of as begun and never ended: the next run reads them, closes
them as interrupted, and reconciles with the routers and the inventory.

Tables:

- ``waves``: each wave's sites as they were when the wave first ran (a plan
  changed afterwards cannot silently move a half-migrated wave);
- ``sites``: per site, its wave, its state, the reason of a failure, the
  allocation the migration gave it (so a re-run restores it, never
  allocates again) and whether it had one before (so a rollback frees only
  what the migration took);
- ``steps``: the log, one row per begin/end/failure of a step;
- ``runs``: each ``migrate run``/``rollback`` invocation and how it ended.
"""

from __future__ import annotations

import json
import os
import sqlite3
import time
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

from megalis_net.errors import MegalisError

JOURNAL_FILE = "migrate.sqlite"
SCHEMA_VERSION = 1

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS runs (
    run INTEGER PRIMARY KEY AUTOINCREMENT,
    wave INTEGER NOT NULL,
    command TEXT NOT NULL,
    pid INTEGER NOT NULL,
    started REAL NOT NULL,
    ended REAL,
    outcome TEXT
);
CREATE TABLE IF NOT EXISTS waves (
    wave INTEGER PRIMARY KEY,
    sites TEXT NOT NULL,
    first_run INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS sites (
    site TEXT PRIMARY KEY,
    wave INTEGER NOT NULL,
    pop TEXT NOT NULL,
    state TEXT NOT NULL,
    reason TEXT,
    allocation TEXT,
    had_allocation INTEGER NOT NULL DEFAULT 0,
    updated REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS steps (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    run INTEGER NOT NULL,
    wave INTEGER NOT NULL,
    site TEXT NOT NULL,
    step TEXT NOT NULL,
    phase TEXT NOT NULL CHECK (phase IN ('begin', 'end', 'failed', 'interrupted')),
    detail TEXT,
    at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS steps_site ON steps (site, id);
"""


class JournalError(MegalisError):
    """The journal cannot be opened or contradicts what is asked."""


class SiteState(StrEnum):
    PENDING = "pending"  # in a wave that has started, not yet worked on
    ALLOCATED = "allocated"
    DEPLOYING = "deploying"  # on its way to the routers (commit not confirmed)
    RECORDED = "recorded"  # verified and written active in the inventory; confirm next
    DONE = "done"
    FAILED = "failed"
    ROLLING_BACK = "rolling back"
    ROLLED_BACK = "rolled back"


class Step(StrEnum):
    PRECHECK = "precheck"
    ALLOCATE = "allocate"
    RENDER = "render"
    DEPLOY = "deploy"
    VERIFY = "verify"
    RECORD = "record"
    CONFIRM = "confirm"
    RECONCILE = "reconcile"
    ROLLBACK = "rollback"


@dataclass(frozen=True)
class SiteRecord:
    site: str
    wave: int
    pop: str
    state: SiteState
    reason: str | None
    allocation: dict[str, Any] | None
    had_allocation: bool


@dataclass(frozen=True)
class StepRecord:
    id: int
    run: int
    wave: int
    site: str
    step: Step
    phase: str
    detail: str | None


class Journal:
    """The journal file, open; one per process (use as a context manager)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self.db = sqlite3.connect(path, isolation_level=None, timeout=30)
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("PRAGMA synchronous=FULL")  # durable at each commit
            self.db.executescript(_SCHEMA)
            self._check_version()
        except sqlite3.DatabaseError as exc:
            raise JournalError(f"{path}: cannot open the migration journal: {exc}") from exc
        self.run: int | None = None

    def __enter__(self) -> Journal:
        return self

    def __exit__(self, *_: object) -> None:
        self.db.close()

    def _check_version(self) -> None:
        row = self.db.execute("SELECT value FROM meta WHERE key = 'schema'").fetchone()
        if row is None:
            self.db.execute("INSERT INTO meta VALUES ('schema', ?)", (str(SCHEMA_VERSION),))
        elif row[0] != str(SCHEMA_VERSION):
            raise JournalError(
                f"{self.path}: journal schema {row[0]}, this version reads {SCHEMA_VERSION}"
            )

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        self.db.execute("BEGIN IMMEDIATE")
        try:
            yield self.db
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        self.db.execute("COMMIT")

    # -- runs and waves ----------------------------------------------------------

    def start_run(self, wave: int, command: str) -> int:
        with self._transaction() as db:
            cursor = db.execute(
                "INSERT INTO runs (wave, command, pid, started) VALUES (?, ?, ?, ?)",
                (wave, command, os.getpid(), time.time()),
            )
        self.run = int(cursor.lastrowid or 0)
        return self.run

    def end_run(self, outcome: str) -> None:
        """The run ends; a step it leaves open (an error stopped it) is closed as interrupted."""
        self._close(self._open_steps(self.run or -1))
        with self._transaction() as db:
            db.execute(
                "UPDATE runs SET ended = ?, outcome = ? WHERE run = ?",
                (time.time(), outcome, self.run),
            )

    def interrupted_runs(self) -> list[int]:
        """Earlier runs that never ended (killed, power lost)."""
        rows = self.db.execute(
            "SELECT run FROM runs WHERE ended IS NULL AND run != ? ORDER BY run", (self.run or -1,)
        )
        return [int(r[0]) for r in rows]

    def close_interrupted(self, runs: Sequence[int]) -> list[StepRecord]:
        """Mark the runs ended as interrupted; return the steps they left open
        (begun, never ended), each now closed as interrupted."""
        open_steps = [step for run in runs for step in self._open_steps(run)]
        self._close(open_steps)
        with self._transaction() as db:
            db.executemany(
                "UPDATE runs SET ended = ?, outcome = 'interrupted' WHERE run = ?",
                [(time.time(), run) for run in runs],
            )
        return open_steps

    def _close(self, steps: Sequence[StepRecord]) -> None:
        with self._transaction() as db:
            db.executemany(
                "INSERT INTO steps (run, wave, site, step, phase, detail, at)"
                " VALUES (?, ?, ?, ?, 'interrupted', ?, ?)",
                [
                    (self.run, s.wave, s.site, s.step.value, f"run {s.run}", time.time())
                    for s in steps
                ],
            )

    def _open_steps(self, run: int) -> list[StepRecord]:
        """Steps of ``run`` begun and neither ended nor closed since (by a later run)."""
        rows = self.db.execute(
            "SELECT id, run, wave, site, step, phase, detail FROM steps"
            " WHERE run = ? OR (phase = 'interrupted' AND detail = ?) ORDER BY id",
            (run, f"run {run}"),
        ).fetchall()
        opened: dict[tuple[str, str], StepRecord] = {}
        for row in rows:
            record = _step(row)
            key = (record.site, record.step.value)
            if record.phase == "begin":
                opened[key] = record
            else:
                opened.pop(key, None)
        return list(opened.values())

    def wave_sites(self, wave: int) -> tuple[str, ...] | None:
        row = self.db.execute("SELECT sites FROM waves WHERE wave = ?", (wave,)).fetchone()
        return tuple(json.loads(row[0])) if row else None

    def start_wave(self, wave: int, sites: Sequence[tuple[str, str, bool]]) -> None:
        """Record the wave's sites ((site, PoP, had an allocation) each) the first time
        it runs; a wave already recorded must be asked with the same sites."""
        ids = [site for site, _, _ in sites]
        known = self.wave_sites(wave)
        if known is not None:
            if list(known) != ids:
                raise JournalError(
                    f"wave {wave} started with {len(known)} sites and the plan now gives it"
                    f" {len(ids)} different ones: finish it with the plan it started with,"
                    f" or roll it back (megalis-net migrate rollback --wave {wave})"
                )
            return
        elsewhere = self._sites_in_other_waves(ids, wave)
        if elsewhere:
            site, other = elsewhere[0]
            raise JournalError(f"site {site} is already in wave {other} of the journal")
        now = time.time()
        with self._transaction() as db:
            db.execute("INSERT INTO waves VALUES (?, ?, ?)", (wave, json.dumps(ids), self.run))
            db.executemany(
                "INSERT INTO sites (site, wave, pop, state, had_allocation, updated)"
                " VALUES (?, ?, ?, 'pending', ?, ?)",
                [(site, wave, pop, int(had), now) for site, pop, had in sites],
            )

    def _sites_in_other_waves(self, ids: Sequence[str], wave: int) -> list[tuple[str, int]]:
        found = []
        for chunk in _chunks(ids, 500):
            marks = ",".join("?" * len(chunk))
            rows = self.db.execute(
                f"SELECT site, wave FROM sites WHERE wave != ? AND site IN ({marks})",
                (wave, *chunk),
            )
            found += [(str(r[0]), int(r[1])) for r in rows]
        return sorted(found)

    def waves(self) -> list[int]:
        return [int(r[0]) for r in self.db.execute("SELECT wave FROM waves ORDER BY wave")]

    # -- sites and steps ---------------------------------------------------------

    def sites(self, wave: int | None = None) -> list[SiteRecord]:
        query = "SELECT site, wave, pop, state, reason, allocation, had_allocation FROM sites"
        rows = (
            self.db.execute(query + " WHERE wave = ? ORDER BY site", (wave,))
            if wave is not None
            else self.db.execute(query + " ORDER BY wave, site")
        )
        return [
            SiteRecord(
                str(r[0]), int(r[1]), str(r[2]), SiteState(r[3]), r[4],
                json.loads(r[5]) if r[5] else None, bool(r[6]),
            )
            for r in rows
        ]  # fmt: skip

    def begin(
        self, wave: int, sites: Iterable[str], step: Step, state: SiteState | None = None
    ) -> None:
        """The step begins for ``sites``; with ``state``, they are now in it."""
        self._log(wave, sites, step, "begin", "", state)

    def end(
        self,
        wave: int,
        sites: Iterable[str],
        step: Step,
        state: SiteState | None = None,
        detail: str = "",
    ) -> None:
        """The step ended well for ``sites``; with ``state``, they are now in it."""
        self._log(wave, sites, step, "end", detail, state)

    def fail(self, wave: int, reasons: dict[str, str], step: Step) -> None:
        """The step failed for these sites, each with its reason: they are failed."""
        now = time.time()
        with self._transaction() as db:
            db.executemany(
                "INSERT INTO steps (run, wave, site, step, phase, detail, at)"
                " VALUES (?, ?, ?, ?, 'failed', ?, ?)",
                [(self.run, wave, s, step.value, why, now) for s, why in reasons.items()],
            )
            db.executemany(
                "UPDATE sites SET state = 'failed', reason = ?, updated = ? WHERE site = ?",
                [(why, now, s) for s, why in reasons.items()],
            )

    def _log(
        self,
        wave: int,
        sites: Iterable[str],
        step: Step,
        phase: str,
        detail: str,
        state: SiteState | None = None,
    ) -> None:
        ids = list(sites)
        if not ids:
            return
        now = time.time()
        with self._transaction() as db:
            db.executemany(
                "INSERT INTO steps (run, wave, site, step, phase, detail, at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                [(self.run, wave, s, step.value, phase, detail or None, now) for s in ids],
            )
            if state is not None:
                db.executemany(
                    "UPDATE sites SET state = ?, reason = NULL, updated = ? WHERE site = ?",
                    [(state.value, now, s) for s in ids],
                )

    def record_allocations(self, wave: int, allocations: dict[str, dict[str, Any]]) -> None:
        """The allocations given to these sites, before the inventory holds them."""
        now = time.time()
        with self._transaction() as db:
            db.executemany(
                "UPDATE sites SET allocation = ?, state = 'allocated', updated = ? WHERE site = ?",
                [(json.dumps(a, sort_keys=True), now, s) for s, a in allocations.items()],
            )
            db.executemany(
                "INSERT INTO steps (run, wave, site, step, phase, detail, at)"
                " VALUES (?, ?, ?, 'allocate', 'end', ?, ?)",
                [
                    (self.run, wave, s, json.dumps(a, sort_keys=True), now)
                    for s, a in allocations.items()
                ],
            )

    def steps(self, site: str | None = None) -> list[StepRecord]:
        query = "SELECT id, run, wave, site, step, phase, detail FROM steps"
        rows = (
            self.db.execute(query + " WHERE site = ? ORDER BY id", (site,))
            if site is not None
            else self.db.execute(query + " ORDER BY id")
        )
        return [_step(row) for row in rows]

    def problems(
        self, active: Collection[str], allocated: Mapping[str, dict[str, str]]
    ) -> list[str]:
        """Where the journal contradicts itself or the inventory (``active`` site ids,
        ``allocated``: each site's allocation row): empty when consistent."""
        found = [f"run {run} never ended" for run in self.interrupted_runs()]
        for step in (s for run in self._runs() for s in self._open_steps(run)):
            found.append(f"run {step.run}: {step.step.value} of {step.site} begun, never ended")
        given: dict[str, int] = {}  # allocations since the site's last rollback freed one
        for site, step in self.db.execute(
            "SELECT site, step FROM steps WHERE phase = 'end' AND"
            " ((step = 'allocate' AND detail LIKE '{%') OR step = 'rollback') ORDER BY id"
        ):
            given[site] = given.get(site, 0) + 1 if step == "allocate" else 0
        found += [f"{site} was allocated {n} times" for site, n in sorted(given.items()) if n > 1]
        for record in self.sites():
            on = record.site in active
            if record.state is SiteState.DONE and not on:
                found.append(f"{record.site} is done in the journal, legacy in the inventory")
            if record.state in (SiteState.FAILED, SiteState.ROLLED_BACK, SiteState.PENDING) and on:
                found.append(
                    f"{record.site} is {record.state.value} in the journal, active in the inventory"
                )
            held = allocated.get(record.site)
            if record.allocation is not None and held is not None and held != record.allocation:
                found.append(f"{record.site}: the inventory's allocation is not the journal's")
        return found

    def _runs(self) -> list[int]:
        return [int(r[0]) for r in self.db.execute("SELECT run FROM runs ORDER BY run")]


def _step(row: Sequence[Any]) -> StepRecord:
    return StepRecord(
        int(row[0]), int(row[1]), int(row[2]), str(row[3]), Step(row[4]), str(row[5]), row[6]
    )


def _chunks(items: Sequence[str], size: int) -> Iterator[Sequence[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
