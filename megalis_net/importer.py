"""Import the old network's site export (Mégalis I) into ``Site`` objects.

The export is what the old tools write: French Excel CSV (semicolon,
Windows-1252, CRLF, decimal commas), one row per establishment. UTF-8 (with or
without BOM) and comma-separated copies, as a spreadsheet saves them, are
accepted too. Every row is checked and every problem reported at once, located
by physical line and French column name. The rows that fail are kept verbatim
so that ``write_rejected`` can hand them back, in the input's own format, to
whoever fixes them.

``import_export`` reads; the caller decides (``accepted_sites``): without
``--skip-bad`` any problem stops the import, with it the good sites go on and
the bad rows go to the rejects file.
"""

from __future__ import annotations

import csv
import io
import math
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from ipaddress import IPv4Address, IPv4Network
from pathlib import Path
from typing import Any, TypeVar

from pydantic import ValidationError

from megalis_net.errors import InputError, Problem
from megalis_net.fileio import atomic_write_bytes
from megalis_net.geo import find_commune, nearest_pop
from megalis_net.model import Community, Departement, Site, SiteKind, Topology
from megalis_net.pydantic_errors import located_errors

ID = "Identifiant"
NAME = "Nom établissement"
TYPE = "Type"
COMMUNE = "Commune"
DEPARTEMENT = "Département"
LATITUDE = "Latitude"
LONGITUDE = "Longitude"
COMMUNITY = "Communauté"
CURRENT_RATE = "Débit actuel (kb/s)"
WANTED_RATE = "Débit souhaité (kb/s)"
LAN = "Réseau LAN"
GATEWAY = "Passerelle"
L2_RENATER = "Service L2 Renater"
EXPORT_COLUMNS = (
    ID,
    NAME,
    TYPE,
    COMMUNE,
    DEPARTEMENT,
    LATITUDE,
    LONGITUDE,
    COMMUNITY,
    CURRENT_RATE,
    WANTED_RATE,
    LAN,
    GATEWAY,
    L2_RENATER,
)
"""The columns of the Mégalis I export, in its order (any order is accepted)."""

# Which export column a Site field comes from: pydantic errors are reported there.
# The PoP is derived from the coordinates.
_COLUMN_OF_FIELD = {
    "id": ID,
    "name": NAME,
    "kind": TYPE,
    "commune": COMMUNE,
    "departement": DEPARTEMENT,
    "latitude": LATITUDE,
    "longitude": LONGITUDE,
    "pop": LATITUDE,
    "community": COMMUNITY,
    "rate_mbps": WANTED_RATE,
    "l2_renater": L2_RENATER,
    "lan_prefix": LAN,
    "gateway": GATEWAY,
    "rate_kbps": CURRENT_RATE,
}

_UTF8_BOM = b"\xef\xbb\xbf"
T = TypeVar("T")


def _fold(text: str) -> str:
    """Case-, accent- and spacing-insensitive key: 'Collectivités ' -> 'collectivites'.

    Examples:
        >>> _fold("  Communauté  de Communes")
        'communaute de communes'
    """
    decomposed = unicodedata.normalize("NFKD", text.casefold().replace("’", "'"))
    return " ".join("".join(c for c in decomposed if not unicodedata.combining(c)).split())


