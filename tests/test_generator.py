"""Synthetic establishments: deterministic, valid, real communes."""

from __future__ import annotations

import re
from collections import Counter
from ipaddress import IPv4Network
from pathlib import Path

import pytest

from megalis_net.errors import UsageError
from megalis_net.generator import generate_sites, of_commune
from megalis_net.geo import find_commune
from megalis_net.loader import load_topology
from megalis_net.model import Community, Site, SiteKind, Topology, VlanRange
from megalis_net.sites import format_sites
from megalis_net.validate import check_sites


@pytest.fixture(scope="module")
def topology() -> Topology:
    return load_topology(Path(__file__).parents[1] / "topology").topology


@pytest.fixture(scope="module")
def sites(topology: Topology) -> list[Site]:
    return generate_sites(topology, 3000, seed=7)


def _with_pools(topology: Topology, **changes: object) -> Topology:
    pools = topology.pools.model_copy(update=changes)
    return topology.model_copy(update={"pools": pools})


def test_same_seed_gives_a_byte_identical_file(topology: Topology, sites: list[Site]) -> None:
    again = generate_sites(topology, 3000, seed=7)
    assert format_sites(again).encode() == format_sites(sites).encode()


def test_different_seed_gives_a_different_file(topology: Topology, sites: list[Site]) -> None:
    assert format_sites(generate_sites(topology, 3000, seed=8)) != format_sites(sites)


@pytest.mark.parametrize("count", [0, 1, 250])
def test_count_is_respected(topology: Topology, count: int) -> None:
    assert len(generate_sites(topology, count, seed=1)) == count


def test_every_site_passes_check_sites(topology: Topology, sites: list[Site]) -> None:
    assert check_sites(topology, sites) == []


def test_ids_and_names_are_unique(sites: list[Site]) -> None:
    ids = [s.id for s in sites]
    assert ids == [f"GEN-{n:06d}" for n in range(1, 3001)]
    assert len({s.name for s in sites}) == len(sites)


def test_sites_are_in_real_communes(sites: list[Site]) -> None:
    for site in sites:
        commune = find_commune(site.commune, site.departement)
        assert commune is not None
        assert (site.latitude, site.longitude) == (commune.latitude, commune.longitude)


def test_mix_of_kinds_looks_like_the_export(sites: list[Site]) -> None:
    kinds = Counter(s.kind for s in sites)
    assert kinds.most_common(2)[0][0] is SiteKind.ECOLE
    assert kinds.most_common(2)[1][0] is SiteKind.MAIRIE
    big_town_kinds = {SiteKind.UNIVERSITE, SiteKind.LABORATOIRE, SiteKind.HOPITAL}
    for site in sites:
        if site.kind in big_town_kinds:
            commune = find_commune(site.commune, site.departement)
            assert commune is not None and commune.population >= 8000


def test_l2_renater_only_for_some_research_sites(sites: list[Site]) -> None:
    l2 = [s for s in sites if s.l2_renater]
    research = [s for s in sites if s.community is Community.RESEARCH]
    assert l2
    assert len(l2) < len(research)
    assert all(s.community is Community.RESEARCH for s in l2)


def test_research_and_hospitals_get_higher_rates(sites: list[Site]) -> None:
    def mean_rate(kinds: set[SiteKind]) -> float:
        rates = [s.rate_mbps for s in sites if s.kind in kinds]
        return sum(rates) / len(rates)

    assert mean_rate({SiteKind.UNIVERSITE, SiteKind.LABORATOIRE}) > mean_rate({SiteKind.HOPITAL})
    assert mean_rate({SiteKind.HOPITAL}) > mean_rate({SiteKind.ECOLE, SiteKind.MAIRIE})


def test_legacy_lans_are_consecutive_28s_with_first_host_gateway(sites: list[Site]) -> None:
    first, second = sites[0].legacy, sites[1].legacy
    assert first is not None and second is not None
    assert first.lan_prefix == IPv4Network("10.32.0.0/28")
    assert second.lan_prefix == IPv4Network("10.32.0.16/28")
    assert str(first.gateway) == "10.32.0.1"


def test_sites_beyond_the_legacy_pool_have_no_legacy(topology: Topology) -> None:
    small = _with_pools(topology, legacy_lans=IPv4Network("10.32.0.0/26"))  # four /28s
    generated = generate_sites(small, 10, seed=3)
    assert [s.legacy is not None for s in generated] == [True] * 4 + [False] * 6
    assert check_sites(small, generated) == []


def test_a_full_pop_takes_no_more_sites(topology: Topology) -> None:
    tight = _with_pools(topology, access_vlans=VlanRange(first=100, last=199))  # 100 per port
    room = {p.name: tight.vlan_room(p.name) for p in tight.pops}
    assert room["rennes"] == 200 and room["lorient"] == 100  # Rennes has two access ports
    generated = generate_sites(tight, 1000, seed=5)
    per_pop = Counter(s.pop for s in generated)
    assert all(per_pop[pop] <= room[pop] for pop in room)
    assert check_sites(tight, generated) == []
    with pytest.raises(UsageError, match="between 0 and 1100"):
        generate_sites(tight, 1101, seed=5)


def test_names_read_like_the_export(sites: list[Site]) -> None:
    pattern = re.compile(
        r"^(École primaire|Collège|Lycée) .+ - .+|^(Mairie|EHPAD|Médiathèque|Université|"
        r"Centre hospitalier|Laboratoire de recherche|Communauté de communes du pays|"
        r"Conseil départemental - site|Conseil régional de Bretagne - site) (de |d'|du |des ).+"
    )
    assert [s.name for s in sites if not pattern.match(s.name)] == []


@pytest.mark.parametrize(
    ("commune", "expected"),
    [
        ("Plourivo", "de Plourivo"),
        ("Évran", "d'Évran"),
        ("Auray", "d'Auray"),
        ("Le Faouët", "du Faouët"),
        ("Les Fougerêts", "des Fougerêts"),
        ("La Gacilly", "de La Gacilly"),
    ],
)
def test_of_commune(commune: str, expected: str) -> None:
    assert of_commune(commune) == expected
