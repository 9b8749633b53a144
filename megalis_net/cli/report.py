"""``megalis-net report``: the static metrology dashboard (map, audit, sites, verify)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from megalis_net.cli import context
from megalis_net.cli.output import JsonOption, console, print_json
from megalis_net.report import VERIFY_FILE, Report, make_report, read_verify_result, write_report


def report(
    ctx: typer.Context,
    out: Annotated[Path, typer.Option("--out", help="Folder to write index.html into.")],
    verify: Annotated[
        Path | None,
        typer.Option(
            "--verify",
            help=f"Verify result to show (default: $MEGALIS_STATE or ./state, /{VERIFY_FILE};"
            " none there is fine).",
        ),
    ] = None,
    worst: Annotated[int, typer.Option("--worst", min=1, help="Worst audit scenarios shown.")] = 10,
    depth: Annotated[
        int, typer.Option("--depth", min=1, max=2, help="Audit depth: 1 single failures, 2 pairs.")
    ] = 1,
    as_json: JsonOption = False,
) -> None:
    """Write a self-contained HTML dashboard (no network fetches) into --out."""
    source = verify if verify is not None else context.state_dir() / VERIFY_FILE
    # An explicit --verify must exist; the default one may not yet (no verify run so far).
    result = read_verify_result(source) if verify is not None or source.exists() else None
    made = make_report(
        context.network(ctx), result, worst=worst, depth=depth, verify_source=str(source)
    )
    page = write_report(out, made)
    if as_json:
        print_json({"path": str(page), **made.dashboard.summary()})
    else:
        console.print(f"wrote {page}", highlight=False)
        console.print(_one_line(made), highlight=False)


def _one_line(made: Report) -> str:
    d = made.dashboard
    links = ", ".join(f"{n} {state}" for state, n in d.links_by_state().items() if n)
    sites = ", ".join(f"{n} {state}" for state, n in d.totals.by_state.items() if n)
    verify = f"verify of {d.verify.polled_at.isoformat()}" if d.verify else "no verify result yet"
    return (
        f"{len(d.pops)} PoPs; links: {links}; {d.totals.sites} sites: {sites}; "
        f"{len(d.scenarios)} worst scenarios; {verify}"
    )
