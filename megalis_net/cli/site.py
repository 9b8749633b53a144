"""``megalis-net site add|remove|show``: one connection at a time."""

from __future__ import annotations

from collections.abc import Callable
from ipaddress import IPv4Address
from typing import Annotated, Any

import typer
from rich.markup import escape

from megalis_net.cli import context
from megalis_net.cli.output import JsonOption, console, print_json, table
from megalis_net.fileio import exclusive
from megalis_net.intent import NAMING, PortRole
from megalis_net.ipam import Allocations, SiteAllocation, route_distinguisher, route_target
from megalis_net.model import Community, Network, Site, SiteKind
from megalis_net.provision import (
    Change,
    SiteRequest,
    add_site,
    commit,
    find_site,
    remove_site,
)
from megalis_net.sites import site_to_row

app = typer.Typer(help="Provision one site: add, remove, show.", no_args_is_help=True)

DryRunOption = Annotated[
    bool, typer.Option("--dry-run", help="Show the allocation and diffs; write nothing.")
]


def _facts(
    network: Network, site: Site, alloc: SiteAllocation, loopback: IPv4Address
) -> dict[str, Any]:
    """What the site holds, with the names its router's platform gives it."""
    device = next(d for d in network.devices if d.pop == site.pop)
    naming = NAMING[device.platform]
    topology = network.topology
    vpn_id = topology.vpn(site.community).vpn_id
    return {
        "device": device.name,
        "interface": naming.sub(naming.port(PortRole.ACCESS, alloc.port), alloc.vlan),
        "vlan": alloc.vlan,
        "pe_address": f"{alloc.pe_address}/31",
        "site_address": f"{alloc.site_address}/31",
        "lan": str(alloc.lan),
        "vrf": site.community.value,
        "rd": route_distinguisher(loopback, vpn_id),
        "route_target": route_target(topology.routing.asn, vpn_id),
        "l2_vlan": alloc.l2_vlan,
        "handoff_vlan": alloc.handoff_vlan,
    }


def _change(
    ctx: typer.Context, make: Callable[[Network, Allocations], Change], dry_run: bool
) -> Change:
    """Read, change and (unless a dry run) write the inventory, holding its lock."""
    where = context.paths(ctx)
    if not dry_run:
        context.files_only(ctx, "site add/remove")
    with exclusive(where.inventory):
        change = make(context.network(ctx), context.allocations(ctx))
        if not dry_run:
            commit(change, where.inventory, where.sites_file)
    return change


def _report(change: Change, action: str, dry_run: bool, as_json: bool) -> None:
    device = next(d for d in change.network.devices if d.pop == change.site.pop)
    loopback = change.allocations.loopbacks[device.name]  # loopbacks never move
    facts = _facts(change.network, change.site, change.allocation, loopback)
    if as_json:
        print_json(
            {
                "action": action,
                "dry_run": dry_run,
                "site": site_to_row(change.site),
                "allocation": facts,
                "diffs": change.diffs,
            }
        )
        return
    rows = [[key, "" if value is None else value] for key, value in facts.items()]
    title = f"{action} {change.site.id} {change.site.name}" + (" (dry run)" if dry_run else "")
    console.print(table(title, ["resource", "value"], rows))
    for diff in change.diffs.values():
        console.print(escape(diff), highlight=False, end="")


@app.command()
def add(
    ctx: typer.Context,
    name: Annotated[str, typer.Option("--name", help="The establishment's name.")],
    pop: Annotated[str, typer.Option("--pop", help="PoP it connects to.")],
    community: Annotated[Community, typer.Option("--community")],
    rate: Annotated[str, typer.Option("--rate", help="Contracted rate: 100M, 1G, 20...")],
    l2_renater: Annotated[
        bool, typer.Option("--l2-renater", help="Add the L2 service to the Renater hand-off.")
    ] = False,
    kind: Annotated[SiteKind | None, typer.Option("--kind", help="Default: by community.")] = None,
    commune: Annotated[
        str | None, typer.Option("--commune", help="Default: the PoP's city.")
    ] = None,
    dry_run: DryRunOption = False,
    as_json: JsonOption = False,
) -> None:
    """Allocate and record a new connection; print what it got and every config diff."""
    request = SiteRequest(name, pop, community, rate, l2_renater, kind, commune)
    change = _change(ctx, lambda network, allocs: add_site(network, allocs, request), dry_run)
    _report(change, "added", dry_run, as_json)


@app.command()
def remove(
    ctx: typer.Context,
    site: Annotated[str, typer.Argument(help="Site id or exact name.")],
    dry_run: DryRunOption = False,
    as_json: JsonOption = False,
) -> None:
    """Remove a connection and free its resources; print every config diff."""
    change = _change(ctx, lambda network, allocs: remove_site(network, allocs, site), dry_run)
    _report(change, "removed", dry_run, as_json)


@app.command()
def show(
    ctx: typer.Context,
    site: Annotated[str, typer.Argument(help="Site id or exact name.")],
    as_json: JsonOption = False,
) -> None:
    """A site's record and everything allocated to it."""
    network = context.network(ctx)
    allocations = context.allocations(ctx)
    found = find_site(network, site)
    alloc = allocations.sites.get(found.id)
    device = next(d for d in network.devices if d.pop == found.pop)
    facts = (
        _facts(network, found, alloc, allocations.loopbacks[device.name])
        if alloc is not None
        else None
    )
    if as_json:
        print_json({"site": site_to_row(found), "allocation": facts})
        return
    rows: list[list[Any]] = [[k, v] for k, v in site_to_row(found).items()]
    if facts is None:
        rows.append(["allocation", "none yet: run megalis-net allocate"])
    else:
        rows += [[k, "" if v is None else v] for k, v in facts.items()]
    console.print(table(f"{found.id} {found.name}", ["field", "value"], rows))