_KINDS: dict[str, SiteKind] = {kind.value: kind for kind in SiteKind} | {
    "ecole primaire": SiteKind.ECOLE,
    "ecole elementaire": SiteKind.ECOLE,
    "ecole maternelle": SiteKind.ECOLE,
    "lycee professionnel": SiteKind.LYCEE,
    "laboratoire de recherche": SiteKind.LABORATOIRE,
    "centre hospitalier": SiteKind.HOPITAL,
    "centre hospitalier universitaire": SiteKind.HOPITAL,
    "chu": SiteKind.HOPITAL,
    "hopital": SiteKind.HOPITAL,
    "hotel de ville": SiteKind.MAIRIE,
    "communaute de communes": SiteKind.EPCI,
    "communaute d'agglomeration": SiteKind.EPCI,
    "bibliotheque": SiteKind.MEDIATHEQUE,
    "conseil departemental": SiteKind.DEPARTEMENT,
    "conseil general": SiteKind.DEPARTEMENT,
    "conseil regional": SiteKind.REGION,
}
_COMMUNITIES: dict[str, Community] = {c.value: c for c in Community} | {
    "sante": Community.HEALTH,
    "recherche": Community.RESEARCH,
    "collectivites": Community.LOCAL_GOVERNMENT,
    "collectivite": Community.LOCAL_GOVERNMENT,
    "collectivites territoriales": Community.LOCAL_GOVERNMENT,
}
_COMMUNITY_LABEL = {
    Community.EDUCATION: "Éducation",
    Community.HEALTH: "Santé",
    Community.RESEARCH: "Recherche",
    Community.LOCAL_GOVERNMENT: "Collectivités",
}
_DEPARTEMENTS: dict[str, Departement] = {d.value: d for d in Departement} | {
    "cotes-d'armor": Departement.COTES_DARMOR,
    "cotes d'armor": Departement.COTES_DARMOR,
    "finistere": Departement.FINISTERE,
    "ille-et-vilaine": Departement.ILLE_ET_VILAINE,
    "morbihan": Departement.MORBIHAN,
}
_YES = {"oui", "o", "yes", "y", "true", "1"}
_NO = {"non", "n", "no", "false", "0", ""}


@dataclass(frozen=True)
class ExportDialect:
    """How the input was written, so that rejected rows go back the same way."""

    encoding: str  # "cp1252", "utf-8", or "utf-8-sig" (UTF-8 with a BOM)
    delimiter: str  # ";" or ","
    lineterminator: str  # "\r\n", "\n" or "\r", as on the header line


@dataclass(frozen=True)
class RejectedRow:
    """A bad row as it stands in the file (without its line ending)."""

    line: int
    text: str


@dataclass(frozen=True)
class ImportResult:
    """Good sites, every problem, and the bad rows verbatim."""

    sites: tuple[Site, ...]
    problems: tuple[Problem, ...]
    rejected: tuple[RejectedRow, ...]
    dialect: ExportDialect
    header: str


class _BadCell(ValueError):
    """A cell that cannot be used; the message says why."""


def rate_for_kbps(offered_mbps: Sequence[int], kbps: int) -> int | None:
    """Smallest offered rate (Mb/s) that carries ``kbps``; None above the largest.

    Rates are SI: 1 Mb/s is 1000 kb/s, so a 30720 kb/s wish needs 50 Mb/s.

    Examples:
        >>> rate_for_kbps((2, 4, 8, 10, 20, 30, 50), 30720)
        50
        >>> rate_for_kbps((2, 4, 8), 8001) is None
        True
    """
    return next((rate for rate in offered_mbps if rate * 1000 >= kbps), None)


def _rate_label(mbps: int) -> str:
    return f"{mbps // 1000} Gb/s" if mbps % 1000 == 0 else f"{mbps} Mb/s"


# --- cells -------------------------------------------------------------------


def _required(text: str) -> str:
    if not text:
        raise _BadCell("is empty")
    return text


def _name(text: str) -> str:
    if not text:
        raise _BadCell("empty name")
    return text


def _lookup(table: dict[str, T], what: str, accepted: str) -> Callable[[str], T]:
    def parse(text: str) -> T:
        try:
            return table[_fold(text)]
        except KeyError:
            raise _BadCell(f"unknown {what} {text!r} (expected {accepted})") from None

    return parse


_kind = _lookup(_KINDS, "type", "École primaire, Collège, Lycée, Université, ...")
_community = _lookup(_COMMUNITIES, "community", "Éducation, Santé, Recherche or Collectivités")


def _departement(text: str) -> Departement:
    try:
        return _DEPARTEMENTS[_fold(text)]
    except KeyError:
        raise _BadCell(
            f"département outside Brittany (got {text!r}; expected 22, 29, 35 or 56)"
        ) from None


