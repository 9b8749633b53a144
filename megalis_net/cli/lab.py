"""``megalis-net lab up|down|status``: the network as FRR routers on this machine."""

from __future__ import annotations

import time
from dataclasses import asdict
from typing import Annotated

import typer
from rich.status import Status

from megalis_net import lab
from megalis_net.cli import context
from megalis_net.cli.output import JsonOption, console, print_json, table
from megalis_net.lab.system import require_root

app = typer.Typer(help="A lab of real FRR routers in network namespaces (needs root).")


@app.command()
def up(
    ctx: typer.Context,
    bare: Annotated[
        bool,
        typer.Option(
            "--bare", help="Start new routers with an empty config, for `deploy` to fill."
        ),
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """Build the lab from the model, or bring it in line (idempotent)."""
    require_root()  # before anything else: the model may be fine, the user is not
    plan = lab.plan_lab(context.network(ctx), context.allocations(ctx))
    started = time.monotonic()
    with Status("lab up", console=console) as spinner:
        lab.up(plan, bare=bare, progress=lambda step: spinner.update(f"lab up: {step}"))
    elapsed = time.monotonic() - started
    _show(lab.status(), as_json, f"Lab up in {elapsed:.1f} s")


@app.command()
def down(as_json: JsonOption = False) -> None:
    """Remove everything `lab up` made, and end its processes."""
    with Status("lab down", console=console) as spinner:
        removed = lab.down(progress=lambda step: spinner.update(f"lab down: {step}"))
    if as_json:
        print_json({"removed": removed})
    elif removed:
        console.print(f"lab down: removed {len(removed)} namespaces and links")
    else:
        console.print("lab down: nothing was up")


@app.command()
def hold(
    ctx: typer.Context,
    device: Annotated[str, typer.Argument(help="The site's router, e.g. pe-quimper.")],
    interface: Annotated[str, typer.Argument(help="The site's unit, e.g. acc0.104.")],
) -> None:
    """Keep a site link down at the site's end (a CPE not plugged in), even before it exists."""
    require_root()
    lab.hold(lab.plan_lab(context.network(ctx), context.allocations(ctx)), device, interface)
    console.print(f"{device} {interface}: held down at the site's end")


@app.command()
def release(
    ctx: typer.Context,
    device: Annotated[str, typer.Argument(help="The site's router.")],
    interface: Annotated[str, typer.Argument(help="The site's unit.")],
) -> None:
    """Let a held site link come up again."""
    require_root()
    lab.release(lab.plan_lab(context.network(ctx), context.allocations(ctx)), device, interface)
    console.print(f"{device} {interface}: released")


@app.command()
def status(as_json: JsonOption = False) -> None:
    """Each lab router: namespace, management address, daemons running."""
    rows = lab.status()
    _show(rows, as_json, "Lab")
    if any(not r.present or set(r.daemons) != set(r.expected) for r in rows):
        raise typer.Exit(1)


def _show(rows: list[lab.RouterStatus], as_json: bool, title: str) -> None:
    if as_json:
        print_json([asdict(r) for r in rows])
        return
    if not rows:
        console.print("no lab is up")
        return
    lines = []
    for r in rows:
        down_daemons = [d for d in r.expected if d not in r.daemons]
        state = (
            "missing"
            if not r.present
            else ("down: " + " ".join(down_daemons) if down_daemons else "up")
        )
        lines.append(
            [r.name, r.kind, r.netns, r.address or "", " ".join(r.daemons), r.interfaces, state]
        )
    console.print(
        table(
            title,
            ["router", "kind", "namespace", "management", "daemons", "interfaces #", "state"],
            lines,
        )
    )
