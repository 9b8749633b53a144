"""The site file: one CSV row per establishment (UTF-8, comma separated).

CSV rather than YAML because 3000 (or 30,000) flat records read and diff
better as rows, and an engineer can open the file in a spreadsheet.

Columns, in order (``SITE_COLUMNS``)::

    id, name, kind, commune, departement, latitude, longitude, pop, community,
    rate_mbps, l2_renater, legacy_lan, legacy_gateway, legacy_rate_kbps, status

The three ``legacy_*`` columns hold what the site has on the old network; they
are empty for a site that never was on it. ``status`` says where the site is
attached: ``legacy`` (still on Mégalis I, waiting for its migration wave) or
``active`` (on Mégalis II); a file without the column holds active sites.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from megalis_net.csvfile import open_csv
from megalis_net.errors import Problem
from megalis_net.fileio import atomic_write_text
from megalis_net.model import Site, SiteStatus
from megalis_net.pydantic_errors import located_errors

SITE_COLUMNS = (
    "id",
    "name",
    "kind",
    "commune",
    "departement",
    "latitude",
    "longitude",
    "pop",
    "community",
    "rate_mbps",
    "l2_renater",
    "legacy_lan",
    "legacy_gateway",
    "legacy_rate_kbps",
    "status",
)
_OPTIONAL_COLUMNS = {"status": SiteStatus.ACTIVE.value}
_LEGACY_COLUMNS = {
    "lan_prefix": "legacy_lan",
    "gateway": "legacy_gateway",
    "rate_kbps": "legacy_rate_kbps",
}
_TRUE = {"yes", "true", "1", "y"}
_FALSE = {"no", "false", "0", "n", ""}


def site_to_row(site: Site) -> dict[str, str]:
    legacy = site.legacy
    return {
        "id": site.id,
        "name": site.name,
        "kind": site.kind.value,
        "commune": site.commune,
        "departement": site.departement.value,
        "latitude": f"{site.latitude:.5f}",
        "longitude": f"{site.longitude:.5f}",
        "pop": site.pop,
        "community": site.community.value,
        "rate_mbps": str(site.rate_mbps),
        "l2_renater": "yes" if site.l2_renater else "no",
        "legacy_lan": str(legacy.lan_prefix) if legacy else "",
        "legacy_gateway": str(legacy.gateway) if legacy else "",
        "legacy_rate_kbps": str(legacy.rate_kbps) if legacy else "",
        "status": site.status.value,
    }


def format_sites(sites: Iterable[Site]) -> str:
    """The file text for ``sites``, sorted by id so the output is deterministic."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=SITE_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for site in sorted(sites, key=lambda s: s.id):
        writer.writerow(site_to_row(site))
    return buffer.getvalue()


def write_sites(path: Path, sites: Iterable[Site]) -> None:
    """Write the site file atomically."""
    atomic_write_text(path, format_sites(sites))


def _row_to_fields(row: dict[str, str]) -> tuple[dict[str, Any], list[tuple[str, str]]]:
    """Raw CSV strings -> model fields; problems as (column, message)."""
    fields: dict[str, Any] = {k: row[k] for k in SITE_COLUMNS[:10]}
    problems: list[tuple[str, str]] = []
    flag = row["l2_renater"].strip().lower()
    if flag in _TRUE | _FALSE:
        fields["l2_renater"] = flag in _TRUE
    else:
        problems.append(("l2_renater", f"expected yes or no (got {row['l2_renater']!r})"))
    legacy = {field: row[column] for field, column in _LEGACY_COLUMNS.items()}
    if any(v.strip() for v in legacy.values()):
        fields["legacy"] = legacy
    fields["status"] = row.get("status") or _OPTIONAL_COLUMNS["status"]
    return fields, problems


def _column_of(loc: tuple[str | int, ...]) -> str:
    if loc and loc[0] == "legacy":
        return _LEGACY_COLUMNS.get(str(loc[1]), "legacy_lan") if len(loc) > 1 else "legacy_lan"
    return str(loc[0]) if loc else ""


def parse_site_row(row: dict[str, str]) -> tuple[Site | None, list[tuple[str, str]]]:
    """One CSV row -> a Site, or the list of (column, message) that stop it."""
    fields, problems = _row_to_fields(row)
    try:
        site = Site.model_validate(fields)
    except ValidationError as exc:
        problems += [(_column_of(loc), msg) for loc, msg in located_errors(exc)]
        return None, problems
    return (None if problems else site), problems


def read_sites(path: Path) -> tuple[list[Site], dict[str, int], list[Problem]]:
    """Parse the site file: the good sites, the line of each site id, every problem."""
    name = str(path)
    required = [c for c in SITE_COLUMNS if c not in _OPTIONAL_COLUMNS]
    reader = open_csv(path, required, "site file")
    sites: list[Site] = []
    problems: list[Problem] = []
    seen: dict[str, int] = {}
    for row in reader:
        line = reader.line_num
        if None in row:
            problems.append(Problem(name, line, "", "more values than columns"))
            continue
        site, row_problems = parse_site_row({k: v or "" for k, v in row.items()})
        problems += [Problem(name, line, col, msg) for col, msg in row_problems]
        if site is None:
            continue
        if site.id in seen:
            problems.append(
                Problem(
                    name, line, "id", f"duplicate site {site.id!r} (first on line {seen[site.id]})"
                )
            )
            continue
        seen[site.id] = line
        sites.append(site)
    return sites, seen, problems
