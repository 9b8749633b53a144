"""Reading the project's own CSV files (UTF-8, comma separated, header first)."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from pathlib import Path

from megalis_net.errors import InputError, Problem


def open_csv(path: Path, columns: Sequence[str], what: str) -> csv.DictReader[str]:
    """A reader over ``path``; InputError if it cannot be read or lacks a column.

    ``reader.line_num`` gives each row's line for error messages.
    """
    name = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError([Problem(name, None, "", f"cannot read {what}: {exc}")]) from exc
    reader = csv.DictReader(io.StringIO(text, newline=""))
    missing = [c for c in columns if c not in (reader.fieldnames or [])]
    if missing:
        raise InputError([Problem(name, 1, c, "missing column") for c in missing])
    return reader
