"""Synthetic Breton establishments, for tests and scale runs.

``generate_sites(topology, count, seed)`` places ``count`` plausible sites in
real communes (GeoNames, through ``geo``), weighted by population, with the
mix of kinds, names and rates seen in the Mégalis I export. The same seed
always gives the same list (``random.Random(seed)``, never the global
generator), so ``sites.format_sites`` writes byte-identical files.

Every generated list passes ``validate.check_sites``:

- rates are offered rates of the topology, L2 Renater only where an L2
  service exists for the community, kinds only for communities with a VPN;
- legacy LANs are consecutive /28s of ``pools.legacy_lans``, gateway = first
  host. The pool holds a fixed number of them (4096 in a /16); sites beyond
  that are new establishments that never were on Mégalis I: ``legacy=None``;
- no PoP gets more sites than its access VLAN pool holds: once a PoP is full,
  its communes are no longer drawn, so the extra sites go to the other PoPs
  (geography bends, the inventory stays valid). Asking for more sites than
  all PoPs together can hold raises UsageError.
"""

from __future__ import annotations

import itertools
import random
import unicodedata
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, replace
from ipaddress import IPv4Network

from megalis_net.errors import UsageError
from megalis_net.geo import Commune, breton_communes, nearest_pop
from megalis_net.importer import rate_for_kbps
from megalis_net.model import Community, LegacyAttachment, Site, SiteKind, Topology

LEGACY_PREFIXLEN = 28
WANTED_OVER_CURRENT = 3
"""Mégalis I sites asked for three times their current rate (as in the export)."""

PATRONS = (
    "Anne de Bretagne",
    "Brizeux",
    "Chateaubriand",
    "Du Guesclin",
    "Jacques Prévert",
    "Jean Macé",
    "Jean Moulin",
    "Jules Ferry",
    "Marie Curie",
    "Paul Éluard",
    "Per Jakez Hélias",
    "Pierre Loti",
    "Renan",
    "Saint-Exupéry",
    "Tristan Corbière",
    "Victor Hugo",
)
"""Names schools are given after, as in the export."""


@dataclass(frozen=True)
class KindProfile:
    """How one kind of establishment is drawn.

    ``town_bias`` is the exponent on population in the commune weights: 1 is
    plain population weighting, below 1 spreads sites over small communes
    (every commune has a mairie), above 1 packs them into towns.
    ``rates_kbps`` are current rates on the old network with their weights.
    """

    kind: SiteKind
    share: float
    community: Community
    name: str  # template: {patron}, {commune} and {of_commune} ("de X", "d'Y") are filled in
    rates_kbps: tuple[tuple[int, int], ...]
    town_bias: float = 1.0
    min_population: int = 0
    l2_share: float = 0.0


_E, _H, _R, _L = (
    Community.EDUCATION,
    Community.HEALTH,
    Community.RESEARCH,
    Community.LOCAL_GOVERNMENT,
)
# Shares (per thousand), town biases and rates follow the Mégalis I export;
# the two councils are the few sites of the Région and the Départements.
PROFILES = (
    KindProfile(
        SiteKind.ECOLE, 350, _E, "École primaire {patron} - {commune}",
        rates_kbps=((512, 36), (1024, 35), (2048, 33)), town_bias=0.5,
    ),
    KindProfile(
        SiteKind.MAIRIE, 290, _L, "Mairie {of_commune}",
        rates_kbps=((512, 32), (1024, 26), (2048, 29)), town_bias=0.3,
    ),
    KindProfile(
        SiteKind.COLLEGE, 110, _E, "Collège {patron} - {commune}",
        rates_kbps=((2048, 16), (4096, 17)), town_bias=0.8, min_population=2000,
    ),
    KindProfile(
        SiteKind.LYCEE, 63, _E, "Lycée {patron} - {commune}",
        rates_kbps=((4096, 7), (8192, 6), (10240, 5)), min_population=8000,
    ),
    KindProfile(
        SiteKind.EHPAD, 56, _H, "EHPAD {of_commune}",
        rates_kbps=((1024, 9), (2048, 8)), town_bias=0.5,
    ),
    KindProfile(
        SiteKind.HOPITAL, 40, _H, "Centre hospitalier {of_commune}",
        rates_kbps=((8192, 4), (10240, 4), (20480, 4)), min_population=8000,
    ),
    KindProfile(
        SiteKind.EPCI, 30, _L, "Communauté de communes du pays {of_commune}",
        rates_kbps=((2048, 4), (4096, 5)), town_bias=0.5,
    ),
    KindProfile(
        SiteKind.LABORATOIRE, 26, _R, "Laboratoire de recherche {of_commune}",
        rates_kbps=((10240, 4), (34368, 2), (102400, 2)),
        town_bias=1.5, min_population=8000, l2_share=0.3,
    ),
    KindProfile(
        SiteKind.MEDIATHEQUE, 20, _L, "Médiathèque {of_commune}",
        rates_kbps=((1024, 3), (2048, 3)), town_bias=0.5,
    ),
    KindProfile(
        SiteKind.UNIVERSITE, 11, _R, "Université {of_commune}",
        rates_kbps=((102400, 1), (204800, 1)), town_bias=1.5, min_population=8000, l2_share=0.35,
    ),
    KindProfile(
        SiteKind.DEPARTEMENT, 3, _L, "Conseil départemental - site {of_commune}",
        rates_kbps=((10240, 1), (20480, 1)), town_bias=1.5, min_population=5000,
    ),
    KindProfile(
        SiteKind.REGION, 1, _L, "Conseil régional de Bretagne - site {of_commune}",
        rates_kbps=((20480, 1), (34368, 1)), town_bias=2.0, min_population=5000,
    ),
)  # fmt: skip

