"""Push the model into NetBox: read once, diff locally, write only the changes in bulk.

Every write request is all-or-nothing on NetBox's side and every object has a
natural key, so a push that stops halfway (server down, refused write,
Ctrl-C) leaves finished requests in place and the next push finds them:
nothing is duplicated, the rest is written.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from megalis_net.ipam import Allocations
from megalis_net.model import Network
from megalis_net.netbox.client import CHUNK, WRITERS, NetBox, NetBoxError, Progress, chunks
from megalis_net.netbox.desired import desired_state
from megalis_net.netbox.names import TAG
from megalis_net.netbox.plan import Action, Change, Plan, plan
from megalis_net.netbox.read import Snapshot, read_snapshot
from megalis_net.netbox.state import ENDPOINT_TYPES, KINDS, Key, Kind, Ref


@dataclass(frozen=True)
class SyncReport:
    plan: Plan
    read_objects: int
    read_seconds: float
    write_seconds: float
    applied: bool


def _no_progress(what: str, count: int) -> None:
    pass


class _Writer:
    """Applies a plan, turning references into ids as objects come to exist."""

    def __init__(
        self, netbox: NetBox, snapshot: Snapshot, progress: Progress, chunk: int, writers: int
    ) -> None:
        self.netbox = netbox
        self.chunk = chunk
        self.writers = writers
        self.ids = {endpoint: dict(ids) for endpoint, ids in snapshot.ids.items()}
        self.progress = progress

    def id_of(self, ref: Ref, owner: str) -> int:
        ident = self.ids.get(ref.endpoint, {}).get(ref.key)
        if ident is None:
            raise NetBoxError(
                f"NetBox {self.netbox.settings.url}: {owner} refers to"
                f" {ref.endpoint} {'/'.join(ref.key)}, which is not in NetBox"
            )
        return ident

    def payload(self, kind: Kind, key: Key, fields: dict[str, Any]) -> dict[str, Any]:
        owner = f"{kind.label} {'/'.join(key)}"
        out: dict[str, Any] = {}
        for name, value in fields.items():
            if name in kind.generic:
                type_field, id_field = kind.generic[name]
                out[type_field] = ENDPOINT_TYPES[value.endpoint] if value else None
                out[id_field] = self.id_of(value, owner) if value else None
            elif name in kind.terminations:
                out[name] = [
                    {"object_type": ENDPOINT_TYPES[r.endpoint], "object_id": self.id_of(r, owner)}
                    for r in value
                ]
            elif name == "tags" and kind.slug_tags:
                out[name] = [r.key[0] for r in value]
            elif isinstance(value, Ref):
                out[name] = self.id_of(value, owner)
            elif isinstance(value, list) and value and isinstance(value[0], Ref):
                out[name] = [self.id_of(r, owner) for r in value]
            else:
                out[name] = value
        return out

    def delete(self, changes: list[Change]) -> None:
        for endpoint in dict.fromkeys(c.endpoint for c in changes):
            mine = [c for c in changes if c.endpoint == endpoint]
            for chunk in chunks(mine, self.chunk):
                ids = [self.ids[endpoint][c.key] for c in chunk]
                self.netbox.delete(endpoint, ids, _what(chunk))
                for c in chunk:
                    del self.ids[endpoint][c.key]
                self.progress(endpoint, len(chunk))

    def create(self, kind: Kind, changes: list[Change]) -> None:
        for wave in _waves(kind, changes):
            # Chunks of one wave are independent: two requests at a time keep both
            # server workers (and both cores) busy.
            with ThreadPoolExecutor(self.writers) as pool:
                list(pool.map(lambda chunk: self._create(kind, chunk), chunks(wave, self.chunk)))

    def _create(self, kind: Kind, chunk: Sequence[Change]) -> None:
        body = [self.payload(kind, c.key, _now(kind, c.fields)) for c in chunk]
        new_ids = self.netbox.create(kind.endpoint, body, _what(chunk))
        for change, ident in zip(chunk, new_ids, strict=True):
            self.ids[kind.endpoint][change.key] = ident
        self.progress(kind.endpoint, len(chunk))

    def update(self, kind: Kind, changes: list[Change], deferred: bool = False) -> None:
        body_of = _later if deferred else _now
        todo = [c for c in changes if body_of(kind, c.fields)]
        for chunk in chunks(todo, self.chunk):
            body = [
                {
                    "id": self.ids[kind.endpoint][c.key],
                    **self.payload(kind, c.key, body_of(kind, c.fields)),
                }
                for c in chunk
            ]
            self.netbox.update(kind.endpoint, body, _what(chunk))
            self.progress(kind.endpoint, len(chunk))


def _now(kind: Kind, fields: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in fields.items() if k not in kind.deferred}


def _later(kind: Kind, fields: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in fields.items() if k in kind.deferred}


def _what(chunk: Iterable[Change]) -> str:
    changes = list(chunk)
    more = f" (and {len(changes) - 1} more in the same request)" if len(changes) > 1 else ""
    return f"{changes[0].name}{more}"


def _waves(kind: Kind, changes: list[Change]) -> list[list[Change]]:
    """Objects referring to others of their own kind (an interface's parent, a
    region's parent) are created after them."""
    pending = {c.key for c in changes}
    waves: list[list[Change]] = []
    remaining = changes
    while remaining:
        ready = [c for c in remaining if not _refers_to(kind, c, pending)]
        if not ready:  # a cycle: let NetBox name it
            ready = remaining
        waves.append(ready)
        pending -= {c.key for c in ready}
        remaining = [c for c in remaining if c.key in pending]
    return waves


def _refers_to(kind: Kind, change: Change, pending: set[Key]) -> bool:
    return any(
        isinstance(v, Ref)
        and v.endpoint == kind.endpoint
        and v.key in pending
        and v.key != change.key
        for v in change.fields.values()
    )


def apply(
    netbox: NetBox,
    todo: Plan,
    snapshot: Snapshot,
    progress: Progress = _no_progress,
    chunk: int = CHUNK,
    writers: int = WRITERS,
) -> None:
    """Deletes first (so a freed VLAN or address can be taken again), then creates and
    updates in dependency order, then the deferred fields (a device's primary IP).

    ``chunk=1, writers=1`` is the naive way (one request per object): the benchmark's baseline.
    """
    writer = _Writer(netbox, snapshot, progress, chunk, writers)
    writer.delete(todo.of(Action.DELETE))
    for kind in KINDS:
        mine = [c for c in todo.changes if c.endpoint == kind.endpoint]
        writer.create(kind, [c for c in mine if c.action is Action.CREATE])
        writer.update(kind, [c for c in mine if c.action is Action.UPDATE])
    for kind in KINDS:
        if kind.deferred:
            mine = [c for c in todo.changes if c.endpoint == kind.endpoint]
            writer.update(kind, [c for c in mine if c.action is not Action.DELETE], deferred=True)


def sync(
    netbox: NetBox,
    network: Network,
    allocations: Allocations,
    dry_run: bool = False,
    progress: Progress = _no_progress,
    on_plan: Callable[[Plan], None] | None = None,
) -> SyncReport:
    """Make NetBox hold the model (or, with ``dry_run``, only say what differs).

    ``on_plan`` sees the plan before anything is written (to size a progress bar).
    """
    desired = desired_state(network, allocations)
    started = time.perf_counter()
    snapshot = read_snapshot(netbox)
    read_seconds = time.perf_counter() - started
    todo = plan(desired, snapshot.state, TAG)
    if on_plan is not None:
        on_plan(todo)
    started = time.perf_counter()
    if not dry_run and todo.changes:
        apply(netbox, todo, snapshot, progress)
    return SyncReport(todo, snapshot.size, read_seconds, time.perf_counter() - started, not dry_run)
