"""``megalis-net allocate`` and ``megalis-net render``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from megalis_net.cli import context
from megalis_net.cli.output import JsonOption, console, print_json, table
from megalis_net.errors import UsageError
from megalis_net.fileio import exclusive
from megalis_net.intent import build_intents
from megalis_net.ipam import allocate as allocate_all
from megalis_net.ipam import save_allocations
from megalis_net.model import Platform
from megalis_net.render import render_all, write_configs


def allocate(
    ctx: typer.Context,
    release_orphans: Annotated[
        bool,
        typer.Option(
            "--release-orphans",
            help="Free what is held by sites, routers or links no longer in the model.",
        ),
    ] = False,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Show, write nothing.")] = False,
    as_json: JsonOption = False,
) -> None:
    """Allocate addresses and VLANs to everything that has none; nothing allocated moves."""
    inventory = context.paths(ctx).inventory
    if not dry_run:
        context.files_only(ctx, "allocate")
    with exclusive(inventory):
        network = context.network(ctx)
        report = allocate_all(network, context.allocations(ctx), release_orphans)
        written = [] if dry_run else save_allocations(inventory, report.allocations)
    if as_json:
        print_json(
            {
                "added": list(report.added),
                "moved": list(report.moved),
                "released": list(report.released),
                "orphans": list(report.orphans),
                "written": [str(p) for p in written],
            }
        )
        return
    rows = [["added", x] for x in report.added] + [["moved", x] for x in report.moved]
    rows += [["released", x] for x in report.released]
    if rows:
        console.print(table(f"Allocations ({len(rows)} changes)", ["change", "what"], rows))
    else:
        console.print("nothing to allocate: every router, link and site has its resources")
    if report.orphans:
        console.print(
            f"{len(report.orphans)} allocations are held by things no longer in the model"
            " (--release-orphans frees them)"
        )
    for path in written:
        console.print(f"wrote {path}")


def render(
    ctx: typer.Context,
    devices: Annotated[
        list[str] | None, typer.Option("--device", help="Only this router (repeatable).")
    ] = None,
    platform: Annotated[
        Platform | None,
        typer.Option("--platform", help="Render for this platform instead of the inventory's."),
    ] = None,
    out: Annotated[Path, typer.Option("--out", help="Folder for the configs.")] = Path("configs"),
    as_json: JsonOption = False,
) -> None:
    """Render the full configuration of each router, one file per router."""
    network = context.network(ctx)
    known = sorted(d.name for d in network.devices)
    for name in devices or []:
        if name not in known:
            raise UsageError(f"--device: unknown router {name!r} (one of {', '.join(known)})")
    intents = build_intents(network, context.allocations(ctx), platform)
    if devices:
        intents = {name: intents[name] for name in sorted(set(devices))}
    configs = render_all(intents)
    written = write_configs(out, intents, configs)
    rows = [
        [name, intents[name].platform.value, len(configs[name].splitlines()), str(path)]
        for name, path in zip(intents, written, strict=True)
    ]
    if as_json:
        keys = ("device", "platform", "lines", "file")
        print_json([dict(zip(keys, row, strict=True)) for row in rows])
        return
    console.print(
        table(f"Rendered {len(rows)} configs", ["device", "platform", "lines", "file"], rows)
    )
