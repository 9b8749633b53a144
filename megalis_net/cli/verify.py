"""``megalis-net verify``: the intended links against what the routers report (SNMP)."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)

from megalis_net.cli import context
from megalis_net.cli.output import JsonOption, console, print_json, table
from megalis_net.fileio import atomic_write_text
from megalis_net.intent import build_intents
from megalis_net.model import Platform
from megalis_net.snmp import AgentPoll, PollSettings
from megalis_net.snmp.poller import DEFAULT_CONCURRENCY, DEFAULT_RETRIES, DEFAULT_TIMEOUT
from megalis_net.verify import (
    DEFAULT_INTERVAL,
    VERIFY_FILE,
    Verification,
    agents_for,
    intended_interfaces,
    known_descriptions,
)
from megalis_net.verify import verify as run_verify

DevicesOption = Annotated[
    list[str] | None,
    typer.Option("--devices", "-d", help="Only these routers (repeat, or comma-separated)."),
]


def verify(
    ctx: typer.Context,
    devices: DevicesOption = None,
    interval: Annotated[
        float,
        typer.Option(
            "--interval",
            min=0,
            help="Seconds between the two polls (utilisation, error growth); 0: one poll.",
        ),
    ] = DEFAULT_INTERVAL,
    in_lab: Annotated[
        bool, typer.Option("--lab", help="Poll the lab's routers (`lab up`), as FRR.")
    ] = False,
    timeout: Annotated[
        float, typer.Option("--timeout", min=0.1, help="Seconds to wait for each SNMP answer.")
    ] = DEFAULT_TIMEOUT,
    retries: Annotated[
        int, typer.Option("--retries", min=0, help="SNMP retries after a timeout.")
    ] = DEFAULT_RETRIES,
    concurrency: Annotated[
        int, typer.Option("--concurrency", min=1, help="Routers polled at once.")
    ] = DEFAULT_CONCURRENCY,
    as_json: JsonOption = False,
) -> None:
    """Check every intended link: present, described, up, clean; exit 1 on any discrepancy."""
    network = context.network(ctx)
    wanted = context.selected_devices(network, devices)
    intents = build_intents(
        network, context.allocations(ctx), Platform.FRR if in_lab else None, wanted
    )
    intended = intended_interfaces(network, intents)
    agents = agents_for(context.paths(ctx).inventory, wanted, in_lab)
    settings = PollSettings(timeout=timeout, retries=retries, concurrency=concurrency)
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        disable=as_json,
        transient=True,
    ) as bar:
        tasks: dict[str, TaskID] = {}

        def advance(phase: str, answer: AgentPoll) -> None:
            if phase not in tasks:
                tasks[phase] = bar.add_task(phase, total=len(agents))
            bar.advance(tasks[phase])

        result = run_verify(
            intended, agents, interval, settings, advance, known_descriptions(intents)
        )
    report = result.to_json()
    atomic_write_text(context.state_dir() / VERIFY_FILE, json.dumps(report, indent=1) + "\n")
    if as_json:
        print_json(report)
    else:
        _show(result)
    if not result.ok:
        raise typer.Exit(1)


def _show(result: Verification) -> None:
    problems = result.discrepancies
    if problems:
        rows = [[d.device, d.interface, d.kind, d.link, d.problem, d.detail] for d in problems]
        console.print(
            table(
                "Discrepancies",
                ["router", "interface", "kind", "link", "problem", "detail"],
                rows,
            )
        )
    busiest = sorted(
        (link for link in result.links() if link.utilisation is not None),
        key=lambda link: link.utilisation or 0.0,
        reverse=True,
    )[:5]
    if busiest:
        console.print(
            table(
                f"Busiest links over {result.interval_s:g} s",
                ["link", "kind", "state", "utilisation %", "speed Mb/s"],
                [
                    [
                        link.link,
                        link.kind.value,
                        link.state.value,
                        f"{100 * (link.utilisation or 0):.2f}",
                        link.speed_mbps,
                    ]
                    for link in busiest
                ],
            )
        )
    verdict = "[green]all fine[/]" if result.ok else f"[red]{len(problems)} discrepancies[/]"
    console.print(
        f"{result.fine} of {len(result.checked)} intended interfaces fine on"
        f" {len(result.devices) - len(result.unreachable)} of {len(result.devices)} routers:"
        f" {verdict}"
    )
