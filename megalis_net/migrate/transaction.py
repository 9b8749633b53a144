"""One wave's change on the routers: deploy, check by SNMP, record, confirm.

The wave's sites go to their PEs in one deploy transaction (every PE in
parallel, commit-confirm). Before anything is confirmed, SNMP must show each
site as intended (migrating: its unit present, described, up; rolling back:
its description gone). Sites that fail are taken out and the transaction is
done again without them: a router only ever confirms what was verified. Then
the inventory is written, the journal says so, and the routers confirm.

Order, for a crash at any point: journal (begin) → routers (unconfirmed,
revert by themselves) → SNMP → journal → inventory → journal → confirm →
journal (end). The next run rolls back an unconfirmed commit and does the
transaction again from the inventory: whatever the routers already hold
shows as no change.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field

from megalis_net.deploy import DEFAULT_CHECK_TIMEOUT, DeployReport, Outcome, deploy
from megalis_net.intent import build_intents
from megalis_net.ipam import Allocations
from megalis_net.migrate.journal import Journal, SiteState, Step
from megalis_net.migrate.routers import Routers, devices_of, routers_of
from megalis_net.model import Network, SiteStatus
from megalis_net.render import render_all
from megalis_net.snmp import Agent, AgentPoll, poll
from megalis_net.verify import Intended, compare, intended_interfaces

POLL_EVERY = 2.0
# (what is happening, sites done, sites in all)
Progress = Callable[[str, int, int], None]


def quiet(_what: str, _done: int, _total: int) -> None:
    return None


@dataclass(frozen=True)
class Change:
    """Which way the wave goes, and what that means for its sites."""

    status: SiteStatus  # the sites' status once changed
    step: Step  # the journal's name for the check
    state: SiteState  # the journal's state once confirmed
    # the inventory beyond the status (a rollback frees what the migration allocated)
    record: Callable[[Network, Sequence[str]], None] | None = None


@dataclass
class Transacted:
    done: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)
    deploys: list[DeployReport] = field(default_factory=list)
    changed_routers: bool = False


@dataclass
class Transaction:
    journal: Journal
    routers: Routers
    wave: int
    network: Network
    allocations: Allocations
    record_status: Callable[[Network, Collection[str], SiteStatus], Network]
    verify_timeout: float
    confirm_timeout: int
    stop_on_error: bool = False
    progress: Progress = quiet

    def run(self, change: Change, sites: Sequence[str]) -> Transacted:
        """Take ``sites`` through the routers to ``change``; retry without the failed."""
        result = Transacted()
        pending = list(sites)
        while pending:
            failing = self._once(change, pending, result)
            if not failing:
                result.done += pending
                break
            result.failed.update(failing)
            pending = [s for s in pending if s not in failing]
            if self.stop_on_error:
                why = "not tried: --stop-on-error after a failure in this wave"
                result.failed.update(dict.fromkeys(pending, why))
                self.journal.fail(self.wave, dict.fromkeys(pending, why), change.step)
                break
        if result.failed:
            # the routers hold what is confirmed: the lab's site ends follow
            self.routers.attach(self.network, self.allocations)
        return result

    def _once(self, change: Change, sites: list[str], result: Transacted) -> dict[str, str]:
        """One deploy of ``sites``; the sites that failed, with why (empty: all done)."""
        target = self.network.with_status(change.status, sites)
        journal, wave = self.journal, self.wave
        journal.begin(wave, sites, Step.RENDER)
        # every router: a site can change more than its own PE (the first site of a
        # community anywhere changes the VPN's route targets elsewhere); deploy
        # leaves the routers without a diff alone
        intents = build_intents(target, self.allocations, self.routers.platform)
        configs = render_all(intents)
        journal.end(wave, sites, Step.RENDER)
        if change.status is SiteStatus.ACTIVE:
            self.routers.attach(target, self.allocations)  # the CPE before its config
        devices = sorted(configs)
        checked = devices_of(target, sites)
        agents = self.routers.agents(checked)
        chosen = set(sites)
        intended = [i for i in intended_interfaces(target, intents) if i.site_id in chosen]
        failing: dict[str, str] = {}
        recorded = False

        def before_confirm(_committed: Sequence[str]) -> dict[str, str]:
            nonlocal recorded
            journal.begin(wave, sites, change.step)
            wrong = self._check(change, target, sites, intended, agents)
            if wrong:
                failing.update(wrong)
                journal.fail(wave, wrong, change.step)
                return _by_router(target, wrong)
            journal.end(wave, sites, change.step)
            journal.begin(wave, sites, Step.RECORD)
            self.network = self.record_status(self.network, sites, change.status)
            if change.record is not None:
                change.record(self.network, sites)
            recorded = True
            journal.end(wave, sites, Step.RECORD, SiteState.RECORDED)
            journal.begin(wave, sites, Step.CONFIRM)
            return {}

        journal.begin(wave, sites, Step.DEPLOY, SiteState.DEPLOYING)
        self.progress(f"wave {wave}: deploying {len(sites)} sites to {len(devices)} routers", 0, 0)
        report = deploy(
            self.routers.targets(self.network, devices),
            configs,
            confirm_timeout=self.confirm_timeout,
            check_timeout=min(DEFAULT_CHECK_TIMEOUT, self.confirm_timeout / 2),
            progress=lambda step: self.progress(f"wave {wave}: {step}", 0, 0),
            before_confirm=before_confirm,
        )
        result.deploys.append(report)
        unchanged = report.ok and all(d.outcome is Outcome.UNCHANGED for d in report.all)
        result.changed_routers |= not unchanged
        if unchanged and not recorded:
            # the routers already hold it (a run that died after confirming): still
            # checked by SNMP before the inventory and the journal say so
            journal.end(wave, sites, Step.DEPLOY, detail="routers already hold it")
            before_confirm([])
        elif report.ok:
            journal.end(wave, sites, Step.DEPLOY)
        if failing:
            return failing
        if not report.ok:
            why = "; ".join(f"{d.host}: {d.error}" for d in report.all if d.error)
            why = why or "the deploy failed"
            if recorded:  # the confirmation failed after the inventory was written
                undo = (
                    SiteStatus.LEGACY if change.status is SiteStatus.ACTIVE else SiteStatus.ACTIVE
                )
                self.network = self.record_status(self.network, sites, undo)
            reasons = dict.fromkeys(sites, why)
            journal.fail(wave, reasons, Step.DEPLOY)
            return reasons
        journal.end(wave, sites, Step.CONFIRM, change.state)
        return {}

    def _check(
        self,
        change: Change,
        target: Network,
        sites: Sequence[str],
        intended: Sequence[Intended],
        agents: Sequence[Agent],
    ) -> dict[str, str]:
        """Poll until every site is as ``change`` wants, or the timeout: {site: why not}."""
        deadline = time.monotonic() + self.verify_timeout
        while True:
            answers = poll(agents, self.routers.settings)
            if change.status is SiteStatus.ACTIVE:
                wrong = _not_up(intended, answers, sites)
            else:
                wrong = _still_there(target, sites, answers)
            good = len(sites) - len(wrong)
            self.progress(
                f"wave {self.wave}: SNMP check, {good}/{len(sites)} sites", good, len(sites)
            )
            if not wrong:
                return {}
            if time.monotonic() > deadline:
                return {
                    s: f"SNMP after {self.verify_timeout:g} s: {why}" for s, why in wrong.items()
                }
            time.sleep(POLL_EVERY)


def _not_up(
    intended: Sequence[Intended], answers: Mapping[str, AgentPoll], sites: Sequence[str]
) -> dict[str, str]:
    """Sites whose unit is not present, described and up on its router."""
    result = compare(intended, answers, None, sorted(answers), 0.0)
    wrong: dict[str, list[str]] = {}
    for checked in result.checked:
        site = checked.intended.site_id
        for problem in checked.problems:
            where = f"{checked.intended.device} {checked.intended.interface}"
            wrong.setdefault(site or "", []).append(f"{where}: {problem.problem}: {problem.detail}")
    seen = {i.site_id for i in intended}
    for site in sites:
        if site not in seen:  # nothing routed to check (cannot happen for a routed site)
            wrong.setdefault(site, []).append("no routed unit in the intent to check")
    return {site: "; ".join(problems) for site, problems in wrong.items() if site}


def _still_there(
    network: Network, sites: Sequence[str], answers: Mapping[str, AgentPoll]
) -> dict[str, str]:
    """Sites that a router still describes (a rolled-back site leaves no unit)."""
    wanted = set(sites)
    wrong: dict[str, list[str]] = {}
    for device, answer in answers.items():
        if not answer.ok:
            for site, routers in sorted(routers_of(network, wanted).items()):
                if device in routers:
                    wrong.setdefault(site, []).append(f"{device} unreachable: {answer.error}")
            continue
        for row in answer.interfaces:
            site = row.alias.split(" ", 1)[0]
            if site in wanted:
                wrong.setdefault(site, []).append(
                    f"{device} {row.name} still carries {row.alias!r}"
                )
    return {site: "; ".join(problems) for site, problems in wrong.items()}


def _by_router(network: Network, wrong: Mapping[str, str]) -> dict[str, str]:
    """{site: why} -> {router: why}, for deploy's report."""
    by_router: dict[str, list[str]] = {}
    routers = routers_of(network, wrong)
    for site, why in sorted(wrong.items()):
        for device in sorted(routers[site]):
            by_router.setdefault(device, []).append(f"{site}: {why}")
    return {device: "; ".join(reasons) for device, reasons in by_router.items()}
