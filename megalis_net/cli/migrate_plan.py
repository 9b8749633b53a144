"""``megalis-net migrate plan``: the legacy sites in waves, the waves in night windows."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape

from megalis_net.cli import context
from megalis_net.cli.output import JsonOption, console, print_json, table
from megalis_net.migrate.constraints import load_constraints
from megalis_net.migrate.journal import JOURNAL_FILE, Journal
from megalis_net.migrate.plan import (
    PLAN_FILE,
    Plan,
    Wave,
    plan_document,
    plan_migration,
    write_plan,
)
from megalis_net.model import Network


def plan(
    ctx: typer.Context,
    constraints_file: Annotated[
        Path | None,
        typer.Option("--constraints", help="YAML file of constraints; options override it."),
    ] = None,
    per_pop: Annotated[
        int | None, typer.Option("--per-pop", min=1, help="At most N sites of a PoP per wave.")
    ] = None,
    per_wave: Annotated[
        int | None, typer.Option("--per-wave", min=1, help="At most N sites per wave.")
    ] = None,
    waves_per_window: Annotated[
        int | None, typer.Option("--waves-per-window", min=1, help="At most N waves a night.")
    ] = None,
    budget: Annotated[
        int | None, typer.Option("--budget", min=1, help="At most N sites per window.")
    ] = None,
    own_window_kinds: Annotated[
        str | None,
        typer.Option(
            "--own-window-kinds",
            help="Site kinds in their own waves and windows, comma-separated ('' for none).",
        ),
    ] = None,
    start: Annotated[str | None, typer.Option("--start", help="First night (YYYY-MM-DD).")] = None,
    deadline: Annotated[
        str | None, typer.Option("--deadline", help="Every site migrated before (YYYY-MM-DD).")
    ] = None,
    nights: Annotated[
        str | None,
        typer.Option("--nights", help="Weekdays a window starts on, e.g. mon,tue,wed,thu."),
    ] = None,
    window_start: Annotated[
        str | None, typer.Option("--window-start", help="When a window opens (HH:MM).")
    ] = None,
    window_end: Annotated[
        str | None, typer.Option("--window-end", help="When it closes (HH:MM, next morning).")
    ] = None,
    skip_holidays: Annotated[
        bool | None,
        typer.Option(
            "--skip-holidays/--no-skip-holidays", help="No window on French public holidays."
        ),
    ] = None,
    capacity_depth: Annotated[
        int | None,
        typer.Option(
            "--capacity-depth", min=0, max=2, help="Failures the ring must survive after each wave."
        ),
    ] = None,
    check_capacity: Annotated[
        bool | None,
        typer.Option(
            "--check-capacity/--no-check-capacity", help="Audit the ring after each wave."
        ),
    ] = None,
    out: Annotated[
        Path | None, typer.Option("--out", help=f"Plan file (default: state/{PLAN_FILE}).")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Plan the legacy sites in waves and windows; write the plan `migrate run` follows."""
    options: dict[str, Any] = {
        "per_pop": per_pop,
        "per_wave": per_wave,
        "waves_per_window": waves_per_window,
        "budget": budget,
        "own_window_kinds": own_window_kinds,
        "start": start,
        "deadline": deadline,
        "nights": nights,
        "window_start": window_start,
        "window_end": window_end,
        "skip_holidays": skip_holidays,
        "capacity_depth": capacity_depth,
        "check_capacity": check_capacity,
    }
    constraints = load_constraints(constraints_file, options)
    network, first_wave, held = _after_the_journal(context.network(ctx))
    result = plan_migration(network, constraints, first_wave)
    path = out or context.state_dir() / PLAN_FILE
    write_plan(path, result)
    if as_json:
        print_json(plan_document(result))
        return
    if first_wave > 1:
        console.print(
            f"waves 1..{first_wave - 1} are in the journal: this plan goes on from wave"
            f" {first_wave}; {held} legacy sites stay in their journal waves (run them"
            " again, or roll them back)",
            highlight=False,
        )
    _show(result, path)


def _after_the_journal(network: Network) -> tuple[Network, int, int]:
    """What is left to plan once waves have run: the legacy sites no journal wave
    holds (a failed or rolled-back site stays in its wave), and the next wave number."""
    path = context.state_dir() / JOURNAL_FILE
    if not path.exists():
        return network, 1, 0
    with Journal(path) as journal:
        waves = journal.waves()
        known = {record.site for record in journal.sites()}
    kept = tuple(site for site in network.sites if site.active or site.id not in known)
    held = len(network.sites) - len(kept)
    return network.model_copy(update={"sites": kept}), max(waves, default=0) + 1, held


def _window(wave: Wave) -> str:
    if wave.window_start is None or wave.window_end is None:
        return "-"
    return f"{wave.window_start:%a %Y-%m-%d %H:%M} → {wave.window_end:%H:%M}"


def _pops(wave: Wave) -> str:
    return ", ".join(f"{pop} {count}" for pop, count in wave.per_pop)


def _load(wave: Wave) -> str:
    return f"{wave.load:.0%}" if wave.load is not None else "-"


def _show(result: Plan, path: Path) -> None:
    rows = [
        [w.number, _window(w), w.kind or "", len(w.sites), _pops(w), _load(w)] for w in result.waves
    ]
    columns = ["wave", "window", "kind", "sites", "PoPs", "ring load %"]
    console.print(table(f"Migration plan: {len(rows)} waves", columns, rows))
    last = result.waves[-1] if result.waves else None
    if last is not None and last.busiest:
        console.print(
            f"ring after wave {last.number}: busiest link {escape(last.busiest)} at {_load(last)}",
            highlight=False,
        )
    for line in verdict_lines(result):
        console.print(line, highlight=False)
    console.print(f"plan written to {escape(str(path))}", highlight=False)


def verdict_lines(result: Plan) -> list[str]:
    """The verdict for people: deadline, binding constraint, what would make it hold."""
    v = result.verdict
    end = f"{v.last_window_end:%Y-%m-%d %H:%M}" if v.last_window_end else "-"
    deadline = f"{v.deadline:%Y-%m-%d}"
    counts = f"{v.sites} sites in {v.waves} waves over {v.windows} windows, the last ending {end}"
    if v.holds:
        head = f"[green]deadline {deadline} holds[/]: {counts}, {v.margin_days} days to spare"
    else:
        missed = f"missed by {-v.margin_days} days" if v.margin_days < 0 else "missed"
        head = f"[red]deadline {deadline} {missed}[/]: {counts}"
    lines = [head]
    if v.unplanned:
        lines.append(f"[red]{v.unplanned} sites unplanned[/]: {escape(v.overload or '')}")
    lines.append(f"binding constraint: {escape(v.binding_text)}")
    if v.relaxations:
        lines.append(f"relaxing one constraint: {escape('; '.join(v.relaxations))}")
    if v.remedies:
        lines.append(f"to hold the deadline, any of: {escape('; '.join(v.remedies))}")
    return lines
