"""``megalis-net topology validate|show|export``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from megalis_net.cli import context
from megalis_net.cli.output import JsonOption, console, print_json, table
from megalis_net.fileio import atomic_write_text
from megalis_net.graph import ExportFormat, build_graph, export_graph
from megalis_net.model import Community
from megalis_net.summary import NetworkSummary, summarise

app = typer.Typer(help="Check, show and export the backbone design.", no_args_is_help=True)


@app.command()
def validate(ctx: typer.Context, as_json: JsonOption = False) -> None:
    """Load topology/ and inventory/ and check every reference; exit 2 on any problem."""
    network = context.network(ctx)
    counts = {
        "pops": len(network.topology.pops),
        "links": len(network.topology.backbone_links),
        "upstreams": len(network.topology.upstreams),
        "devices": len(network.devices),
        "sites": len(network.sites),
    }
    if as_json:
        print_json({"valid": True, **counts})
        return
    console.print("valid: " + ", ".join(f"{n} {k}" for k, n in counts.items()))


@app.command()
def show(ctx: typer.Context, as_json: JsonOption = False) -> None:
    """Summary of the network: PoPs, links, sites per PoP and community."""
    summary = summarise(context.network(ctx))
    if as_json:
        print_json(summary.to_dict())
        return
    _print_summary(summary)


def _print_summary(summary: NetworkSummary) -> None:
    communities = [c.value for c in Community]
    pop_rows = [
        [p.name, p.city, p.departement, p.role, p.router, ", ".join(p.upstreams) or "-",
         *(p.sites_by_community[c] for c in communities), p.sites, p.committed_mbps]
        for p in summary.pops
    ]  # fmt: skip
    totals = [sum(p.sites_by_community[c] for p in summary.pops) for c in communities]
    pop_rows.append(["total", "", "", "", "", "", *totals, summary.sites,
                     sum(p.committed_mbps for p in summary.pops)])  # fmt: skip
    columns = ["PoP", "city", "dép.", "role", "router", "upstreams", *communities, "sites",
               "committed Mb/s"]  # fmt: skip
    console.print(table("Points of presence", columns, pop_rows))
    link_rows = [
        [link.name, link.a, link.b, link.role.value, link.capacity_mbps, link.metric,
         ", ".join(link.srlgs) or "-", link.provider]
        for link in summary.links
    ]  # fmt: skip
    link_columns = ["link", "a", "b", "role", "capacity Mb/s", "metric", "SRLGs", "provider"]
    console.print(table("Backbone links", link_columns, link_rows))


@app.command()
def export(
    ctx: typer.Context,
    fmt: Annotated[ExportFormat, typer.Option("--format", help="json (node-link) or graphml.")] = (
        ExportFormat.JSON
    ),
    out: Annotated[
        Path | None, typer.Option("--out", help="File to write (default: stdout).")
    ] = None,
    with_sites: Annotated[bool, typer.Option("--sites/--no-sites", help="Include sites.")] = True,
) -> None:
    """Export the network graph for other tools (networkx node-link JSON or GraphML)."""
    text = export_graph(build_graph(context.network(ctx), with_sites=with_sites), fmt)
    if out is None:
        typer.echo(text, nl=False)
    else:
        atomic_write_text(out, text)
        console.print(f"wrote {out}")
