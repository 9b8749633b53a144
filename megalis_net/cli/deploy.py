"""``megalis-net deploy``: render, diff, commit, check and confirm on every router."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.status import Status
from rich.syntax import Syntax

from megalis_net.cli import context
from megalis_net.cli.output import JsonOption, console, print_json, table
from megalis_net.deploy import (
    DEFAULT_CHECK_TIMEOUT,
    DEFAULT_CONFIRM_TIMEOUT,
    DeployReport,
    Outcome,
    lab_targets,
    production_targets,
)
from megalis_net.deploy import (
    deploy as run_deploy,
)
from megalis_net.errors import UsageError
from megalis_net.intent import build_intents
from megalis_net.model import Platform
from megalis_net.render import render_all

DIFF_LINES = 60  # per router, unless --full-diff


def deploy(
    ctx: typer.Context,
    devices: Annotated[
        list[str] | None,
        typer.Option("--devices", "-d", help="Only these routers (repeat, or comma-separated)."),
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Show each router's diff; change nothing.")
    ] = False,
    confirm_timeout: Annotated[
        int,
        typer.Option(
            "--confirm-timeout",
            min=30,
            help="Seconds after which a router reverts by itself unless the deploy confirms.",
        ),
    ] = DEFAULT_CONFIRM_TIMEOUT,
    check_timeout: Annotated[
        float,
        typer.Option("--check-timeout", min=1, help="Seconds to wait for routing sessions."),
    ] = DEFAULT_CHECK_TIMEOUT,
    in_lab: Annotated[
        bool,
        typer.Option("--lab", help="Deploy to the lab's routers (`lab up`), as FRR."),
    ] = False,
    full_diff: Annotated[bool, typer.Option("--full-diff", help="Print every diff line.")] = False,
    as_json: JsonOption = False,
) -> None:
    """Push the rendered configs: one transaction across the routers."""
    network = context.network(ctx)
    wanted = context.selected_devices(network, devices)
    if check_timeout >= confirm_timeout:
        raise UsageError("--check-timeout must be shorter than --confirm-timeout")
    platform = Platform.FRR if in_lab else None
    intents = build_intents(network, context.allocations(ctx), platform, wanted)
    configs = render_all(intents)
    targets = (
        lab_targets(wanted)
        if in_lab
        else production_targets(
            context.paths(ctx).inventory, {name: intents[name].platform.value for name in wanted}
        )
    )
    with Status("deploy", console=console) as spinner:
        report = run_deploy(
            targets,
            configs,
            dry_run=dry_run,
            confirm_timeout=confirm_timeout,
            check_timeout=check_timeout,
            progress=lambda step: spinner.update(f"deploy: {step}"),
        )
    _show(report, as_json, full_diff)
    if not report.ok:
        raise typer.Exit(1)


def _show(report: DeployReport, as_json: bool, full_diff: bool) -> None:
    if as_json:
        print_json(
            {
                "ok": report.ok,
                "dry_run": report.dry_run,
                "devices": [
                    {
                        "host": d.host,
                        "outcome": d.outcome.value,
                        "added": d.diff_counts[0],
                        "removed": d.diff_counts[1],
                        "diff": d.diff,
                        "check": d.check,
                        "error": d.error,
                    }
                    for d in report.all
                ],
            }
        )
        return
    for device in report.all:
        if not device.diff:
            continue
        lines = device.diff.splitlines()
        shown = lines if full_diff else lines[:DIFF_LINES]
        console.rule(f"{device.host}: +{device.diff_counts[0]} -{device.diff_counts[1]}")
        console.print(Syntax("\n".join(shown), "diff", theme="ansi_dark", word_wrap=True))
        if len(shown) < len(lines):
            console.print(f"... {len(lines) - len(shown)} more lines (--full-diff)")
    rows = [
        [
            d.host,
            d.outcome.value,
            f"+{d.diff_counts[0]} -{d.diff_counts[1]}",
            d.check or "",
            d.error or "",
        ]
        for d in report.all
    ]
    title = "Deploy (dry run)" if report.dry_run else "Deploy"
    console.print(table(title, ["router", "outcome", "diff", "post-check", "error"], rows))
    if all(d.outcome is Outcome.UNCHANGED for d in report.all):
        console.print("no diff on any router: nothing touched")
