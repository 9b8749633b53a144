"""Allocations on disk, beside the sites in ``inventory/``.

- ``allocations.yaml``: loopback per router, /31 per backbone and upstream link;
- ``site-allocations.csv``: one row per site (3000 rows read and diff best as CSV).

Both files are written by megalis-net, sorted, so the same state always gives
the same bytes; hand edits are read back with every problem located.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from ipaddress import IPv4Address, IPv4Network
from pathlib import Path
from typing import Any, TypeVar

from megalis_net.csvfile import open_csv
from megalis_net.errors import InputError, Problem
from megalis_net.fileio import atomic_write_text
from megalis_net.ipam.model import Allocations, SiteAllocation
from megalis_net.yamlsource import YamlSource, load_yaml

ALLOCATIONS_FILE = "allocations.yaml"
SITE_ALLOCATIONS_FILE = "site-allocations.csv"
SITE_COLUMNS = ("site", "pop", "port", "vlan", "link_net", "lan", "l2_vlan", "handoff_vlan")
_HEADER = """\
# Written by `megalis-net allocate` and `megalis-net site add/remove`.
# An allocation never moves once made; site resources are in site-allocations.csv.
"""

T = TypeVar("T")


def load_allocations(directory: Path) -> Allocations:
    """Read both files; missing files mean nothing allocated yet."""
    problems: list[Problem] = []
    loopbacks: dict[str, IPv4Address] = {}
    links: dict[str, IPv4Network] = {}
    if (directory / ALLOCATIONS_FILE).exists():
        source = load_yaml(directory / ALLOCATIONS_FILE)
        loopbacks = _read_section(source, "loopbacks", IPv4Address, problems)
        links = _read_section(source, "links", _slash31, problems)
    sites: dict[str, SiteAllocation] = {}
    if (directory / SITE_ALLOCATIONS_FILE).exists():
        sites = _read_site_rows(directory / SITE_ALLOCATIONS_FILE, problems)
    if problems:
        raise InputError(problems)
    return Allocations(loopbacks, links, sites)


def _slash31(text: str) -> IPv4Network:
    net = IPv4Network(text)
    if net.prefixlen != 31:
        raise ValueError(f"{text} is not a /31")
    return net


def _read_section(
    source: YamlSource, key: str, parse: Callable[[str], T], problems: list[Problem]
) -> dict[str, T]:
    data = source.data or {}
    section = data.get(key) if isinstance(data, dict) else None
    if section is None:
        return {}
    if not isinstance(section, dict):
        problems.append(source.problem((key,), key, "expected a mapping of name to value"))
        return {}
    values: dict[str, T] = {}
    seen: dict[T, str] = {}
    for name, text in section.items():
        try:
            value = parse(str(text))
        except ValueError as exc:
            problems.append(source.problem((key, name), f"{key}.{name}", str(exc)))
            continue
        if value in seen:
            message = f"{value} is also allocated to {seen[value]!r}"
            problems.append(source.problem((key, name), f"{key}.{name}", message))
        seen[value] = str(name)
        values[str(name)] = value
    return values


def _optional_int(text: str) -> int | None:
    return int(text) if text.strip() else None


def parse_site_allocation(row: dict[str, str]) -> SiteAllocation:
    """One site-allocations.csv row (strings) -> the allocation."""
    return SiteAllocation(
        site=row["site"],
        pop=row["pop"],
        port=int(row["port"]),
        vlan=int(row["vlan"]),
        link_net=_slash31(row["link_net"]),
        lan=IPv4Network(row["lan"]),
        l2_vlan=_optional_int(row["l2_vlan"]),
        handoff_vlan=_optional_int(row["handoff_vlan"]),
    )


def _claims(alloc: SiteAllocation) -> list[tuple[str, Any]]:
    """What a site holds that no other site may hold: (column, key)."""
    claims: list[tuple[str, Any]] = [
        ("vlan", (alloc.pop, alloc.port, alloc.vlan)),
        ("link_net", alloc.link_net),
    ]
    if alloc.l2_vlan is not None:
        claims.append(("l2_vlan", (alloc.pop, alloc.port, alloc.l2_vlan)))
    if alloc.handoff_vlan is not None:
        claims.append(("handoff_vlan", ("handoff", alloc.handoff_vlan)))
    return claims


def _slots(alloc: SiteAllocation) -> list[tuple[str, Any]]:
    """(column, slot) for each thing the site holds: one holder per slot."""
    # A site's L3 and L2 VLANs share one namespace per port.
    return [
        (column, key if column not in ("vlan", "l2_vlan") else ("vlan", key))
        for column, key in _claims(alloc)
    ]


def allocation_slots(alloc: SiteAllocation) -> set[Any]:
    """What ``alloc`` holds that no other site's allocation may hold."""
    return {slot for _, slot in _slots(alloc)}


def _read_site_rows(path: Path, problems: list[Problem]) -> dict[str, SiteAllocation]:
    name = str(path)
    reader = open_csv(path, SITE_COLUMNS, "site allocations")
    sites: dict[str, SiteAllocation] = {}
    holders: dict[Any, str] = {}
    for row in reader:
        line = reader.line_num
        try:
            alloc = parse_site_allocation(row)
        except (ValueError, TypeError) as exc:
            problems.append(Problem(name, line, "", f"bad allocation row: {exc}"))
            continue
        if alloc.site in sites:
            problems.append(Problem(name, line, "site", f"site {alloc.site!r} appears twice"))
            continue
        for column, slot in _slots(alloc):
            if slot in holders:
                problems.append(
                    Problem(name, line, column, f"already allocated to site {holders[slot]!r}")
                )
            holders[slot] = alloc.site
        sites[alloc.site] = alloc
    return sites


def format_allocations_yaml(allocations: Allocations) -> str:
    lines = [_HEADER.rstrip("\n"), "loopbacks:"]
    lines += [f"  {name}: {addr}" for name, addr in sorted(allocations.loopbacks.items())]
    lines.append("links:")
    lines += [f"  {name}: {net}" for name, net in sorted(allocations.links.items())]
    return "\n".join(lines) + "\n"


def site_allocation_row(a: SiteAllocation) -> dict[str, str]:
    """The allocation as its site-allocations.csv row (``parse_site_allocation`` reads it)."""
    values = [a.site, a.pop, a.port, a.vlan, a.link_net, a.lan,
              "" if a.l2_vlan is None else a.l2_vlan,
              "" if a.handoff_vlan is None else a.handoff_vlan]  # fmt: skip
    return dict(zip(SITE_COLUMNS, map(str, values), strict=True))


def format_site_allocations(allocations: Allocations) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=SITE_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for site_id in sorted(allocations.sites):
        writer.writerow(site_allocation_row(allocations.sites[site_id]))
    return buffer.getvalue()


def save_allocations(directory: Path, allocations: Allocations) -> list[Path]:
    """Write whichever of the two files changed, each atomically; returns those written."""
    written = []
    for filename, text in (
        (ALLOCATIONS_FILE, format_allocations_yaml(allocations)),
        (SITE_ALLOCATIONS_FILE, format_site_allocations(allocations)),
    ):
        path = directory / filename
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            atomic_write_text(path, text)
            written.append(path)
    return written
