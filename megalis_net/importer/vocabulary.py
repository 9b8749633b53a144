"""The vocabulary of the Mégalis I export: its columns, and what each cell may hold.

Each cell parser returns a typed value or raises ``BadCell`` with the reason,
which the row checker files under the cell's French column name.
"""

from __future__ import annotations

import math
import unicodedata
from collections.abc import Callable, Sequence
from ipaddress import IPv4Address, IPv4Network
from typing import TypeVar

from megalis_net.geo import find_commune
from megalis_net.model import Community, Departement, SiteKind

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
COLUMN_OF_FIELD = {
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

UTF8_BOM = b"\xef\xbb\xbf"
T = TypeVar("T")


def fold(text: str) -> str:
    """Case-, accent- and spacing-insensitive key: 'Collectivités ' -> 'collectivites'.

    Examples:
        >>> fold("  Communauté  de Communes")
        'communaute de communes'
    """
    decomposed = unicodedata.normalize("NFKD", text.casefold().replace("’", "'"))
    return " ".join("".join(c for c in decomposed if not unicodedata.combining(c)).split())


KINDS: dict[str, SiteKind] = {kind.value: kind for kind in SiteKind} | {
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
COMMUNITIES: dict[str, Community] = {c.value: c for c in Community} | {
    "sante": Community.HEALTH,
    "recherche": Community.RESEARCH,
    "collectivites": Community.LOCAL_GOVERNMENT,
    "collectivite": Community.LOCAL_GOVERNMENT,
    "collectivites territoriales": Community.LOCAL_GOVERNMENT,
}
COMMUNITY_LABEL = {
    Community.EDUCATION: "Éducation",
    Community.HEALTH: "Santé",
    Community.RESEARCH: "Recherche",
    Community.LOCAL_GOVERNMENT: "Collectivités",
}
DEPARTEMENTS: dict[str, Departement] = {d.value: d for d in Departement} | {
    "cotes-d'armor": Departement.COTES_DARMOR,
    "cotes d'armor": Departement.COTES_DARMOR,
    "finistere": Departement.FINISTERE,
    "ille-et-vilaine": Departement.ILLE_ET_VILAINE,
    "morbihan": Departement.MORBIHAN,
}
YES = {"oui", "o", "yes", "y", "true", "1"}
NO = {"non", "n", "no", "false", "0", ""}


class BadCell(ValueError):
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


def rate_label(mbps: int) -> str:
    return f"{mbps // 1000} Gb/s" if mbps % 1000 == 0 else f"{mbps} Mb/s"


# --- cells -------------------------------------------------------------------


def parse_required(text: str) -> str:
    if not text:
        raise BadCell("is empty")
    return text


def parse_name(text: str) -> str:
    if not text:
        raise BadCell("empty name")
    return text


def lookup(table: dict[str, T], what: str, accepted: str) -> Callable[[str], T]:
    def parse(text: str) -> T:
        try:
            return table[fold(text)]
        except KeyError:
            raise BadCell(f"unknown {what} {text!r} (expected {accepted})") from None

    return parse


parse_kind = lookup(KINDS, "type", "École primaire, Collège, Lycée, Université, ...")
parse_community = lookup(COMMUNITIES, "community", "Éducation, Santé, Recherche or Collectivités")


def parse_departement(text: str) -> Departement:
    try:
        return DEPARTEMENTS[fold(text)]
    except KeyError:
        raise BadCell(
            f"département outside Brittany (got {text!r}; expected 22, 29, 35 or 56)"
        ) from None


def parse_commune(departement: Departement) -> Callable[[str], str]:
    def parse(text: str) -> str:
        if find_commune(text, departement) is not None:
            return text
        elsewhere = [d.value for d in Departement if find_commune(text, d) is not None]
        hint = f"; it is in {', '.join(elsewhere)}" if elsewhere else ""
        raise BadCell(f"unknown commune {text!r} in département {departement.value}{hint}")

    return parse


def parse_decimal(text: str) -> float:
    """A coordinate, with a decimal comma (French Excel) or point."""
    try:
        value = float(text.replace(",", "."))
    except ValueError:
        raise BadCell(f"not a number (got {text!r})") from None
    if not math.isfinite(value):
        raise BadCell(f"not a number (got {text!r})")
    return value


def parse_kbps(text: str) -> int:
    """A rate in kb/s; French spreadsheets may group digits with (narrow) spaces."""
    digits = "".join(text.split()).replace("\u202f", "")
    try:
        value = int(digits)
    except ValueError:
        raise BadCell(f"not a whole number of kb/s (got {text!r})") from None
    if value <= 0:
        raise BadCell(f"must be positive (got {text!r})")
    return value


def parse_offered_rate(offered: Sequence[int]) -> Callable[[str], int]:
    def parse(text: str) -> int:
        kbps = parse_kbps(text)
        rate = rate_for_kbps(offered, kbps)
        if rate is None:
            raise BadCell(f"rate above {rate_label(offered[-1])} (got {kbps} kb/s)")
        return rate

    return parse


def parse_flag(text: str) -> bool:
    folded = fold(text)
    if folded not in YES | NO:
        raise BadCell(f"expected oui or non (got {text!r})")
    return folded in YES


def parse_prefix(text: str) -> IPv4Network:
    try:
        return IPv4Network(text)
    except ValueError as exc:
        raise BadCell(f"malformed prefix {text!r}: {exc}") from None


def parse_address(text: str) -> IPv4Address:
    try:
        return IPv4Address(text)
    except ValueError:
        raise BadCell(f"malformed address {text!r}") from None
