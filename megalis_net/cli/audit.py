"""``megalis-net audit``: what breaks when links, PoPs or ducts fail."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.markup import escape

from megalis_net.audit import AuditReport, run_audit
from megalis_net.cli import context
from megalis_net.cli.output import console, print_json, table
from megalis_net.model import Severity

EXIT_POLICY_FAILED = 1


def audit(
    ctx: typer.Context,
    depth: Annotated[
        int, typer.Option("--depth", min=1, max=2, help="1: single failures; 2: also every pair.")
    ] = 1,
    top: Annotated[
        int, typer.Option("--top", min=1, help="Worst scenarios shown in the table.")
    ] = 15,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
) -> None:
    """Fail every link, PoP and SRLG (and pairs with --depth 2); exit 1 if the policy is not met."""
    report = run_audit(context.network(ctx), depth)
    if as_json:
        print_json(report.to_dict())
    else:
        _print_report(report, top)
    if not report.passed:
        raise typer.Exit(EXIT_POLICY_FAILED)


def _print_report(report: AuditReport, top: int) -> None:
    rows = [
        [r.scenario.name, r.scenario.depth, len(r.cut_pops_internet), len(r.cut_pops_renater),
         r.sites_cut, f"{r.max_utilisation:.0%}", r.worst_link or "-",
         r.worst_severity]
        for r in report.results[:top]
    ]  # fmt: skip
    columns = ["scenario", "depth", "PoPs cut (Internet)", "PoPs cut (Renater)", "sites cut",
               "max load %", "busiest link", "worst finding"]  # fmt: skip
    title = f"Worst {len(rows)} of {report.scenario_count} failure scenarios (depth {report.depth})"
    console.print(table(title, columns, rows))
    for finding in report.violations:
        console.print(f"[red]violation[/] {escape(finding.detail)}", highlight=False)
    single = [f for r in report.results if r.scenario.depth == 1 for f in r.findings
              if f.severity is Severity.WARNING]  # fmt: skip
    for finding in single[:top]:
        console.print(f"[yellow]warning[/] {escape(finding.detail)}", highlight=False)
    hidden = len(report.warnings) - min(len(single), top)
    if hidden:
        console.print(f"… and {hidden} more warnings (--json lists them all)")
    if report.worst_link is not None:
        w = report.worst_link
        console.print(
            f"worst link utilisation: {w.link} at {w.utilisation:.0%} "
            f"({w.load_mbps:.0f} of {w.capacity_mbps} Mb/s) under {w.scenario}"
        )
    verdict = "[green]PASS[/]" if report.passed else "[red]FAIL[/]"
    console.print(
        f"{verdict}: {len(report.violations)} violations, {len(report.warnings)} warnings "
        f"in {report.scenario_count} scenarios"
    )
