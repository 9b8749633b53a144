"""YAML files that remember where each value came from.

ruamel.yaml's round-trip loader keeps the line of every key and list item, so
an error found later (by pydantic, or by a cross-reference check) can name the
file and line of the offending value.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import MarkedYAMLError, YAMLError

from megalis_net.errors import InputError, Problem

Loc = tuple[str | int, ...]


@dataclass(frozen=True)
class YamlSource:
    """One parsed YAML file: plain data plus the ruamel tree for line lookups."""

    path: Path
    tree: Any

    @property
    def data(self) -> Any:
        return to_plain(self.tree)

    def line_of(self, loc: Loc) -> int | None:
        """1-based line of the value at ``loc``, or of its nearest known parent."""
        node, line = self.tree, 1
        for part in loc:
            if isinstance(node, CommentedMap) and part in node:
                line = node.lc.key(part)[0] + 1
                node = node[part]
            elif isinstance(node, CommentedSeq) and isinstance(part, int) and 0 <= part < len(node):
                line = node.lc.item(part)[0] + 1
                node = node[part]
            else:
                break
        return line

    def problem(self, loc: Loc, field: str, message: str) -> Problem:
        return Problem(str(self.path), self.line_of(loc), field, message)


def to_plain(value: Any) -> Any:
    """ruamel's commented containers and scalar subclasses -> plain Python."""
    if isinstance(value, dict):
        return {to_plain(k): to_plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [to_plain(v) for v in value]
    if isinstance(value, bool) or value is None:
        return value
    for plain in (int, float, str):
        if isinstance(value, plain):
            return plain(value)
    return value


def load_yaml(path: Path) -> YamlSource:
    """Parse one YAML file; a syntax error becomes an InputError with its line."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise InputError([Problem(str(path), None, "", "file not found")]) from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError([Problem(str(path), None, "", f"cannot read: {exc}")]) from exc
    try:
        tree = YAML(typ="rt").load(text)
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        reason = exc.problem or exc.context or "invalid YAML"
        raise InputError([Problem(str(path), line, "", f"YAML syntax error: {reason}")]) from exc
    except YAMLError as exc:
        raise InputError([Problem(str(path), None, "", f"YAML syntax error: {exc}")]) from exc
    return YamlSource(path, tree)