def _commune(departement: Departement) -> Callable[[str], str]:
    def parse(text: str) -> str:
        if find_commune(text, departement) is not None:
            return text
        elsewhere = [d.value for d in Departement if find_commune(text, d) is not None]
        hint = f"; it is in {', '.join(elsewhere)}" if elsewhere else ""
        raise _BadCell(f"unknown commune {text!r} in département {departement.value}{hint}")

    return parse


def _decimal(text: str) -> float:
    """A coordinate, with a decimal comma (French Excel) or point."""
    try:
        value = float(text.replace(",", "."))
    except ValueError:
        raise _BadCell(f"not a number (got {text!r})") from None
    if not math.isfinite(value):
        raise _BadCell(f"not a number (got {text!r})")
    return value


def _kbps(text: str) -> int:
    """A rate in kb/s; French spreadsheets may group digits with (narrow) spaces."""
    digits = "".join(text.split()).replace("\u202f", "")
    try:
        value = int(digits)
    except ValueError:
        raise _BadCell(f"not a whole number of kb/s (got {text!r})") from None
    if value <= 0:
        raise _BadCell(f"must be positive (got {text!r})")
    return value


def _offered_rate(offered: Sequence[int]) -> Callable[[str], int]:
    def parse(text: str) -> int:
        kbps = _kbps(text)
        rate = rate_for_kbps(offered, kbps)
        if rate is None:
            raise _BadCell(f"rate above {_rate_label(offered[-1])} (got {kbps} kb/s)")
        return rate

    return parse


def _flag(text: str) -> bool:
    folded = _fold(text)
    if folded not in _YES | _NO:
        raise _BadCell(f"expected oui or non (got {text!r})")
    return folded in _YES


def _prefix(text: str) -> IPv4Network:
    try:
        return IPv4Network(text)
    except ValueError as exc:
        raise _BadCell(f"malformed prefix {text!r}: {exc}") from None


def _address(text: str) -> IPv4Address:
    try:
        return IPv4Address(text)
    except ValueError:
        raise _BadCell(f"malformed address {text!r}") from None


# --- rows ----------------------------------------------------------------------


@dataclass
class _Row:
    """One data record of the export while it is being checked."""

    line: int
    values: dict[str, str]
    problems: list[tuple[str, str]] = field(default_factory=list)
    lan: IPv4Network | None = None

    def cell(self, column: str, parse: Callable[[str], T]) -> T | None:
        """The parsed cell, or None after noting why it cannot be used."""
        try:
            return parse(self.values[column].strip())
        except _BadCell as exc:
            self.problems.append((column, str(exc)))
            return None


def _site_fields(row: _Row, topology: Topology) -> dict[str, Any]:
    """Model fields from the cells; a cell that fails is left out (and noted)."""
    departement = row.cell(DEPARTEMENT, _departement)
    fields: dict[str, Any] = {
        "id": row.cell(ID, _required),
        "name": row.cell(NAME, _name),
        "kind": row.cell(TYPE, _kind),
        "departement": departement,
        "commune": row.cell(COMMUNE, _commune(departement)) if departement else None,
        "latitude": row.cell(LATITUDE, _decimal),
        "longitude": row.cell(LONGITUDE, _decimal),
        "community": row.cell(COMMUNITY, _community),
        "rate_mbps": row.cell(WANTED_RATE, _offered_rate(topology.traffic.offered_rates_mbps)),
        "l2_renater": row.cell(L2_RENATER, _flag),
        "legacy": _legacy(row),
    }
    if fields["latitude"] is not None and fields["longitude"] is not None:
        fields["pop"] = nearest_pop(topology, fields["latitude"], fields["longitude"])
    return {name: value for name, value in fields.items() if value is not None}


def _legacy(row: _Row) -> dict[str, Any] | None:
    """The old network's attachment; all three cells empty means the site had none."""
    if not any(row.values[c].strip() for c in (LAN, GATEWAY, CURRENT_RATE)):
        return None
    lan = row.lan = row.cell(LAN, _prefix)
    gateway = row.cell(GATEWAY, _address)
    rate_kbps = row.cell(CURRENT_RATE, _kbps)
    if lan is None or gateway is None or rate_kbps is None:
        return None
    if gateway not in lan:
        row.problems.append((GATEWAY, f"gateway {gateway} is outside the LAN {lan}"))
    elif lan.prefixlen <= 30 and gateway in (lan.network_address, lan.broadcast_address):
        row.problems.append((GATEWAY, f"gateway {gateway} is not a host address of the LAN {lan}"))
    return {"lan_prefix": lan, "gateway": gateway, "rate_kbps": rate_kbps}


