"""Deploy rendered configs to the routers as one network-wide transaction.

Nornir runs each phase on every router in parallel, through NAPALM:

1. load the rendered config as a replace candidate and diff it against the
   running one (a router that cannot be reached stops the run here: nothing
   has been changed anywhere yet);
2. commit, with commit-confirm: each router rolls back by itself unless
   confirmed within ``confirm_timeout`` seconds (a deploy that dies halfway
   leaves no router on an unconfirmed config);
3. post-check: the router's BGP sessions come up;
4. confirm.

If any router fails to commit or fails its post-check, every router changed
in this run is rolled back and the report says what happened where. A router
whose config already matches is not touched.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

from nornir import InitNornir
from nornir.core import Nornir
from nornir.core.configuration import Config
from nornir.core.filter import F
from nornir.core.inventory import (
    ConnectionOptions,
    Defaults,
    Groups,
    Host,
    Hosts,
    Inventory,
)
from nornir.core.plugins.connections import ConnectionPluginRegister
from nornir.core.task import Result, Task
from nornir.plugins.runners import ThreadedRunner

from megalis_net.errors import MegalisError

CONNECTION = "napalm"
DEFAULT_CONFIRM_TIMEOUT = 300
DEFAULT_CHECK_TIMEOUT = 120
CHECK_INTERVAL = 2.0


class DeployError(MegalisError):
    """Deploy cannot start (credentials, inventory)."""


class Outcome(StrEnum):
    UNCHANGED = "unchanged"  # nothing to change
    WOULD_CHANGE = "would change"  # --dry-run
    COMMITTED = "committed"  # changed, checked and confirmed
    ROLLED_BACK = "rolled back"  # changed, then undone because of a failure somewhere
    NOT_CHANGED = "not changed"  # had changes, left alone because of a failure somewhere
    FAILED = "failed"  # this router is where it went wrong


@dataclass
class DeviceReport:
    host: str
    outcome: Outcome = Outcome.NOT_CHANGED
    diff: str = ""
    error: str | None = None
    check: str | None = None  # what the post-check found

    @property
    def diff_counts(self) -> tuple[int, int]:
        lines = self.diff.splitlines()
        added = sum(1 for line in lines if line.startswith("+") and not line.startswith("+++"))
        removed = sum(1 for line in lines if line.startswith("-") and not line.startswith("---"))
        return added, removed


@dataclass
class DeployReport:
    devices: dict[str, DeviceReport] = field(default_factory=dict)
    dry_run: bool = False

    @property
    def ok(self) -> bool:
        return not any(d.outcome in (Outcome.FAILED, Outcome.ROLLED_BACK) for d in self.all)

    @property
    def all(self) -> list[DeviceReport]:
        return [self.devices[host] for host in sorted(self.devices)]


@dataclass(frozen=True, slots=True)
class Target:
    """How to reach one router."""

    host: str
    address: str
    platform: str
    username: str
    password: str
    optional_args: Mapping[str, Any] = field(default_factory=dict)


Progress = Callable[[str], None]
# committed routers -> {router: why it is wrong}; empty when all is well
BeforeConfirm = Callable[[list[str]], Mapping[str, str]]


def _quiet(_: str) -> None:
    return None


def production_targets(inventory: Path, hosts: Mapping[str, str]) -> list[Target]:
    """Targets from the Nornir inventory: ``hosts`` maps router to platform;
    credentials come from the environment variables the inventory names."""
    nr = nornir_from_files(inventory)
    targets = []
    for name, platform in sorted(hosts.items()):
        host = nr.inventory.hosts[name]
        names = host.get("credentials", {})
        user_env = names.get("username_env", "MEGALIS_USERNAME")
        password_env = names.get("password_env", "MEGALIS_PASSWORD")
        username = os.environ.get(user_env)
        if not username:
            raise DeployError(f"{user_env} is not set: deploy needs the routers' username")
        targets.append(
            Target(name, str(host.hostname), platform, username, os.environ.get(password_env, ""))
        )
    return targets


def lab_targets(wanted: list[str]) -> list[Target]:
    """The lab's routers of ``wanted``, as deploy reaches them (its own keys)."""
    from megalis_net import lab  # the lab only where it is asked for

    routers = lab.access_for(wanted)
    return [
        Target(name, routers[name].address, "frr", routers[name].username, "",
               {"key_file": str(routers[name].key_file)})
        for name in wanted
    ]  # fmt: skip


