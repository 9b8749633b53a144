"""The diff between the desired and the current NetBox state (pure).

Only objects carrying the ownership tag are ever updated or deleted; a
desired object whose key is held by an untagged object is left alone and
reported as ``foreign``. Only the fields we set are compared, so what NetBox
adds (defaults, counters, other people's tags and custom fields) is no drift.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from megalis_net.netbox.state import KINDS, Fields, Key, Ref, State

FLOAT_DIGITS = 6  # NetBox stores coordinates as decimal(8, 6)


class Action(StrEnum):
    CREATE = "create"
    UPDATE = "update"
    DELETE = "delete"


@dataclass(frozen=True)
class Change:
    """One write: ``fields`` are all the fields (create), the changed ones (update) or
    none (delete); ``before`` holds the current values of the changed fields."""

    action: Action
    endpoint: str
    key: Key
    fields: Fields = field(default_factory=dict)
    before: Fields = field(default_factory=dict)

    @property
    def name(self) -> str:
        return f"{self.endpoint.split('.', 1)[1]} {'/'.join(self.key)}"


@dataclass(frozen=True)
class Plan:
    changes: tuple[Change, ...]
    foreign: tuple[tuple[str, Key], ...] = ()

    def of(self, action: Action) -> list[Change]:
        return [c for c in self.changes if c.action is action]

    def counts(self) -> dict[str, dict[str, int]]:
        """Per endpoint, how many creates, updates and deletes."""
        counts: dict[str, dict[str, int]] = {}
        for change in self.changes:
            row = counts.setdefault(change.endpoint, {a.value: 0 for a in Action})
            row[change.action.value] += 1
        return counts


def same(want: Any, have: Any, name: str = "") -> bool:
    """Do two field values mean the same to NetBox?

    Examples:
        >>> same(48.1198, 48.119800000001)
        True
        >>> same({"a": 1}, {"a": 1, "b": 2}, "custom_fields")
        True
        >>> same([Ref("extras.tags", ("x",))], [], "tags")
        False
    """
    if name == "custom_fields" and isinstance(want, dict) and isinstance(have, dict):
        return all(same(v, have.get(k), k) for k, v in want.items())
    if name == "tags":
        return set(want or []) <= set(have or [])
    if isinstance(want, float) and isinstance(have, int | float):
        return round(want, FLOAT_DIGITS) == round(float(have), FLOAT_DIGITS)
    if isinstance(want, list) and isinstance(have, list):
        return len(want) == len(have) and all(same(w, h) for w, h in zip(want, have, strict=True))
    return bool(want == have)


def changed_fields(want: Fields, have: Fields) -> tuple[Fields, Fields]:
    """The fields of ``want`` that ``have`` lacks or holds differently, and their old values."""
    after: Fields = {}
    before: Fields = {}
    for name, value in want.items():
        if not same(value, have.get(name), name):
            if name == "custom_fields":
                old = have.get(name) or {}
                value = {k: v for k, v in value.items() if not same(v, old.get(k), k)}
                before[name] = {k: old.get(k) for k in value}
            else:
                before[name] = have.get(name)
            after[name] = value
    return after, before


def owned(fields: Fields, tag: str) -> bool:
    return Ref("extras.tags", (tag,)) in (fields.get("tags") or [])


def plan(desired: State, current: State, tag: str) -> Plan:
    """Creates and updates in dependency order, deletes in reverse (see ``apply``)."""
    changes: list[Change] = []
    foreign: list[tuple[str, Key]] = []
    for kind in reversed(KINDS):
        if not kind.owned:
            continue
        wanted = desired.get(kind.endpoint, {})
        for key, there in sorted(current.get(kind.endpoint, {}).items()):
            if key not in wanted and owned(there, tag):
                changes.append(Change(Action.DELETE, kind.endpoint, key))
    for kind in KINDS:
        have_all = current.get(kind.endpoint, {})
        for key, want in desired.get(kind.endpoint, {}).items():
            have = have_all.get(key)
            if have is None:
                changes.append(Change(Action.CREATE, kind.endpoint, key, want))
            elif kind.owned and not owned(have, tag):
                foreign.append((kind.endpoint, key))
            elif kind.owned:
                after, before = changed_fields(want, have)
                if after:
                    changes.append(Change(Action.UPDATE, kind.endpoint, key, after, before))
    return Plan(tuple(changes), tuple(foreign))
