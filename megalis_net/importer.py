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
EXPORT_COLUMNS = (ID, NAME, TYPE, COMMUNE, DEPARTEMENT, LATITUDE, LONGITUDE, COMMUNITY)
EXPORT_COLUMNS += (CURRENT_RATE, WANTED_RATE, LAN, GATEWAY, L2_RENATER)

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
        raise _BadCell(f"département outside Brittany (got {text!r}; expected 22, 29, 35 or 56)") from None


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
