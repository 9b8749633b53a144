"""Printing for people (rich) and machines (JSON); only the CLI prints."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Sequence
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

JsonOption = Annotated[bool, typer.Option("--json", help="Machine-readable output.")]

# Piped output (CI logs, files) is not cut to 80 columns.
console = Console(width=None if sys.stdout.isatty() else 160)
errors = Console(stderr=True, highlight=False, soft_wrap=True)


def print_json(data: Any) -> None:
    """Deterministic JSON on stdout, without rich markup."""
    sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2, sort_keys=False) + "\n")


def table(title: str, columns: Sequence[str], rows: Iterable[Sequence[object]]) -> Table:
    out = Table(title=title, title_justify="left", header_style="bold")
    for column in columns:
        numeric = column.endswith(("Mb/s", "%", "#")) or column in {"sites", "count"}
        out.add_column(column, justify="right" if numeric else "left")
    for row in rows:
        out.add_row(*(str(cell) for cell in row))
    return out


def error_line(message: str) -> None:
    errors.print(f"[bold red]error:[/] {escape(message)}", markup=True, highlight=False)