def _check_services(row: _Row, fields: dict[str, Any], topology: Topology) -> None:
    """The community needs its VPN, and an L2 Renater site an L2 service for it."""
    community = fields.get("community")
    if community is None:
        return
    label = _COMMUNITY_LABEL[community]
    if community not in {vpn.community for vpn in topology.vpns}:
        row.problems.append((COMMUNITY, f"no VPN for community {label!r}"))
    if fields.get("l2_renater") and community not in {s.community for s in topology.l2_services}:
        row.problems.append((L2_RENATER, f"no L2 Renater service for community {label!r}"))


def _build_site(row: _Row, fields: dict[str, Any]) -> Site | None:
    """The Site, or None after noting the model's objections by column.

    Fields left out because their cell failed are already reported; their
    'is required' errors are not repeated.
    """
    try:
        return Site.model_validate(fields)
    except ValidationError as exc:
        for loc, message in located_errors(exc):
            if loc and loc[0] in fields:
                name = str(loc[1]) if loc[0] == "legacy" and len(loc) > 1 else str(loc[0])
                row.problems.append((_COLUMN_OF_FIELD.get(name, ""), message))
        return None


def _supernets(prefix: IPv4Network) -> list[tuple[int, int]]:
    """(network, length) of the prefix itself then of each shorter prefix holding it."""
    address = int(prefix.network_address)
    return [
        (address & ((0xFFFFFFFF << (32 - length)) & 0xFFFFFFFF), length)
        for length in range(prefix.prefixlen, -1, -1)
    ]


class _Ledger:
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

    def check_id(self, row: _Row) -> None:
        site_id = row.values[ID].strip()
        if site_id in self.ids:
            first = self.ids[site_id]
            row.problems.append((ID, f"duplicate site {site_id!r} (first on line {first})"))
        elif site_id:
            self.ids[site_id] = row.line

    def check_lan(self, row: _Row) -> None:
        if row.lan is None:
            return
        keys = _supernets(row.lan)
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

    def admit(self, row: _Row, site: Site) -> bool:
        """Count the site on its PoP, unless the PoP's access VLANs are all taken."""
        room = self.topology.vlan_room(site.pop)
        if self.per_pop[site.pop] >= room:
            message = f"PoP {site.pop!r} is full: its access VLANs hold {room} sites"
            row.problems.append((LATITUDE, message))
            return False
        self.per_pop[site.pop] += 1
        return True


def _check_row(row: _Row, topology: Topology, ledger: _Ledger) -> Site | None:
    """Every check of one row, in order; the Site if it passed them all."""
    fields = _site_fields(row, topology)
    _check_services(row, fields, topology)
    ledger.check_id(row)
    ledger.check_lan(row)
    site = _build_site(row, fields)
    if site is None or row.problems:
        return None
    return site if ledger.admit(row, site) else None


# --- file ------------------------------------------------------------------------