_ARTICLES = {"Le ": "du ", "Les ": "des "}


def of_commune(name: str) -> str:
    """French 'of the commune', with elision and contraction.

    Examples:
        >>> of_commune("Plourivo"), of_commune("Évran"), of_commune("Le Faouët")
        ('de Plourivo', "d'Évran", 'du Faouët')
    """
    for article, contracted in _ARTICLES.items():
        if name.startswith(article):
            return contracted + name.removeprefix(article)
    first = unicodedata.normalize("NFKD", name[:1])[:1].casefold()
    return f"d'{name}" if first and first in "aeiouy" else f"de {name}"


class _CommunePicker:
    """Draws a commune for a kind of site, never on a PoP whose VLANs are all taken."""

    def __init__(self, topology: Topology, rng: random.Random) -> None:
        self.rng = rng
        self.communes = breton_communes()
        self.pop_of = [nearest_pop(topology, c.latitude, c.longitude) for c in self.communes]
        self.room = {pop: topology.vlan_room(pop) for pop in set(self.pop_of)}
        self.used: Counter[str] = Counter()
        self.full: set[str] = set()
        self._cumulative: dict[SiteKind, list[float]] = {}

    @property
    def capacity(self) -> int:
        """How many sites all PoPs that serve a commune can take together."""
        return sum(self.room.values())

    def pick(self, profile: KindProfile) -> tuple[Commune, str]:
        cumulative = self._cumulative.get(profile.kind) or self._weights(profile)
        index = self.rng.choices(range(len(self.communes)), cum_weights=cumulative)[0]
        pop = self.pop_of[index]
        self.used[pop] += 1
        if self.used[pop] >= self.room[pop]:
            self.full.add(pop)
            self._cumulative.clear()  # weights change: that PoP's communes drop out
        return self.communes[index], pop

    def _weights(self, profile: KindProfile) -> list[float]:
        weights = [
            c.population**profile.town_bias
            if c.population >= profile.min_population and pop not in self.full
            else 0.0
            for c, pop in zip(self.communes, self.pop_of, strict=True)
        ]
        if not any(weights):  # all the kind's towns are on full PoPs: any open commune will do
            weights = [
                float(c.population) if pop not in self.full else 0.0
                for c, pop in zip(self.communes, self.pop_of, strict=True)
            ]
        self._cumulative[profile.kind] = list(itertools.accumulate(weights))
        return self._cumulative[profile.kind]


def _profiles(topology: Topology) -> list[KindProfile]:
    """The kinds this topology can carry: a VPN for the community, L2 only where offered."""
    vpns = {vpn.community for vpn in topology.vpns}
    l2 = {service.community for service in topology.l2_services}
    return [
        profile if profile.community in l2 else replace(profile, l2_share=0.0)
        for profile in PROFILES
        if profile.community in vpns
    ]


def _legacy_lans(topology: Topology) -> Iterator[IPv4Network]:
    """Consecutive /28s of the legacy pool, in address order (none if it is smaller)."""
    pool = topology.pools.legacy_lans
    if pool.prefixlen > LEGACY_PREFIXLEN:
        return iter(())
    return pool.subnets(new_prefix=LEGACY_PREFIXLEN)


def _unique_name(base: str, seen: Counter[str]) -> str:
    """Second and later sites of the same name get ' - site N', as in the export."""
    seen[base] += 1
    return base if seen[base] == 1 else f"{base} - site {seen[base]}"


@dataclass
class _Draw:
    """The state one generation run threads through: randomness, names, LANs."""

    topology: Topology
    rng: random.Random
    lans: Iterator[IPv4Network]
    names: Counter[str]


def _site(draw: _Draw, number: int, profile: KindProfile, commune: Commune, pop: str) -> Site:
    rng = draw.rng
    kbps = rng.choices([k for k, _ in profile.rates_kbps], [w for _, w in profile.rates_kbps])[0]
    offered = draw.topology.traffic.offered_rates_mbps
    rate = rate_for_kbps(offered, kbps * WANTED_OVER_CURRENT) or offered[-1]
    base = profile.name.format(
        patron=rng.choice(PATRONS), commune=commune.name, of_commune=of_commune(commune.name)
    )
    lan = next(draw.lans, None)
    legacy = LegacyAttachment(lan_prefix=lan, gateway=lan[1], rate_kbps=kbps) if lan else None
    return Site(
        id=f"GEN-{number:06d}",
        name=_unique_name(base, draw.names),
        kind=profile.kind,
        commune=commune.name,
        departement=commune.departement,
        latitude=commune.latitude,
        longitude=commune.longitude,
        pop=pop,
        community=profile.community,
        rate_mbps=rate,
        l2_renater=rng.random() < profile.l2_share,
        legacy=legacy,
    )


def generate_sites(topology: Topology, count: int, seed: int) -> list[Site]:
    """``count`` synthetic sites, ids GEN-000001 up, the same for the same seed.

    Raises UsageError if ``count`` is negative or exceeds what the PoPs'
    access VLAN pools can hold together.
    """
    rng = random.Random(seed)
    picker = _CommunePicker(topology, rng)
    if not 0 <= count <= picker.capacity:
        raise UsageError(
            f"cannot generate {count} sites: between 0 and {picker.capacity} "
            f"(the access VLAN pools of all PoPs together)"
        )
    profiles = _profiles(topology)
    shares = list(itertools.accumulate(p.share for p in profiles))
    draw = _Draw(topology, rng, _legacy_lans(topology), Counter())
    sites = []
    for number in range(1, count + 1):
        profile = rng.choices(profiles, cum_weights=shares)[0]
        commune, pop = picker.pick(profile)
        sites.append(_site(draw, number, profile, commune, pop))
    return sites
