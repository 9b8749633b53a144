"""One export row at a time: its cells checked, its site built, what it claims recorded."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from ipaddress import IPv4Network
from typing import Any

from pydantic import ValidationError

from megalis_net.geo import nearest_pop
from megalis_net.importer.vocabulary import (
    COLUMN_OF_FIELD,
    COMMUNE,
    COMMUNITY,
    COMMUNITY_LABEL,
    CURRENT_RATE,
    DEPARTEMENT,
    GATEWAY,
    ID,
    L2_RENATER,
    LAN,
    LATITUDE,
    LONGITUDE,
    NAME,
    TYPE,
    WANTED_RATE,
    BadCell,
    T,
    parse_address,
    parse_commune,
    parse_community,
    parse_decimal,
    parse_departement,
    parse_flag,
    parse_kbps,
    parse_kind,
    parse_name,
    parse_offered_rate,
    parse_prefix,
    parse_required,
)
from megalis_net.model import Site, SiteStatus, Topology
from megalis_net.pydantic_errors import located_errors

# --- rows ----------------------------------------------------------------------


@dataclass
class Row:
    """One data record of the export while it is being checked."""

    line: int
    values: dict[str, str]
    problems: list[tuple[str, str]] = field(default_factory=list)
    lan: IPv4Network | None = None

    def cell(self, column: str, parse: Callable[[str], T]) -> T | None:
        """The parsed cell, or None after noting why it cannot be used."""
        try:
            return parse(self.values[column].strip())
        except BadCell as exc:
            self.problems.append((column, str(exc)))
            return None


def site_fields(row: Row, topology: Topology) -> dict[str, Any]:
    """Model fields from the cells; a cell that fails is left out (and noted)."""
    departement = row.cell(DEPARTEMENT, parse_departement)
    fields: dict[str, Any] = {
        "id": row.cell(ID, parse_required),
        "name": row.cell(NAME, parse_name),
        "kind": row.cell(TYPE, parse_kind),
        "departement": departement,
        "commune": row.cell(COMMUNE, parse_commune(departement)) if departement else None,
        "latitude": row.cell(LATITUDE, parse_decimal),
        "longitude": row.cell(LONGITUDE, parse_decimal),
        "community": row.cell(COMMUNITY, parse_community),
        "rate_mbps": row.cell(WANTED_RATE, parse_offered_rate(topology.traffic.offered_rates_mbps)),
        "l2_renater": row.cell(L2_RENATER, parse_flag),
        "legacy": legacy(row),
    }
    if fields["latitude"] is not None and fields["longitude"] is not None:
        fields["pop"] = nearest_pop(topology, fields["latitude"], fields["longitude"])
    return {name: value for name, value in fields.items() if value is not None}


def legacy(row: Row) -> dict[str, Any] | None:
    """The old network's attachment; all three cells empty means the site had none."""
    if not any(row.values[c].strip() for c in (LAN, GATEWAY, CURRENT_RATE)):
        return None
    lan = row.lan = row.cell(LAN, parse_prefix)
    gateway = row.cell(GATEWAY, parse_address)
    rate_kbps = row.cell(CURRENT_RATE, parse_kbps)
    if lan is None or gateway is None or rate_kbps is None:
        return None
    if gateway not in lan:
        row.problems.append((GATEWAY, f"gateway {gateway} is outside the LAN {lan}"))
    elif lan.prefixlen <= 30 and gateway in (lan.network_address, lan.broadcast_address):
        row.problems.append((GATEWAY, f"gateway {gateway} is not a host address of the LAN {lan}"))
    return {"lan_prefix": lan, "gateway": gateway, "rate_kbps": rate_kbps}


def check_services(row: Row, fields: dict[str, Any], topology: Topology) -> None:
    """The community needs its VPN, and an L2 Renater site an L2 service for it."""
    community = fields.get("community")
    if community is None:
        return
    label = COMMUNITY_LABEL[community]
    if community not in {vpn.community for vpn in topology.vpns}:
        row.problems.append((COMMUNITY, f"no VPN for community {label!r}"))
    if fields.get("l2_renater") and community not in {s.community for s in topology.l2_services}:
        row.problems.append((L2_RENATER, f"no L2 Renater service for community {label!r}"))


def build_site(row: Row, fields: dict[str, Any]) -> Site | None:
    """The Site, or None after noting the model's objections by column.

    Fields left out because their cell failed are already reported; their
    'is required' errors are not repeated.
    """
    try:
        # every site of the old network's export is still on it: it waits for its wave
        return Site.model_validate({**fields, "status": SiteStatus.LEGACY})
    except ValidationError as exc:
        for loc, message in located_errors(exc):
            if loc and loc[0] in fields:
                name = str(loc[1]) if loc[0] == "legacy" and len(loc) > 1 else str(loc[0])
                row.problems.append((COLUMN_OF_FIELD.get(name, ""), message))
        return None


def supernets(prefix: IPv4Network) -> list[tuple[int, int]]:
    """(network, length) of the prefix itself then of each shorter prefix holding it."""
    address = int(prefix.network_address)
    return [
        (address & ((0xFFFFFFFF << (32 - length)) & 0xFFFFFFFF), length)
        for length in range(prefix.prefixlen, -1, -1)
    ]


class Ledger:
    """What earlier rows claimed: site ids, LAN prefixes, VLANs of each PoP.

    Overlaps are found in O(33) per row: a prefix overlaps an earlier one
    exactly when one of them is a supernet of (or equal to) the other.
    """

    def __init__(self, topology: Topology) -> None:
        self.ids: dict[str, int] = {}
        self.lans: dict[tuple[int, int], tuple[IPv4Network, str, int]] = {}
        self.covered: dict[tuple[int, int], tuple[IPv4Network, str, int]] = {}
        self.per_pop: Counter[str] = Counter()
        self.topology = topology

    def check_id(self, row: Row) -> None:
        site_id = row.values[ID].strip()
        if site_id in self.ids:
            first = self.ids[site_id]
            row.problems.append((ID, f"duplicate site {site_id!r} (first on line {first})"))
        elif site_id:
            self.ids[site_id] = row.line

    def check_lan(self, row: Row) -> None:
        if row.lan is None:
            return
        keys = supernets(row.lan)
        clash = self.covered.get(keys[0]) or next(
            (self.lans[k] for k in keys[1:] if k in self.lans), None
        )
        if clash is not None:
            other, site_id, line = clash
            message = f"LAN {row.lan} overlaps LAN {other} of site {site_id!r} on line {line}"
            row.problems.append((LAN, message))
        entry = (row.lan, row.values[ID].strip(), row.line)
        self.lans.setdefault(keys[0], entry)
        for key in keys:
            self.covered.setdefault(key, entry)

    def admit(self, row: Row, site: Site) -> bool:
        """Count the site on its PoP, unless the PoP's access VLANs are all taken."""
        room = self.topology.vlan_room(site.pop)
        if self.per_pop[site.pop] >= room:
            message = f"PoP {site.pop!r} is full: its access VLANs hold {room} sites"
            row.problems.append((LATITUDE, message))
            return False
        self.per_pop[site.pop] += 1
        return True


def check_row(row: Row, topology: Topology, ledger: Ledger) -> Site | None:
    """Every check of one row, in order; the Site if it passed them all."""
    fields = site_fields(row, topology)
    check_services(row, fields, topology)
    ledger.check_id(row)
    ledger.check_lan(row)
    site = build_site(row, fields)
    if site is None or row.problems:
        return None
    return site if ledger.admit(row, site) else None