def nornir_from_files(inventory: Path) -> Nornir:
    return InitNornir(
        inventory={
            "plugin": "SimpleInventory",
            "options": {
                "host_file": str(inventory / "hosts.yaml"),
                "group_file": str(inventory / "groups.yaml"),
                "defaults_file": str(inventory / "defaults.yaml"),
            },
        },
        logging={"enabled": False},
    )


def nornir_for(targets: list[Target]) -> Nornir:
    """A Nornir with one host per target, NAPALM as the connection, a thread each."""
    hosts = Hosts(
        {
            target.host: Host(
                name=target.host,
                hostname=target.address,
                username=target.username,
                password=target.password,
                platform=target.platform,
                connection_options={
                    CONNECTION: ConnectionOptions(
                        extras={"optional_args": dict(target.optional_args), "timeout": 30}
                    )
                },
            )
            for target in targets
        }
    )
    ConnectionPluginRegister.auto_register()  # nornir_napalm's "napalm", by entry point
    # Nornir logs each failed task's traceback; the report carries the one-line error.
    logging.getLogger("nornir").addHandler(logging.NullHandler())
    logging.getLogger("nornir").propagate = False
    return Nornir(
        inventory=Inventory(hosts=hosts, groups=Groups(), defaults=Defaults()),
        runner=ThreadedRunner(num_workers=max(1, len(targets))),
        config=Config(),
    )


def deploy(
    targets: list[Target],
    configs: Mapping[str, str],
    dry_run: bool = False,
    confirm_timeout: int = DEFAULT_CONFIRM_TIMEOUT,
    check_timeout: float = DEFAULT_CHECK_TIMEOUT,
    progress: Progress = _quiet,
    before_confirm: BeforeConfirm | None = None,
) -> DeployReport:
    """``before_confirm``, given the routers committed and post-checked, runs
    last before confirming: it returns the routers it finds wrong, with why,
    and any makes the whole run roll back (see ``site add --apply``)."""
    report = DeployReport({t.host: DeviceReport(t.host) for t in targets}, dry_run)
    nr = nornir_for(targets)
    try:
        _run(nr, report, configs, dry_run, confirm_timeout, check_timeout, progress, before_confirm)
    finally:
        nr.close_connections()
    return report


def cancel_pending(targets: list[Target]) -> dict[str, str]:
    """Roll back every commit still waiting for its confirmation (left by a
    process that died before confirming); {router: what was done or why not}
    for the routers that had one or could not be asked."""
    nr = nornir_for(targets)
    try:
        result = nr.run(task=_cancel_pending)
    finally:
        nr.close_connections()
    found = {}
    for host, outcome in result.items():
        if outcome.failed:
            found[host] = f"cannot check for a pending commit: {_error(outcome[0].exception)}"
        elif outcome[0].result:
            found[host] = outcome[0].result
    return found


def _cancel_pending(task: Task) -> Result:
    device = _device(task)
    if not device.has_pending_commit():
        return Result(host=task.host, result=None)
    device.rollback()
    return Result(host=task.host, result="an unconfirmed commit was rolled back", changed=True)


