"""``megalis-net migrate run|rollback|status``: the waves on the routers, journaled."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn

from megalis_net.cli import context
from megalis_net.cli.options import ConfirmTimeoutOption, VerifyTimeoutOption
from megalis_net.cli.output import JsonOption, console, print_json, table
from megalis_net.deploy import DEFAULT_CONFIRM_TIMEOUT
from megalis_net.errors import UsageError
from megalis_net.fileio import exclusive
from megalis_net.ipam import site_allocation_row
from megalis_net.migrate import (
    DEFAULT_VERIFY_TIMEOUT,
    JOURNAL_FILE,
    Files,
    Journal,
    Routers,
    RunOptions,
    SiteOutcome,
    SiteState,
    Wave,
    WaveResult,
)
from megalis_net.migrate.plan import PLAN_FILE, read_plan

WaveOption = Annotated[
    list[int],
    typer.Option("--wave", min=1, help="Wave number (repeat for several, run in order)."),
]
PlanOption = Annotated[
    Path | None,
    typer.Option("--plan", help="The plan file (default: the state directory's)."),
]
LabOption = Annotated[bool, typer.Option("--lab", help="On the lab's routers.")]


def _journal_path() -> Path:
    return context.state_dir() / JOURNAL_FILE


@contextmanager
def _progress(quiet: bool) -> Iterator[Any]:
    """A bar for the sites checked, with the step in words (on stderr: --json stays clean)."""
    if quiet:
        yield lambda _what, _done, _total: None
        return
    columns = (SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn())
    with Progress(*columns, console=console, transient=True) as bar:
        task = bar.add_task("starting", total=None)

        def update(what: str, done: int, total: int) -> None:
            if total:
                bar.update(task, description=escape(what), completed=done, total=total)
            else:
                bar.update(task, description=escape(what))

        yield update


def _waves(
    ctx: typer.Context,
    action: str,
    waves: list[int],
    plan_file: Path | None,
    in_lab: bool,
    options: RunOptions,
    as_json: bool,
) -> list[WaveResult]:
    """Run (or roll back) each wave in order, holding the inventory's lock throughout."""
    context.files_only(ctx, f"migrate {action}")
    if not waves:
        raise UsageError("--wave: give at least one wave")
    where = context.paths(ctx)
    chosen = _wave_sites(waves, plan_file) if action == "run" else dict.fromkeys(waves, ())
    results = []
    with exclusive(where.inventory), Journal(_journal_path()) as journal:
        for number, sites in chosen.items():
            with _progress(as_json) as progress:
                wave = Wave(
                    journal,
                    Files(where.topology, where.inventory),
                    Routers(where.inventory, in_lab),
                    number,
                    list(sites),
                    options,
                    progress,
                )
                result = wave.run() if action == "run" else wave.rollback()
            results.append(result)
            if not as_json:
                _show(result)
            if not result.ok and options.stop_on_error:
                break
    return results


def _wave_sites(waves: list[int], plan_file: Path | None) -> dict[int, tuple[str, ...]]:
    """Each wave's sites, every wave checked before any runs: as the journal recorded
    them once the wave has started (a later plan does not move them), else the plan's."""
    started: dict[int, tuple[str, ...] | None] = {}
    if _journal_path().exists():
        with Journal(_journal_path()) as journal:
            started = {n: journal.wave_sites(n) for n in waves}
    chosen = {n: sites for n, sites in started.items() if sites is not None}
    if len(chosen) < len(waves):
        plan = read_plan(plan_file or context.state_dir() / PLAN_FILE)
        chosen.update({n: plan.wave(n).sites for n in waves if n not in chosen})
    return {n: chosen[n] for n in waves}


def _show(result: WaveResult) -> None:
    for note in result.reconciled:
        console.print(f"[yellow]reconciled:[/] {escape(note)}")
    failed = [s for s in result.sites if s.outcome is SiteOutcome.FAILED]
    if failed:
        rows = [[s.site, s.pop, s.reason or ""] for s in failed]
        console.print(table(f"Wave {result.wave}: failed sites", ["site", "PoP", "reason"], rows))
    counts = Counter(s.outcome.value for s in result.sites)
    summary = ", ".join(f"{n} {outcome}" for outcome, n in sorted(counts.items()))
    routers = "routers changed" if result.routers_changed else "no router changed"
    colour = "green" if result.ok else "red"
    console.print(
        f"[{colour}]wave {result.wave} {result.action}: {summary}[/] ({routers},"
        f" {result.seconds:.1f} s)"
    )


