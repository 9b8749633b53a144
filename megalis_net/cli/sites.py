"""``megalis-net sites import|generate|list``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from megalis_net.cli import context
from megalis_net.cli.output import JsonOption, console, error_line, print_json, table
from megalis_net.errors import UsageError
from megalis_net.generator import generate_sites
from megalis_net.importer import accepted_sites, import_export, rejects_path, write_rejected
from megalis_net.model import Community, SiteKind
from megalis_net.sites import format_sites, site_to_row, write_sites

app = typer.Typer(
    help="Establishments: import from Mégalis I, generate, list.", no_args_is_help=True
)

OutOption = Annotated[
    Path | None,
    typer.Option("--out", help="Site file to write (default: the inventory's sites.csv)."),
]


@app.command("import")
def import_(
    ctx: typer.Context,
    file: Annotated[
        Path, typer.Argument(help="The old network's export (French Excel CSV or UTF-8).")
    ],
    skip_bad: Annotated[
        bool,
        typer.Option("--skip-bad", help="Import the good rows; write the rejected ones aside."),
    ] = False,
    rejects: Annotated[
        Path | None,
        typer.Option("--rejects", help="Where rejected rows go (default: FILE.rejected.csv)."),
    ] = None,
    out: OutOption = None,
    as_json: JsonOption = False,
) -> None:
    """Import Mégalis I's site export; nothing is written unless every row is good (or --skip-bad)."""
    if out is None:
        context.files_only(ctx, "sites import")
    result = import_export(file, context.topology(ctx).topology)
    sites = list(accepted_sites(result, skip_bad))
    target = out or context.paths(ctx).sites_file
    rejects_file = rejects or rejects_path(file)
    if result.rejected:
        write_rejected(result, rejects_file)
    write_sites(target, sites)
    summary = {
        "imported": len(sites),
        "rejected": len(result.rejected),
        "sites_file": str(target),
        "rejects_file": str(rejects_file) if result.rejected else None,
        "problems": [str(p) for p in result.problems],
    }
    if as_json:
        print_json(summary)
        return
    for problem in result.problems:
        error_line(f"skipped: {problem}")
    console.print(f"imported {len(sites)} sites into {target}")
    if result.rejected:
        console.print(f"rejected {len(result.rejected)} rows, written to {rejects_file}")


@app.command()
def generate(
    ctx: typer.Context,
    count: Annotated[int, typer.Option("--count", min=1, help="Number of sites.")],
    seed: Annotated[int, typer.Option("--seed", help="Random seed: same seed, same file.")] = 1,
    out: Annotated[Path, typer.Option("--out", help="File to write, or - for stdout.")] = Path("-"),
) -> None:
    """Write a deterministic synthetic population of Breton establishments."""
    sites = generate_sites(context.topology(ctx).topology, count, seed)
    if str(out) == "-":
        typer.echo(format_sites(sites), nl=False)
        return
    write_sites(out, sites)
    console.print(f"wrote {len(sites)} sites to {out}")


@app.command("list")
def list_(
    ctx: typer.Context,
    pop: Annotated[str | None, typer.Option("--pop", help="Only sites of this PoP.")] = None,
    community: Annotated[Community | None, typer.Option("--community")] = None,
    kind: Annotated[SiteKind | None, typer.Option("--kind")] = None,
    limit: Annotated[int, typer.Option("--limit", min=0, help="At most this many (0: all).")] = 0,
    as_json: JsonOption = False,
) -> None:
    """List the sites, filtered by PoP, community or kind."""
    network = context.network(ctx)
    if pop is not None and pop not in {p.name for p in network.topology.pops}:
        raise UsageError(f"--pop: unknown PoP {pop!r}")
    chosen = [
        s
        for s in network.sites
        if (pop is None or s.pop == pop)
        and (community is None or s.community is community)
        and (kind is None or s.kind is kind)
    ]
    shown = chosen[:limit] if limit else chosen
    if as_json:
        print_json([site_to_row(s) for s in shown])
        return
    columns = ["id", "name", "kind", "commune", "PoP", "community", "rate Mb/s", "L2", "LAN"]
    rows = [
        [s.id, s.name, s.kind.value, s.commune, s.pop, s.community.value, s.rate_mbps,
         "yes" if s.l2_renater else "", s.legacy.lan_prefix if s.legacy else ""]
        for s in shown
    ]  # fmt: skip
    console.print(table(f"Sites ({len(shown)} of {len(chosen)})", columns, rows))
