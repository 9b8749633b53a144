"""One new connection (or one removal) end to end: ``site add|remove --apply``.

The change (site and allocation, computed by ``provision``) is pushed to the
site's router(s) in one deploy transaction with commit-confirm. Before the
deploy confirms, SNMP must show the attachment as intended: for an added
site, its unit present, described, up in both senses; for a removed site,
its description gone from the router. Only then is the inventory written,
and the commit confirmed. Anything else rolls the routers back and leaves the
inventory as it was, with the reason.

Order, for a crash at any point: until confirmed, each router reverts by
itself; the inventory is written after verification and just before the
confirmation, and restored if the confirmation fails.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from megalis_net.deploy import (
    DEFAULT_CHECK_TIMEOUT,
    DeployReport,
    Outcome,
    Progress,
    Target,
    deploy,
)
from megalis_net.errors import MegalisError
from megalis_net.model import Site
from megalis_net.snmp import Agent, AgentPoll, PollSettings, poll
from megalis_net.verify import Checked, Intended, compare

DEFAULT_VERIFY_TIMEOUT = 60.0
# short: the change waits for this before it is confirmed, while the router
# reverts by itself at the end of it if this process dies
DEFAULT_CONFIRM_TIMEOUT = 300
POLL_EVERY = 2.0


@dataclass
class Applied:
    deploy: DeployReport
    verified: list[Checked] = field(default_factory=list)
    reason: str | None = None  # why it was rolled back
    inventory_written: bool = False

    @property
    def ok(self) -> bool:
        return self.deploy.ok and self.reason is None and self.inventory_written


def attachment_check(
    site: Site,
    intended: Sequence[Intended],
    agents: Sequence[Agent],
    removing: bool,
    timeout: float,
    settings: PollSettings,
    verified: list[Checked],
) -> Callable[[], dict[str, str]]:
    """A check polling the site's router(s) until the attachment is as intended,
    or ``timeout``; returns {router: what is wrong}."""
    devices = [agent.host for agent in agents]

    def check() -> dict[str, str]:
        deadline = time.monotonic() + timeout
        while True:
            answers = poll(agents, settings)
            if removing:
                wrong = _still_there(site, answers)
            else:
                result = compare(intended, answers, None, devices, 0.0)
                verified[:] = result.checked
                wrong = {}
                for problem in result.discrepancies:
                    where = f"{problem.interface} " if problem.interface else ""
                    wrong.setdefault(problem.device, []).append(
                        f"{where}{problem.problem}: {problem.detail}"
                    )
            if not wrong:
                return {}
            if time.monotonic() > deadline:
                return {
                    device: f"SNMP after {timeout:g} s: {'; '.join(problems)}"
                    for device, problems in wrong.items()
                }
            time.sleep(POLL_EVERY)

    return check


def _still_there(site: Site, answers: Mapping[str, AgentPoll]) -> dict[str, list[str]]:
    """Routers that still describe an interface as the removed site's."""
    wrong: dict[str, list[str]] = {}
    for device, answer in answers.items():
        if not answer.ok:
            wrong[device] = [f"unreachable: {answer.error}"]
            continue
        for row in answer.interfaces:
            if row.alias.startswith(f"{site.id} "):
                wrong.setdefault(device, []).append(f"{row.name} still carries {row.alias!r}")
    return wrong


class ApplyError(MegalisError):
    """The change cannot be applied as asked (nothing to push, no router)."""


def apply_change(
    site: Site,
    removing: bool,
    configs: Mapping[str, str],
    targets: list[Target],
    agents: list[Agent],
    intended: Sequence[Intended],
    save: Callable[[], None],
    restore: Callable[[], None],
    verify_timeout: float = DEFAULT_VERIFY_TIMEOUT,
    confirm_timeout: int = DEFAULT_CONFIRM_TIMEOUT,
    settings: PollSettings | None = None,
    progress: Progress | None = None,
) -> Applied:
    """Deploy ``configs`` to ``targets`` as one transaction; verify by SNMP;
    ``save`` the inventory; confirm. ``restore`` puts the inventory back if
    the confirmation fails after ``save``."""
    if not targets:
        raise ApplyError(f"{site.id}: no router to change")
    verified: list[Checked] = []
    check = attachment_check(
        site,
        [item for item in intended if item.site_id == site.id],
        agents,
        removing,
        verify_timeout,
        settings or PollSettings(),
        verified,
    )
    saved = False

    def before_confirm(committed: list[str]) -> dict[str, str]:
        nonlocal saved
        wrong = check()
        if wrong:
            return wrong
        try:
            save()
        except MegalisError as exc:
            return {host: f"inventory not written: {exc}" for host in committed}
        saved = True
        return {}

    report = deploy(
        targets,
        configs,
        confirm_timeout=confirm_timeout,
        check_timeout=min(DEFAULT_CHECK_TIMEOUT, confirm_timeout / 2),
        progress=progress or (lambda _: None),
        before_confirm=before_confirm,
    )
    applied = Applied(report, verified, inventory_written=saved)
    if report.ok and all(d.outcome is Outcome.UNCHANGED for d in report.all):
        # the routers already hold it (a run interrupted after its confirm):
        # still verified before the inventory says so
        wrong = check()
        if wrong:
            applied.reason = "; ".join(f"{host}: {why}" for host, why in wrong.items())
            return applied
        save()
        applied.inventory_written = True
    if not report.ok:
        failed = [f"{d.host}: {d.error}" for d in report.all if d.error]
        applied.reason = "; ".join(failed) or "the deploy failed"
        if applied.inventory_written:  # confirm failed after the inventory was written
            restore()
            applied.inventory_written = False
    return applied
