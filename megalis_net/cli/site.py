"""``megalis-net site add|remove|show``: one connection at a time."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass
from ipaddress import IPv4Address
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.status import Status

from megalis_net import lab
from megalis_net.apply import (
    DEFAULT_CONFIRM_TIMEOUT,
    DEFAULT_VERIFY_TIMEOUT,
    Applied,
    apply_change,
)
from megalis_net.cli import context
from megalis_net.cli.options import ConfirmTimeoutOption, VerifyTimeoutOption
from megalis_net.cli.output import JsonOption, console, print_json, table
from megalis_net.deploy import lab_targets, production_targets
from megalis_net.errors import UsageError
from megalis_net.fileio import exclusive
from megalis_net.intent import NAMING, PortRole, build_intents, devices_of_site
from megalis_net.ipam import (
    Allocations,
    SiteAllocation,
    route_distinguisher,
    route_target,
    save_allocations,
)
from megalis_net.model import Community, Network, Platform, Site, SiteKind
from megalis_net.provision import (
    Change,
    SiteRequest,
    add_site,
    commit,
    find_site,
    remove_site,
)
from megalis_net.render import render_all
from megalis_net.sites import site_to_row, write_sites
from megalis_net.verify import agents_for, intended_interfaces

app = typer.Typer(help="Provision one site: add, remove, show.", no_args_is_help=True)

DryRunOption = Annotated[
    bool, typer.Option("--dry-run", help="Show the allocation and diffs; write nothing.")
]
ApplyOption = Annotated[
    bool,
    typer.Option(
        "--apply",
        help="Push to the router (commit-confirm), verify by SNMP, then record; or roll back.",
    ),
]
LabOption = Annotated[bool, typer.Option("--lab", help="With --apply: on the lab's routers.")]


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
    ctx: typer.Context,
    make: Callable[[Network, Allocations], Change],
    dry_run: bool,
    apply: ApplyOptions | None = None,
    as_json: bool = False,
) -> tuple[Change, Applied | None]:
    """Read, change and (unless a dry run) write the inventory, holding its lock
    throughout; with ``apply``, through the routers first (``megalis_net.apply``)."""
    where = context.paths(ctx)
    if dry_run and apply is not None:
        raise UsageError("--dry-run and --apply exclude each other")
    if not dry_run:
        context.files_only(ctx, "site add/remove")
    with exclusive(where.inventory):
        network, allocations = context.network(ctx), context.allocations(ctx)
        change = make(network, allocations)
        if apply is not None:
            return change, _apply(ctx, change, network, allocations, apply, as_json)
        if not dry_run:
            commit(change, where.inventory, where.sites_file)
    return change, None


@dataclass(frozen=True)
class ApplyOptions:
    action: str  # added, removed
    in_lab: bool
    verify_timeout: float
    confirm_timeout: int


def _apply(
    ctx: typer.Context,
    change: Change,
    network: Network,
    allocations: Allocations,
    options: ApplyOptions,
    as_json: bool,
) -> Applied:
    where = context.paths(ctx)
    removing = options.action == "removed"
    # the routers the site lands on (or leaves): computed on the model that has it
    devices = sorted(devices_of_site(network if removing else change.network, change.site))
    platform = Platform.FRR if options.in_lab else None
    intents = build_intents(change.network, change.allocations, platform, devices)
    targets = (
        lab_targets(devices)
        if options.in_lab
        else production_targets(where.inventory, {n: intents[n].platform.value for n in devices})
    )
    agents = agents_for(where.inventory, devices, options.in_lab)
    if not as_json:  # once the routers are known to be reachable in principle
        _report(change, options.action, False, False)
    if options.in_lab and not removing:
        # the new site's link, as its CPE would bring it: before the config (LAB.md)
        lab.up(lab.plan_lab(change.network, change.allocations))

    def restore() -> None:
        save_allocations(where.inventory, allocations)
        write_sites(where.sites_file, network.sites)

    with Status("apply", console=console) if not as_json else nullcontext() as spinner:
        applied = apply_change(
            change.site,
            removing,
            render_all(intents),
            targets,
            agents,
            intended_interfaces(change.network, intents),
            save=lambda: commit(change, where.inventory, where.sites_file),
            restore=restore,
            verify_timeout=options.verify_timeout,
            confirm_timeout=options.confirm_timeout,
            progress=lambda step: spinner.update(f"apply: {step}") if spinner else None,
        )
    if options.in_lab and applied.ok == removing:
        # the lab follows what the routers hold: the removed site's link goes,
        # and so does the link of a site that was rolled back
        lab.up(
            lab.plan_lab(network, allocations)
            if not removing
            else lab.plan_lab(change.network, change.allocations)
        )
    return applied


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
    apply: ApplyOption = False,
    in_lab: LabOption = False,
    verify_timeout: VerifyTimeoutOption = DEFAULT_VERIFY_TIMEOUT,
    confirm_timeout: ConfirmTimeoutOption = DEFAULT_CONFIRM_TIMEOUT,
    as_json: JsonOption = False,
) -> None:
    """Allocate and record a new connection; print what it got and every config diff.

    With --apply: also push it to the router, verify the attachment by SNMP,
    and only then record it; roll back the router otherwise."""
    request = SiteRequest(name, pop, community, rate, l2_renater, kind, commune)
    options = ApplyOptions("added", in_lab, verify_timeout, confirm_timeout) if apply else None
    change, applied = _change(
        ctx, lambda network, allocs: add_site(network, allocs, request), dry_run, options, as_json
    )
    _finish(change, applied, "added", dry_run, as_json)


@app.command()
def remove(
    ctx: typer.Context,
    site: Annotated[str, typer.Argument(help="Site id or exact name.")],
    dry_run: DryRunOption = False,
    apply: ApplyOption = False,
    in_lab: LabOption = False,
    verify_timeout: VerifyTimeoutOption = DEFAULT_VERIFY_TIMEOUT,
    confirm_timeout: ConfirmTimeoutOption = DEFAULT_CONFIRM_TIMEOUT,
    as_json: JsonOption = False,
) -> None:
    """Remove a connection and free its resources; print every config diff.

    With --apply: also remove it from the router, check by SNMP that it is
    gone, and only then record it; roll back the router otherwise."""
    options = ApplyOptions("removed", in_lab, verify_timeout, confirm_timeout) if apply else None
    change, applied = _change(
        ctx, lambda network, allocs: remove_site(network, allocs, site), dry_run, options, as_json
    )
    _finish(change, applied, "removed", dry_run, as_json)


def _finish(
    change: Change, applied: Applied | None, action: str, dry_run: bool, as_json: bool
) -> None:
    if applied is None:
        _report(change, action, dry_run, as_json)
        return
    if as_json:
        print_json(
            {
                "action": action,
                "applied": applied.ok,
                "reason": applied.reason,
                "inventory_written": applied.inventory_written,
                "site": site_to_row(change.site),
                "devices": [
                    {"host": d.host, "outcome": d.outcome.value, "error": d.error}
                    for d in applied.deploy.all
                ],
                "verified": [
                    {
                        "device": c.intended.device,
                        "interface": c.intended.interface,
                        "state": "fine" if c.fine else "; ".join(p.problem for p in c.problems),
                    }
                    for c in applied.verified
                ],
                "diffs": change.diffs,
            }
        )
    else:
        rows = [[d.host, d.outcome.value, d.error or ""] for d in applied.deploy.all]
        console.print(table("Routers", ["router", "outcome", "error"], rows))
        for checked in applied.verified:
            state = "fine" if checked.fine else "; ".join(p.detail for p in checked.problems)
            console.print(f"SNMP: {checked.intended.device} {checked.intended.interface}: {state}")
        if applied.ok:
            console.print(f"[green]{change.site.id} {action}: applied, verified and recorded[/]")
        else:
            console.print(
                f"[red]{change.site.id} not {action}: routers rolled back, inventory unchanged[/]"
                f" ({escape(applied.reason or '')})"
            )
    if not applied.ok:
        raise typer.Exit(1)


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