def _decode(path: Path) -> tuple[str, str]:
    """The file's text and encoding: UTF-8 (BOM or not) if it decodes, else Windows-1252."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputError([Problem(str(path), None, "", f"cannot read export: {exc}")]) from exc
    encodings = ("utf-8-sig",) if data.startswith(_UTF8_BOM) else ("utf-8", "cp1252")
    for encoding in encodings:
        try:
            return data.decode(encoding), encoding
        except UnicodeDecodeError:
            continue
    message = "cannot decode: neither UTF-8 nor Windows-1252 text"
    raise InputError([Problem(str(path), None, "", message)])


def _dialect(header_line: str, encoding: str) -> ExportDialect:
    """Delimiter and line ending as the header line shows them."""
    delimiter = ";" if header_line.count(";") >= header_line.count(",") else ","
    ending = header_line[len(header_line.rstrip("\r\n")) :]
    return ExportDialect(encoding, delimiter, ending or "\r\n")


def _records(path: Path, lines: list[str], delimiter: str) -> Iterator[tuple[int, str, list[str]]]:
    """(first physical line, verbatim text, cells) of each CSV record.

    A quoted cell may span lines, so a record's text is every physical line
    the reader consumed for it, minus the final line ending.
    """
    reader = csv.reader(lines, delimiter=delimiter)
    consumed = 0
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise InputError(
                [Problem(str(path), consumed + 1, "", f"unreadable CSV: {exc}")]
            ) from exc
        first, consumed = consumed + 1, reader.line_num
        yield first, "".join(lines[first - 1 : consumed]).rstrip("\r\n"), cells


def _column_index(path: Path, header: list[str]) -> dict[str, int]:
    """Position of each export column; a missing one fails the whole file."""
    names = [name.strip() for name in header]
    missing = [column for column in EXPORT_COLUMNS if column not in names]
    if missing:
        raise InputError([Problem(str(path), 1, column, "missing column") for column in missing])
    return {column: names.index(column) for column in EXPORT_COLUMNS}


def import_export(path: Path, topology: Topology) -> ImportResult:
    """Read and check every row of a Mégalis I export.

    Raises InputError if the file cannot be read or lacks a column; every
    other problem is collected, row by row, in the result, with the bad rows
    verbatim. Sites get their PoP (the nearest) and an offered rate here.
    """
    text, encoding = _decode(path)
    lines = list(io.StringIO(text, newline=""))
    if not lines:
        raise InputError([Problem(str(path), None, "", "empty file: expected a header line")])
    dialect = _dialect(lines[0], encoding)
    records = _records(path, lines, dialect.delimiter)
    _, header, header_cells = next(records)
    columns = _column_index(path, header_cells)
    ledger = _Ledger(topology)
    sites: list[Site] = []
    problems: list[Problem] = []
    rejected: list[RejectedRow] = []
    for line, raw, cells in records:
        if not any(cell.strip() for cell in cells):
            continue  # blank lines and Excel's ';;;;' padding rows carry nothing
        row = _Row(line, {column: cells[i] for column, i in columns.items() if i < len(cells)})
        if len(cells) != len(header_cells):
            row.problems.append(("", f"expected {len(header_cells)} values, found {len(cells)}"))
        site = _check_row(row, topology, ledger) if not row.problems else None
        if site is None:
            rejected.append(RejectedRow(line, raw))
            problems += [Problem(str(path), line, column, msg) for column, msg in row.problems]
        else:
            sites.append(site)
    return ImportResult(tuple(sites), tuple(problems), tuple(rejected), dialect, header)


def accepted_sites(result: ImportResult, skip_bad: bool = False) -> tuple[Site, ...]:
    """The sites to keep: all or nothing, unless bad rows may be skipped.

    Without ``skip_bad`` any problem raises InputError listing them all, so
    the caller writes nothing; with it, the good sites come back and the
    caller writes ``result.rejected`` with ``write_rejected``.
    """
    if result.problems and not skip_bad:
        raise InputError(list(result.problems))
    return result.sites


def rejects_path(path: Path) -> Path:
    """Where the bad rows of ``path`` go by default: ``export.csv`` -> ``export.rejected.csv``.

    Examples:
        >>> rejects_path(Path("data/megalis1-export.csv")).as_posix()
        'data/megalis1-export.rejected.csv'
    """
    return path.with_name(f"{path.stem}.rejected{path.suffix}")


def write_rejected(result: ImportResult, path: Path) -> None:
    """Write the header and the bad rows, verbatim, in the input's own format.

    Same encoding (BOM included), delimiter and line ending as the input, so
    the file opens in the same spreadsheet, gets fixed, and imports again.
    """
    dialect = result.dialect
    texts = [result.header, *(row.text for row in result.rejected)]
    data = "".join(text + dialect.lineterminator for text in texts)
    atomic_write_bytes(path, data.encode(dialect.encoding))
