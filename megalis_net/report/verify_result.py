"""The last verify result (``verify-last.json``), read and validated.

``megalis-net verify`` writes it; the dashboard only reads it. Unknown fields
are ignored so that a newer verify adding a field does not break an older
dashboard; a missing or mistyped field is an error naming the file and field.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from megalis_net.errors import InputError, Problem
from megalis_net.pydantic_errors import dotted, located_errors

# the result's vocabulary is verify's own
from megalis_net.verify import FINE as FINE
from megalis_net.verify import VERIFY_FILE as VERIFY_FILE
from megalis_net.verify import Kind as Kind
from megalis_net.verify import LinkState as LinkState


class Read(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")


Fraction = Annotated[float, Field(ge=0)]
"""Utilisation: a fraction of the link's speed (above 1 is a measurement oddity, kept)."""


class End(Read):
    device: str
    interface: str


class LinkStatus(Read):
    link: str
    kind: Kind
    state: LinkState
    utilisation: Fraction | None
    speed_mbps: int | None = None
    ends: tuple[End, ...] = ()


class InterfaceStatus(Read):
    device: str
    interface: str
    kind: Kind
    link: str
    site_id: str | None = None
    state: str
    utilisation: Fraction | None = None

    @property
    def fine(self) -> bool:
        return self.state == FINE


class Discrepancy(Read):
    device: str
    interface: str
    # A link kind, or "device" for a router that did not answer: kept as text so
    # that a new kind of check shows in the table instead of failing the read.
    kind: str
    link: str
    problem: str
    detail: str = ""


class Unreachable(Read):
    device: str
    error: str


class VerifyResult(Read):
    """What one verify run saw: link states, per-interface checks, problems."""

    polled_at: datetime
    interval_s: float | None = None
    devices: tuple[str, ...]
    checked: int = Field(ge=0)
    fine: int = Field(ge=0)
    ok: bool
    links: tuple[LinkStatus, ...]
    interfaces: tuple[InterfaceStatus, ...]
    discrepancies: tuple[Discrepancy, ...]
    unreachable: tuple[Unreachable, ...]


def read_verify_result(path: Path) -> VerifyResult:
    """Load ``path``; any problem is one ``InputError`` naming the file and field."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise InputError([Problem(str(path), None, "", f"cannot read: {reason}")]) from exc
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError([Problem(str(path), exc.lineno, "", f"not JSON: {exc.msg}")]) from exc
    try:
        return VerifyResult.model_validate(data)
    except ValidationError as exc:
        problems = [Problem(str(path), None, dotted(loc), msg) for loc, msg in located_errors(exc)]
        raise InputError(problems) from exc
