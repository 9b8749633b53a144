"""Breton communes from GeoNames, and the nearest PoP of a place."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
import reverse_geocode

from megalis_net.geo import breton_communes, find_commune, haversine_km, nearest_pop
from megalis_net.loader import load_topology
from megalis_net.model import Departement, Topology


@pytest.fixture(scope="module")
def topology() -> Topology:
    return load_topology(Path(__file__).parents[1] / "topology").topology


def test_geonames_has_663_breton_records_and_one_duplicate() -> None:
    records = [r for r in reverse_geocode.GeocodeData()._locations if r.get("state") == "Brittany"]
    assert len(records) == 663
    assert len(breton_communes()) == 662  # Lanmeur (Finistère) is listed twice


def test_communes_per_departement() -> None:
    counts = Counter(c.departement for c in breton_communes())
    assert counts == {
        Departement.ILLE_ET_VILAINE: 183,
        Departement.FINISTERE: 170,
        Departement.MORBIHAN: 156,
        Departement.COTES_DARMOR: 153,
    }


def test_duplicate_lanmeur_keeps_the_real_commune() -> None:
    lanmeur = find_commune("Lanmeur", Departement.FINISTERE)
    assert lanmeur is not None
    assert (lanmeur.latitude, lanmeur.longitude, lanmeur.population) == (48.64711, -3.71638, 2195)


def test_lookup_needs_the_right_departement() -> None:
    assert find_commune("Lannion", Departement.COTES_DARMOR) is not None
    assert find_commune("Lannion", Departement.FINISTERE) is None
    assert find_commune("lannion", Departement.COTES_DARMOR) is None  # exact names only


@pytest.mark.parametrize(
    ("commune", "departement", "pop"),
    [
        ("Dinan", "22", "saint-malo"),  # 21 km, Rennes 47 km
        ("Morlaix", "29", "lannion"),  # 32 km, Brest 53 km
        ("Fougères", "35", "rennes"),
        ("Concarneau", "29", "quimper"),
        ("Quimperlé", "29", "lorient"),  # 20 km, Quimper 43 km
        ("Vitré", "35", "rennes"),
        ("Guingamp", "22", "saint-brieuc"),  # 29.2 km, Lannion 29.9 km
        ("Brest", "29", "brest"),
    ],
)
def test_nearest_pop_of_real_towns(
    topology: Topology, commune: str, departement: str, pop: str
) -> None:
    place = find_commune(commune, Departement(departement))
    assert place is not None
    assert nearest_pop(topology, place.latitude, place.longitude) == pop


def test_nearest_pop_tie_goes_to_the_first_name(topology: Topology) -> None:
    rennes = topology.pop("rennes")
    twin = rennes.model_copy(update={"name": "a-twin"})
    for pops in ((*topology.pops, twin), (twin, *topology.pops)):
        tied = topology.model_copy(update={"pops": pops})
        assert nearest_pop(tied, rennes.latitude, rennes.longitude) == "a-twin"


def test_haversine_rennes_brest() -> None:
    assert haversine_km(48.11198, -1.67429, 48.39029, -4.48628) == pytest.approx(210, abs=1)
    assert haversine_km(48.0, -3.0, 48.0, -3.0) == 0
