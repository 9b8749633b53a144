"""``megalis-net migrate``: the legacy sites of Mégalis I onto Mégalis II, in waves."""

from __future__ import annotations

import typer

from megalis_net.cli.migrate_plan import plan
from megalis_net.cli.migrate_run import rollback, run, status

app = typer.Typer(help="Migrate the legacy sites in waves.", no_args_is_help=True)
app.command("plan")(plan)
app.command("run")(run)
app.command("status")(status)
app.command("rollback")(rollback)
