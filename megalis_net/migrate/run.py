"""``migrate run`` and ``migrate rollback`` of one wave, journaled.

A run: reconcile (close what a dead run left open, roll back the commits it
left unconfirmed) → pre-check each site → allocate (or restore what the
journal already gave) → the transaction (``transaction.py``) → done. A
second run of a finished wave changes nothing: it compares the routers with
the inventory and says so.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from megalis_net.deploy import (
    DEFAULT_CONFIRM_TIMEOUT,
    DeployReport,
    Outcome,
    cancel_pending,
    deploy,
)
from megalis_net.errors import MegalisError
from megalis_net.intent import build_intents
from megalis_net.ipam import (
    Allocations,
    allocate,
    allocation_slots,
    parse_site_allocation,
    site_allocation_row,
)
from megalis_net.migrate.journal import Journal, SiteRecord, SiteState, Step
from megalis_net.migrate.routers import Files, Routers, devices_of
from megalis_net.migrate.transaction import Change, Progress, Transaction, quiet
from megalis_net.model import Network, SiteStatus
from megalis_net.render import render_all
from megalis_net.snmp import poll

DEFAULT_VERIFY_TIMEOUT = 60.0


class MigrateError(MegalisError):
    """The wave cannot run as asked (unknown sites, routers out of reach...)."""


class SiteOutcome(StrEnum):
    MIGRATED = "migrated"
    ALREADY = "already migrated"
    ROLLED_BACK = "rolled back"
    NOT_MIGRATED = "not migrated"  # was never on Mégalis II: nothing to roll back
    FAILED = "failed"


@dataclass(frozen=True)
class RunOptions:
    verify_timeout: float = DEFAULT_VERIFY_TIMEOUT
    confirm_timeout: int = DEFAULT_CONFIRM_TIMEOUT
    stop_on_error: bool = False


@dataclass(frozen=True)
class SiteResult:
    site: str
    pop: str
    outcome: SiteOutcome
    reason: str | None = None


@dataclass
class WaveResult:
    wave: int
    action: str  # run, rollback
    sites: list[SiteResult] = field(default_factory=list)
    deploys: list[DeployReport] = field(default_factory=list)
    reconciled: list[str] = field(default_factory=list)
    routers_changed: bool = False
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return all(s.outcome is not SiteOutcome.FAILED for s in self.sites)

    def count(self, outcome: SiteOutcome) -> int:
        return sum(1 for s in self.sites if s.outcome is outcome)

    def to_json(self) -> dict[str, Any]:
        return {
            "wave": self.wave,
            "action": self.action,
            "ok": self.ok,
            "routers_changed": self.routers_changed,
            "seconds": round(self.seconds, 1),
            "counts": {o.value: self.count(o) for o in SiteOutcome if self.count(o)},
            "reconciled": self.reconciled,
            "sites": [
                {"site": s.site, "pop": s.pop, "outcome": s.outcome.value, "reason": s.reason}
                for s in self.sites
            ],
            "routers": [
                {"host": d.host, "outcome": d.outcome.value, "error": d.error}
                for report in self.deploys
                for d in report.all
            ],
        }


@dataclass
class Wave:
    """One wave's run or rollback: the journal, the inventory, the routers."""

    journal: Journal
    files: Files
    routers: Routers
    number: int
    sites: Sequence[str]
    options: RunOptions = field(default_factory=RunOptions)
    progress: Progress = quiet

    def run(self) -> WaveResult:
        return self._journaled("run", self._run)

    def rollback(self) -> WaveResult:
        return self._journaled("rollback", self._rollback)

    def _journaled(self, action: str, body: Any) -> WaveResult:
        started = time.monotonic()
        self.journal.start_run(self.number, action)
        outcome = "error"
        try:
            result: WaveResult = body()
            outcome = "ok" if result.ok else "failed"
        finally:
            self.journal.end_run(outcome)
        result.seconds = time.monotonic() - started
        return result

    # -- run -----------------------------------------------------------------------

    def _run(self) -> WaveResult:
        result = WaveResult(self.number, "run")
        network, allocations = self.files.load()
        pops = self._pops(network)
        # first: a wave is recorded once the routers can be reached
        result.reconciled = self._reconcile(network)
        self.journal.start_wave(
            self.number, [(s, pops[s], s in allocations.sites) for s in self.sites]
        )
        records = {r.site: r for r in self.journal.sites(self.number)}
        by_id = {site.id: site for site in network.sites}
        # active before this wave touched it (by hand, or another tool): nothing to do
        outside = [
            s for s in self.sites if records[s].state is SiteState.PENDING and by_id[s].active
        ]
        self.journal.end(self.number, outside, Step.PRECHECK, SiteState.DONE, "already active")
        # done and still active (a site made legacy by hand since goes again)
        done = [
            s
            for s in self.sites
            if (records[s].state is SiteState.DONE and by_id[s].active) or s in outside
        ]
        todo = [s for s in self.sites if s not in done]
        result.sites += [SiteResult(s, pops[s], SiteOutcome.ALREADY) for s in done]
        if not todo:
            self._compare_only(network, allocations, result)
            return result
        good, bad = self._precheck(network, todo)
        allocations = self._allocate(network, allocations, good, records)
        transacted = self._transaction(network, allocations).run(
            Change(SiteStatus.ACTIVE, Step.VERIFY, SiteState.DONE), good
        )
        failed = {**bad, **transacted.failed}
        result.deploys += transacted.deploys
        result.routers_changed = transacted.changed_routers
        result.sites += [SiteResult(s, pops[s], SiteOutcome.MIGRATED) for s in transacted.done]
        result.sites += [
            SiteResult(s, pops[s], SiteOutcome.FAILED, why) for s, why in failed.items()
        ]
        order = {site: n for n, site in enumerate(self.sites)}
        result.sites.sort(key=lambda r: order[r.site])
        return result

    def _pops(self, network: Network) -> dict[str, str]:
        pops = {site.id: site.pop for site in network.sites}
        unknown = [s for s in self.sites if s not in pops]
        if unknown:
            more = f" (and {len(unknown) - 1} more)" if len(unknown) > 1 else ""
            raise MigrateError(
                f"wave {self.number}: site {unknown[0]}{more} is not in {self.files.sites_file}:"
                " the plan is older than the inventory (run `megalis-net migrate plan` again)"
            )
        return pops

    def _transaction(self, network: Network, allocations: Allocations) -> Transaction:
        return Transaction(
            self.journal,
            self.routers,
            self.number,
            network,
            allocations,
            self.files.set_status,
            self.options.verify_timeout,
            self.options.confirm_timeout,
            self.options.stop_on_error,
            self.progress,
        )

    def _reconcile(self, network: Network) -> list[str]:
        """Close what dead runs left open; cancel the commits they left unconfirmed."""
        notes = []
        runs = self.journal.interrupted_runs()
        for step in self.journal.close_interrupted(runs):
            notes.append(f"run {step.run} died during {step.step.value} of {step.site}")
        if runs:
            which = ", ".join(map(str, runs))
            notes = [f"{len(runs)} interrupted run(s): {which}", *_squeeze(notes)]
        devices = sorted(d.name for d in network.devices)  # a wave may change any of them
        self.progress(f"wave {self.number}: reconciling with {len(devices)} routers", 0, 0)
        found = cancel_pending(self.routers.targets(network, devices))
        blocked = {h: why for h, why in found.items() if why.startswith("cannot")}
        if blocked:
            host, why = sorted(blocked.items())[0]
            raise MigrateError(f"{host}: {why}; nothing changed")
        notes += [f"{host}: {what}" for host, what in sorted(found.items())]
        if notes:
            in_flight = [r.site for r in self.journal.sites(self.number) if r.state not in _SETTLED]
            self.journal.end(self.number, in_flight, Step.RECONCILE, detail="; ".join(notes)[:500])
        return notes

    def _precheck(self, network: Network, todo: list[str]) -> tuple[list[str], dict[str, str]]:
        """Sites that can go, and those that cannot (with why): their router must
        answer SNMP (or the migration could not be verified)."""
        self.journal.begin(self.number, todo, Step.PRECHECK)
        self.progress(f"wave {self.number}: pre-checks", 0, len(todo))
        bad: dict[str, str] = {}
        devices = devices_of(network, todo)
        answers = poll(self.routers.agents(devices), self.routers.settings)
        silent = {device: a.error for device, a in answers.items() if not a.ok}
        for site in todo:
            routers = devices_of(network, [site])
            if not routers:
                bad[site] = "no router at its PoP"
            for device in routers:
                if device in silent:
                    bad[site] = f"{device} does not answer SNMP: {silent[device]}"
        good = [s for s in todo if s not in bad]
        self.journal.end(self.number, good, Step.PRECHECK)
        self.journal.fail(self.number, bad, Step.PRECHECK)
        return good, bad

    def _allocate(
        self,
        network: Network,
        allocations: Allocations,
        sites: list[str],
        records: dict[str, SiteRecord],
    ) -> Allocations:
        """The allocations with every site of ``sites`` allocated: what the journal
        gave it in an earlier run, what the inventory has, or a new one."""
        self.journal.begin(self.number, sites, Step.ALLOCATE)
        held = dict(allocations.sites)
        taken = {slot for alloc in held.values() for slot in allocation_slots(alloc)}
        for site in sites:
            given = records[site].allocation
            if site in held or given is None:
                continue
            # given before (lost with a run that died, or freed by a rollback): the
            # same again, unless a site allocated since the rollback holds part of it
            alloc = parse_site_allocation(given)
            if not allocation_slots(alloc) & taken:
                held[site] = alloc
                taken |= allocation_slots(alloc)
        current = Allocations(allocations.loopbacks, allocations.links, held)
        # the whole network, so that each site gets what it would in one allocation
        everything = allocate(network, current).allocations.sites
        new = {s: everything[s] for s in sites if s not in held}
        self.journal.record_allocations(
            self.number, {s: site_allocation_row(a) for s, a in new.items()}
        )
        kept = [s for s in sites if s not in new]
        self.journal.end(self.number, kept, Step.ALLOCATE, SiteState.ALLOCATED, "kept")
        result = Allocations(current.loopbacks, current.links, {**held, **new})
        self.files.save_allocations(result)
        return result

    def _compare_only(self, network: Network, allocations: Allocations, result: WaveResult) -> None:
        """A finished wave: compare the routers with the inventory, change nothing."""
        intents = build_intents(network, allocations, self.routers.platform)
        self.progress(f"wave {self.number}: comparing {len(intents)} routers", 0, 0)
        report = deploy(
            self.routers.targets(network, sorted(intents)), render_all(intents), dry_run=True
        )
        result.deploys.append(report)
        drift = [d.host for d in report.all if d.outcome is not Outcome.UNCHANGED]
        if drift:
            result.reconciled.append(
                f"routers differ from the inventory: {', '.join(drift)} (see `megalis-net deploy --dry-run`)"
            )

    # -- rollback --------------------------------------------------------------------

    def _rollback(self) -> WaveResult:
        result = WaveResult(self.number, "rollback")
        recorded = self.journal.wave_sites(self.number)
        if recorded is None:
            raise MigrateError(f"wave {self.number} has not run: nothing to roll back")
        self.sites = list(recorded)
        network, allocations = self.files.load()
        pops = self._pops(network)
        result.reconciled = self._reconcile(network)
        records = {r.site: r for r in self.journal.sites(self.number)}
        by_id = {site.id: site for site in network.sites}
        # what the routers may hold: whatever this migration touched (a site not
        # on them shows as no change)
        on_routers = [
            s for s in self.sites if by_id[s].active or records[s].state not in _UNTOUCHED
        ]
        others = [s for s in self.sites if s not in on_routers]
        self._release(others, records)
        self.journal.end(self.number, others, Step.ROLLBACK, SiteState.ROLLED_BACK)
        result.sites += [SiteResult(s, pops[s], SiteOutcome.NOT_MIGRATED) for s in others]
        if on_routers:

            def record(_: Network, sites: Sequence[str]) -> None:
                self._release(sites, records)

            change = Change(SiteStatus.LEGACY, Step.ROLLBACK, SiteState.ROLLED_BACK, record)
            transacted = self._transaction(network, allocations).run(change, on_routers)
            result.deploys += transacted.deploys
            result.routers_changed = transacted.changed_routers
            result.sites += [
                SiteResult(s, pops[s], SiteOutcome.ROLLED_BACK) for s in transacted.done
            ]
            result.sites += [
                SiteResult(s, pops[s], SiteOutcome.FAILED, why)
                for s, why in transacted.failed.items()
            ]
            _, latest = self.files.load()
            self.routers.attach(network.with_status(SiteStatus.LEGACY, transacted.done), latest)
        return result

    def _release(self, sites: Sequence[str], records: dict[str, SiteRecord]) -> None:
        """Free what the migration allocated to ``sites`` (not what they had before it)."""
        _, allocations = self.files.load()
        taken = {s for s in sites if not records[s].had_allocation}
        if taken & set(allocations.sites):
            kept = {s: a for s, a in allocations.sites.items() if s not in taken}
            self.files.save_allocations(Allocations(allocations.loopbacks, allocations.links, kept))


_SETTLED = {SiteState.DONE, SiteState.FAILED, SiteState.ROLLED_BACK, SiteState.PENDING}
_UNTOUCHED = {SiteState.PENDING, SiteState.ROLLED_BACK}


def _squeeze(notes: list[str], most: int = 5) -> list[str]:
    return notes[:most] + ([f"... and {len(notes) - most} more"] if len(notes) > most else [])
