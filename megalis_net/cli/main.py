"""Entry point: global options, the command groups, and the one place where
errors become exit codes.

Exit codes: 0 success, 1 the network fails a check (audit policy), 2 bad input
or bad usage (one line per problem on stderr, no traceback).
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated, Any

import typer
from typer.core import TyperGroup

from megalis_net.cli import (
    audit,
    configs,
    deploy,
    lab,
    migrate,
    netbox,
    report,
    site,
    sites,
    topology,
    verify,
)
from megalis_net.cli.context import DEFAULT_INVENTORY, DEFAULT_TOPOLOGY, Paths, Source
from megalis_net.cli.output import error_line
from megalis_net.errors import InputError, MegalisError

EXIT_BAD_INPUT = 2


class MegalisGroup(TyperGroup):
    """Translates the project's exceptions into one-line errors and exit codes."""

    def main(
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        windows_expand_args: bool = True,
        **extra: Any,
    ) -> Any:
        """Usage errors (bad option values) get one line too, not a framed panel."""
        standalone = standalone_mode
        try:
            code = super().main(args, prog_name, complete_var, False, windows_expand_args, **extra)
        except typer.TyperException as exc:
            if not standalone:
                raise
            format_message = getattr(exc, "format_message", None)
            error_line(format_message() if format_message else str(exc))
            sys.exit(getattr(exc, "exit_code", EXIT_BAD_INPUT))
        except typer.Abort:
            if not standalone:
                raise
            error_line("aborted")
            sys.exit(1)
        if standalone:
            sys.exit(code if isinstance(code, int) else 0)
        return code

    def invoke(self, ctx: Any) -> Any:  # typer's vendored click.Context is private
        try:
            return super().invoke(ctx)
        except InputError as exc:
            for problem in exc.problems:
                error_line(str(problem))
            raise typer.Exit(EXIT_BAD_INPUT) from None
        except MegalisError as exc:
            error_line(str(exc))
            raise typer.Exit(EXIT_BAD_INPUT) from None


app = typer.Typer(
    cls=MegalisGroup,
    help="Inventory, redundancy audit and provisioning for the Mégalis II network.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
    add_completion=False,
)
app.add_typer(topology.app, name="topology")
app.add_typer(sites.app, name="sites")
app.add_typer(site.app, name="site")
app.add_typer(lab.app, name="lab")
app.add_typer(netbox.app, name="netbox")
app.add_typer(migrate.app, name="migrate")
app.command("audit")(audit.audit)
app.command("allocate")(configs.allocate)
app.command("render")(configs.render)
app.command("deploy")(deploy.deploy)
app.command("verify")(verify.verify)
app.command("report")(report.report)


@app.callback()
def global_options(
    ctx: typer.Context,
    topology_dir: Annotated[
        Path,
        typer.Option("--topology", help="Backbone design folder.", envvar="MEGALIS_TOPOLOGY"),
    ] = DEFAULT_TOPOLOGY,
    inventory_dir: Annotated[
        Path,
        typer.Option("--inventory", help="Devices and sites folder.", envvar="MEGALIS_INVENTORY"),
    ] = DEFAULT_INVENTORY,
    source: Annotated[
        Source,
        typer.Option(
            "--source",
            help="Where the model and allocations come from: the files, or NetBox"
            " ($MEGALIS_NETBOX_URL, $MEGALIS_NETBOX_TOKEN).",
            envvar="MEGALIS_SOURCE",
        ),
    ] = Source.FILES,
) -> None:
    ctx.obj = Paths(topology_dir, inventory_dir, source)


def main() -> None:
    app()
