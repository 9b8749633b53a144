"""The project's exception tree: user-facing messages, one per failure.

The CLI maps each class to an exit code in one place (``cli.main``); any other
exception is a bug and keeps its traceback.
"""

from __future__ import annotations

from dataclasses import dataclass


class MegalisError(Exception):
    """Base of every error the user can cause or fix."""


@dataclass(frozen=True)
class Problem:
    """One bad value in an input file, located precisely enough to fix it.

    Examples:
        >>> str(Problem("topology/links.yaml", 12, "links[3].a", "unknown PoP 'renes'"))
        "topology/links.yaml:12: links[3].a: unknown PoP 'renes'"
    """

    file: str
    line: int | None
    field: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line is not None else self.file
        field = f" {self.field}:" if self.field else ""
        return f"{where}:{field} {self.message}"


class InputError(MegalisError):
    """Bad input files: carries every problem found, not just the first."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = sorted(problems, key=lambda p: (p.file, p.line or 0, p.field))
        first = self.problems[0] if self.problems else "no details"
        more = len(self.problems) - 1
        suffix = f" (and {more} more problem{'s' if more > 1 else ''})" if more > 0 else ""
        super().__init__(f"{first}{suffix}")


class UsageError(MegalisError):
    """A command-line argument that cannot be honoured."""