def _run(
    nr: Nornir,
    report: DeployReport,
    configs: Mapping[str, str],
    dry_run: bool,
    confirm_timeout: int,
    check_timeout: float,
    progress: Progress,
    before_confirm: BeforeConfirm | None = None,
) -> None:
    progress("connecting and comparing")
    compared = nr.run(task=_load_and_compare, configs=configs)
    for host, result in compared.items():
        device = report.devices[host]
        if result.failed:
            device.outcome, device.error = Outcome.FAILED, _error(result[0].exception)
        else:
            device.diff = result[0].result["diff"]
            device.outcome = Outcome.UNCHANGED if not device.diff else Outcome.NOT_CHANGED
    changing = [h for h, d in report.devices.items() if d.outcome is Outcome.NOT_CHANGED]
    if compared.failed or dry_run or not changing:
        if dry_run:
            for host in changing:
                report.devices[host].outcome = Outcome.WOULD_CHANGE
        _on(nr, changing).run(task=_discard, on_failed=True)
        return
    before = {h: compared[h][0].result["peers_up"] for h in changing}

    progress(
        f"committing on {len(changing)} routers (each reverts by itself in {confirm_timeout} s)"
    )
    committed_run = _on(nr, changing).run(task=_commit, revert_in=confirm_timeout)
    committed = [h for h in changing if not committed_run[h].failed]
    failures = {h: _error(committed_run[h][0].exception) for h in changing if h not in committed}
    if not failures:
        progress("post-checks: routing sessions")
        checks = _on(nr, committed).run(
            task=_post_check, required_before=before, timeout=check_timeout
        )
        for host in committed:
            outcome = checks[host]
            if outcome.failed:
                failures[host] = _error(outcome[0].exception)
            else:
                report.devices[host].check = outcome[0].result
    if not failures and before_confirm is not None:
        progress("checks before confirming")
        failures = dict(before_confirm(committed))
    if failures:
        progress(f"rolling back {len(committed)} routers")
        for host, error in failures.items():
            report.devices[host].outcome, report.devices[host].error = Outcome.FAILED, error
        rolled = _on(nr, committed).run(task=_rollback, on_failed=True)
        for host in committed:
            device = report.devices[host]
            if not rolled[host].failed:
                if host not in failures:
                    device.outcome = Outcome.ROLLED_BACK
                continue
            device.outcome = Outcome.FAILED
            device.error = (
                f"{failures[host]}; rollback failed too"
                if host in failures
                else f"rollback failed ({_error(rolled[host][0].exception)}); the router"
                f" reverts by itself within {confirm_timeout} s"
            )
        return
    progress("confirming")
    confirmed = _on(nr, committed).run(task=_confirm)
    for host in committed:
        device = report.devices[host]
        if confirmed[host].failed:
            device.outcome = Outcome.FAILED
            device.error = (
                f"confirm failed ({_error(confirmed[host][0].exception)}): the router"
                f" reverts by itself within {confirm_timeout} s"
            )
        else:
            device.outcome = Outcome.COMMITTED


def _on(nr: Nornir, hosts: list[str]) -> Nornir:
    """These hosts only. Nornir skips a host after its first failed task unless
    told otherwise: rollback and discard must reach the ones that failed too."""
    return nr.filter(F(name__in=hosts))


def _error(exc: BaseException | None) -> str:
    if exc is None:
        return "failed"
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__


def _device(task: Task) -> Any:
    return task.host.get_connection(CONNECTION, task.nornir.config)


def _load_and_compare(task: Task, configs: Mapping[str, str]) -> Result:
    device = _device(task)
    device.load_replace_candidate(config=configs[task.host.name])
    diff = device.compare_config()
    peers_up = sorted(_peers(device.get_bgp_neighbors(), up_only=True)) if diff else []
    return Result(host=task.host, result={"diff": diff, "peers_up": peers_up})


def _discard(task: Task) -> Result:
    _device(task).discard_config()
    return Result(host=task.host)


def _commit(task: Task, revert_in: int) -> Result:
    _device(task).commit_config(revert_in=revert_in)
    return Result(host=task.host, changed=True)


class PostCheckFailed(MegalisError):
    pass


def _peers(neighbors: Mapping[str, Any], up_only: bool) -> set[str]:
    peers = neighbors.get("global", {}).get("peers", {})
    return {address for address, peer in peers.items() if peer["is_up"] or not up_only}


def _post_check(task: Task, required_before: Mapping[str, list[str]], timeout: float) -> Result:
    """Every BGP session up before must be up again; on a router that had none
    up (a fresh one), every configured session must come up."""
    device = _device(task)
    deadline = time.monotonic() + timeout
    while True:
        neighbors = device.get_bgp_neighbors()
        required = set(required_before[task.host.name]) or _peers(neighbors, up_only=False)
        down = sorted(required - _peers(neighbors, up_only=True))
        if not down:
            return Result(host=task.host, result=f"{len(required)} BGP sessions up")
        if time.monotonic() > deadline:
            raise PostCheckFailed(f"BGP sessions still down after {timeout:g} s: {', '.join(down)}")
        time.sleep(CHECK_INTERVAL)


def _rollback(task: Task) -> Result:
    _device(task).rollback()
    return Result(host=task.host, changed=True)


def _confirm(task: Task) -> Result:
    _device(task).confirm_commit()
    return Result(host=task.host)
