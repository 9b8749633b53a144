"""``megalis-net netbox push|diff``: the files into NetBox, and what differs."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from megalis_net.cli import context
from megalis_net.cli.output import JsonOption, console, print_json, table
from megalis_net.netbox import NetBox, Settings, SyncReport, sync
from megalis_net.netbox.plan import Action, Change, Plan
from megalis_net.netbox.state import Ref

app = typer.Typer(help="NetBox as the source of truth: push the files, find drift.")

UrlOption = Annotated[
    str | None, typer.Option("--url", help="NetBox URL (default: $MEGALIS_NETBOX_URL).")
]
TokenOption = Annotated[
    str | None,
    typer.Option("--token", help="API token (default: $MEGALIS_NETBOX_TOKEN).", show_default=False),
]
EXIT_DRIFT = 1


def _run(
    ctx: typer.Context, url: str | None, token: str | None, dry_run: bool, quiet: bool
) -> SyncReport:
    """The model always comes from the files here: NetBox is what is compared or written."""
    context.files_only(ctx, "netbox push/diff")
    network, allocations = context.network(ctx), context.allocations(ctx)
    netbox = NetBox(Settings.from_env(url, token))
    if quiet or dry_run:
        return sync(netbox, network, allocations, dry_run=dry_run)
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn())
    with Progress(*columns, TimeElapsedColumn(), console=console, transient=True) as bar:
        task = bar.add_task("reading NetBox", total=None)

        def sized(todo: Plan) -> None:
            bar.update(task, description="writing", total=len(todo.changes))

        def advance(endpoint: str, count: int) -> None:
            bar.update(task, advance=count, description=f"writing {endpoint}")

        return sync(netbox, network, allocations, progress=advance, on_plan=sized)


@app.command()
def push(
    ctx: typer.Context,
    url: UrlOption = None,
    token: TokenOption = None,
    as_json: JsonOption = False,
) -> None:
    """Write the model (files) into NetBox: only what differs, in bulk; a second push writes 0."""
    report = _run(ctx, url, token, dry_run=False, quiet=as_json)
    counts = report.plan.counts()
    if as_json:
        print_json(
            {
                "changes": len(report.plan.changes),
                "per_endpoint": counts,
                "foreign": ["/".join((e, *k)) for e, k in report.plan.foreign],
                "read_objects": report.read_objects,
                "read_seconds": round(report.read_seconds, 2),
                "write_seconds": round(report.write_seconds, 2),
            }
        )
        return
    rows = [[e, c["create"], c["update"], c["delete"]] for e, c in counts.items()]
    title = f"NetBox push: {len(report.plan.changes)} changes"
    console.print(table(title, ["endpoint", "create #", "update #", "delete #"], rows))
    console.print(
        f"read {report.read_objects} objects in {report.read_seconds:.1f} s,"
        f" wrote in {report.write_seconds:.1f} s"
    )
    _warn_foreign(report.plan)


def _warn_foreign(todo: Plan) -> None:
    if todo.foreign:
        first = "/".join((todo.foreign[0][0], *todo.foreign[0][1]))
        console.print(
            f"left alone: {len(todo.foreign)} objects exist without the megalis-net tag"
            f" (first: {first})"
        )


def _text(value: Any) -> Any:
    """JSON-friendly form of a field value (references by their natural key)."""
    if isinstance(value, Ref):
        return f"{value.endpoint}:{'/'.join(value.key)}"
    if isinstance(value, list):
        return [_text(v) for v in value]
    if isinstance(value, dict):
        return {k: _text(v) for k, v in value.items()}
    return value


def _rows(change: Change) -> list[list[Any]]:
    if change.action is not Action.UPDATE:
        return [[change.action.value, change.name, "", "", ""]]
    return [
        [change.action.value, change.name, field, _text(value), _text(change.before.get(field))]
        for field, value in change.fields.items()
    ]


@app.command()
def diff(
    ctx: typer.Context,
    url: UrlOption = None,
    token: TokenOption = None,
    as_json: JsonOption = False,
) -> None:
    """What differs between the files and NetBox; exit 1 when anything does (drift)."""
    report = _run(ctx, url, token, dry_run=True, quiet=True)
    changes = report.plan.changes
    if as_json:
        print_json(
            {
                "drift": bool(changes),
                "changes": [
                    {
                        "action": c.action.value,
                        "endpoint": c.endpoint,
                        "key": list(c.key),
                        "files": _text(c.fields),
                        "netbox": _text(c.before),
                    }
                    for c in changes
                ],
            }
        )
    elif changes:
        rows = [row for change in changes for row in _rows(change)]
        columns = ["to do", "object", "field", "files", "netbox"]
        console.print(table(f"NetBox differs from the files: {len(changes)}", columns, rows))
        _warn_foreign(report.plan)
    else:
        console.print("no drift: NetBox holds the files' model")
    if changes:
        raise typer.Exit(EXIT_DRIFT)
