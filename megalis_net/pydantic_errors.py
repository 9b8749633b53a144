"""Turn pydantic validation errors into short, user-facing messages."""

from __future__ import annotations

from pydantic import ValidationError
from pydantic_core import ErrorDetails

Loc = tuple[str | int, ...]


def error_message(error: ErrorDetails) -> str:
    """One readable sentence for one pydantic error, with the offending value."""
    kind = error["type"]
    value = error.get("input")
    if kind == "missing":
        return "is required"
    if kind == "extra_forbidden":
        return "is not a known field"
    msg = error["msg"]
    msg = msg.removeprefix("Value error, ")
    if kind in {"dict_type", "list_type", "tuple_type", "model_type"}:
        return msg
    return f"{msg} (got {value!r})"


def located_errors(exc: ValidationError) -> list[tuple[Loc, str]]:
    """Each error as (location path, message)."""
    return [(tuple(e["loc"]), error_message(e)) for e in exc.errors()]


def dotted(loc: Loc) -> str:
    """``('links', 3, 'a')`` -> ``links[3].a``."""
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out
