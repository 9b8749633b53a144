"""Raw NetBox JSON -> ``State`` (the comparable form), with the ids kept aside."""

from __future__ import annotations

from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from megalis_net.netbox.client import NetBox
from megalis_net.netbox.names import TAG
from megalis_net.netbox.state import (
    CONTENT_TYPES,
    KINDS,
    Fields,
    Key,
    Kind,
    Ref,
    State,
    key_part,
    request_fields,
)

Raw = Mapping[str, list[dict[str, Any]]]


@dataclass(frozen=True)
class Snapshot:
    """What NetBox holds: comparable fields per natural key, and each object's id."""

    state: State
    ids: dict[str, dict[Key, int]]

    @property
    def size(self) -> int:
        return sum(len(objects) for objects in self.state.values())


def read_snapshot(netbox: NetBox, tag: str = TAG) -> Snapshot:
    """Read every endpoint we manage, two at a time (their pages READERS at a time).

    Serialising tags is most of NetBox's cost per object, so owned objects are
    read by tag filter without their tags, and the others (``tag__n``) only by
    their key: enough to see a collision and to resolve references.
    """
    tags = netbox.read("extras.tags", request_fields(KINDS[0]))
    tagged = any(t.get("slug") == tag for t in tags)
    # More concurrency measured no faster: the server's two cores are the limit.
    with ThreadPoolExecutor(2) as pool:
        raws = pool.map(lambda kind: _read_kind(netbox, kind, tag, tagged), KINDS[1:])
        raw = {kind.endpoint: objects for kind, objects in zip(KINDS[1:], raws, strict=True)}
    return normalize({KINDS[0].endpoint: tags, **raw})


def _read_kind(netbox: NetBox, kind: Kind, tag: str, tagged: bool) -> list[dict[str, Any]]:
    keys_only = ("id", *(f for name in kind.key_fields for f in kind.generic.get(name, (name,))))
    if not kind.owned:
        return netbox.read(kind.endpoint, request_fields(kind))
    if not tagged:  # NetBox refuses a filter on a tag that does not exist yet
        return netbox.read(kind.endpoint, keys_only)
    fields = tuple(f for f in request_fields(kind) if f != "tags")
    owned = netbox.read(kind.endpoint, fields, {"tag": tag})
    for obj in owned:
        obj["tags"] = [{"slug": tag}]
    return owned + netbox.read(kind.endpoint, keys_only, {"tag__n": tag})


def _id_of(value: Any) -> int | None:
    if value is None:
        return None
    return int(value["id"]) if isinstance(value, dict) else int(value)


class _Index:
    def __init__(self) -> None:
        self.keys: dict[str, dict[int, Key]] = {kind.endpoint: {} for kind in KINDS}

    def ref(self, endpoint: str, value: Any) -> Ref | None:
        ident = _id_of(value)
        if ident is None:
            return None
        key = self.keys.get(endpoint, {}).get(ident)
        # An object of a kind we do not manage (or not yet read): keep it distinct, by id.
        return Ref(endpoint, key if key is not None else (f"#{ident}",))

    def generic(self, ctype: Any, ident: Any) -> Ref | None:
        if ctype is None or ident is None:
            return None
        return self.ref(CONTENT_TYPES.get(str(ctype), str(ctype)), ident)


def _plain(value: Any) -> Any:
    """Choice fields come as {"value", "label"}: keep the value."""
    if isinstance(value, dict) and "value" in value and "label" in value:
        return value["value"]
    return value


def _field(kind: Kind, name: str, obj: dict[str, Any], index: _Index) -> Any:
    if name in kind.generic:
        type_field, id_field = kind.generic[name]
        return index.generic(obj.get(type_field), obj.get(id_field))
    value = obj.get(name)
    if name in kind.refs:
        target = kind.refs[name]
        if isinstance(value, list):
            return sorted(r for r in (index.ref(target, v) for v in value) if r is not None)
        return index.ref(target, value)
    if name in kind.terminations:
        ends = [index.generic(t.get("object_type"), t.get("object_id")) for t in value or []]
        return sorted(r for r in ends if r is not None)
    if name == "tags":
        # Brief tags, or bare slugs on config contexts.
        slugs = (t["slug"] if isinstance(t, dict) else str(t) for t in value or [])
        return sorted(Ref("extras.tags", (s,)) for s in slugs)
    return _plain(value)


def _key(kind: Kind, obj: dict[str, Any], index: _Index) -> Key:
    return tuple(key_part(_field(kind, name, obj, index)) for name in kind.key_fields)


def _fields(kind: Kind, obj: dict[str, Any], index: _Index) -> Fields:
    generic_parts = {f for pair in kind.generic.values() for f in pair}
    names = [n for n in obj if n not in generic_parts] + list(kind.generic)
    return {name: _field(kind, name, obj, index) for name in names}


def normalize(raw: Raw) -> Snapshot:
    """Pure: keys first (in dependency order, so references resolve), then fields."""
    index = _Index()
    keyed: dict[str, list[tuple[Key, dict[str, Any]]]] = {}
    for kind in KINDS:
        keyed[kind.endpoint] = []
        for obj in raw.get(kind.endpoint, []):
            key = _key(kind, obj, index)
            index.keys[kind.endpoint][int(obj["id"])] = key
            keyed[kind.endpoint].append((key, obj))
    state: State = {}
    ids: dict[str, dict[Key, int]] = {}
    for kind in KINDS:
        state[kind.endpoint] = {}
        ids[kind.endpoint] = {}
        for key, obj in keyed[kind.endpoint]:
            state[kind.endpoint][key] = _fields(kind, obj, index)
            ids[kind.endpoint][key] = int(obj["id"])
    return Snapshot(state, ids)