def run(
    ctx: typer.Context,
    waves: WaveOption,
    plan_file: PlanOption = None,
    in_lab: LabOption = False,
    verify_timeout: VerifyTimeoutOption = DEFAULT_VERIFY_TIMEOUT,
    confirm_timeout: ConfirmTimeoutOption = DEFAULT_CONFIRM_TIMEOUT,
    stop_on_error: Annotated[
        bool, typer.Option("--stop-on-error", help="Stop the wave at the first failed site.")
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """Migrate the sites of a planned wave: pre-check, allocate, deploy per PE in one
    transaction, verify by SNMP, record. Safe to run again after any interruption."""
    options = RunOptions(verify_timeout, confirm_timeout, stop_on_error)
    _finish(_waves(ctx, "run", waves, plan_file, in_lab, options, as_json), as_json)


def _finish(results: list[WaveResult], as_json: bool) -> None:
    if as_json:
        print_json([r.to_json() for r in results])
    if not all(r.ok for r in results):
        raise typer.Exit(1)


def rollback(
    ctx: typer.Context,
    waves: WaveOption,
    in_lab: LabOption = False,
    verify_timeout: VerifyTimeoutOption = DEFAULT_VERIFY_TIMEOUT,
    confirm_timeout: ConfirmTimeoutOption = DEFAULT_CONFIRM_TIMEOUT,
    as_json: JsonOption = False,
) -> None:
    """Put a wave's sites back as they were before it: off the routers, legacy in
    the inventory, the allocations the migration made freed."""
    options = RunOptions(verify_timeout, confirm_timeout)
    _finish(_waves(ctx, "rollback", waves, None, in_lab, options, as_json), as_json)


_SHOWN = (SiteState.DONE, SiteState.FAILED, SiteState.ROLLED_BACK)


def status(
    ctx: typer.Context,
    plan_file: PlanOption = None,
    as_json: JsonOption = False,
) -> None:
    """Progress per wave and per PoP: from the journal, the inventory and the plan."""
    network = context.network(ctx)
    path = plan_file or context.state_dir() / PLAN_FILE
    plan = read_plan(path) if plan_file is not None or path.exists() else None
    records, problems = [], []
    if _journal_path().exists():
        allocations = context.allocations(ctx)
        rows = {s: site_allocation_row(a) for s, a in allocations.sites.items()}
        with Journal(_journal_path()) as journal:
            records = journal.sites()
            problems = journal.problems({s.id for s in network.sites if s.active}, rows)
    state = {r.site: r.state for r in records}
    waves: dict[int, Counter[str]] = {}
    for wave in plan.waves if plan is not None else ():
        waves[wave.number] = Counter(state.get(s, SiteState.PENDING).value for s in wave.sites)
    for record in records:
        if plan is None or record.wave not in waves:
            waves.setdefault(record.wave, Counter())[record.state.value] += 1
    pops: dict[str, Counter[str]] = {}
    for site in network.sites:
        counts = pops.setdefault(site.pop, Counter())
        counts[site.status.value] += 1
        if site.id in state and state[site.id] in (SiteState.FAILED,):
            counts["failed"] += 1
    if as_json:
        print_json(
            {
                "waves": {str(k): dict(v) for k, v in sorted(waves.items())},
                "pops": {k: dict(v) for k, v in sorted(pops.items())},
                "failed": [
                    {"site": r.site, "wave": r.wave, "reason": r.reason}
                    for r in records
                    if r.state is SiteState.FAILED
                ],
                "problems": problems,
            }
        )
        return
    _show_status(waves, pops, plan is not None)
    failed = [
        [r.site, r.wave, r.pop, r.reason or ""] for r in records if r.state is SiteState.FAILED
    ]
    if failed:
        console.print(table("Failed sites", ["site", "wave", "PoP", "reason"], failed))
    for problem in problems:
        console.print(f"[red]journal:[/] {escape(problem)}")


def _show_status(
    waves: dict[int, Counter[str]], pops: dict[str, Counter[str]], planned: bool
) -> None:
    shown = [s.value for s in (SiteState.PENDING, *_SHOWN)]
    rows = []
    for number, counts in sorted(waves.items()):
        others = sum(n for s, n in counts.items() if s not in shown)
        rows.append([number, sum(counts.values()), *(counts[s] for s in shown), others])
    columns = ["wave", "sites", "not started", "done", "failed", "rolled back", "in progress"]
    title = "Waves" + ("" if planned else " (no plan file: the journal's waves only)")
    console.print(table(title, columns, rows))
    pop_rows = [[pop, c["legacy"], c["active"], c["failed"]] for pop, c in sorted(pops.items())]
    console.print(table("PoPs", ["PoP", "legacy", "active", "failed"], pop_rows))
