"""The ring as a map: every PoP at its coordinates, every backbone link coloured.

A link's colour says its state in the last verify result (up, down, or
unknown when the result does not hold it) and, when up and measured, its
utilisation band. Classes and tooltips are computed here, the template only
writes them out.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass

from megalis_net.model import Link, Network, Topology
from megalis_net.report.geometry import (
    ABOVE_OR_BELOW,
    UPSTREAM_OFFSET_KM,
    Fit,
    Label,
    Point,
    Segment,
    away_from,
    centroid,
    label_side,
    offset,
    plane,
)
from megalis_net.report.verify_result import LinkState, LinkStatus, VerifyResult

MAP_WIDTH = 960.0
MAP_MARGIN = 100.0  # room for the outermost labels

BANDS: tuple[tuple[float, str], ...] = ((0.5, "util-low"), (0.8, "util-mid"))
"""Utilisation bands, upper bound excluded: below 50 % green, below 80 % orange."""
HIGH_BAND = "util-high"
UNMEASURED_BAND = "util-none"


def band(utilisation: float | None) -> str:
    """The CSS class of a link that is up.

    Examples:
        >>> [band(u) for u in (None, 0.0, 0.499, 0.5, 0.79, 0.8, 1.2)]
        ['util-none', 'util-low', 'util-low', 'util-mid', 'util-mid', 'util-high', 'util-high']
    """
    if utilisation is None:
        return UNMEASURED_BAND
    return next((name for limit, name in BANDS if utilisation < limit), HIGH_BAND)


def utilisation_attr(utilisation: float | None) -> str:
    """``data-utilisation``: the fraction, or empty when it was not measured.

    Examples:
        >>> utilisation_attr(0.12345678), utilisation_attr(None), utilisation_attr(0.0001)
        ('0.123457', '', '0.0001')
    """
    return "" if utilisation is None else str(round(utilisation, 6))


@dataclass(frozen=True, slots=True)
class MapLink:
    name: str
    role: str
    state: str
    utilisation: str
    css: str
    title: str
    line: Segment


@dataclass(frozen=True, slots=True)
class MapNode:
    """A PoP (``kind`` "pop") or an upstream provider's node (``kind`` "provider")."""

    name: str
    kind: str
    label: str
    detail: str
    title: str
    at: Point
    text: Label


@dataclass(frozen=True, slots=True)
class SiteDot:
    """Sites that share one place (a commune), drawn as one faint dot for context."""

    at: Point
    radius: float
    sites: int


@dataclass(frozen=True, slots=True)
class RingMap:
    width: float
    height: float
    links: tuple[MapLink, ...]
    pops: tuple[MapNode, ...]
    providers: tuple[MapNode, ...]
    sites: tuple[SiteDot, ...]


def link_state(status: LinkStatus | None) -> LinkState:
    return LinkState.UNKNOWN if status is None else status.state


def link_css(state: LinkState, utilisation: float | None) -> str:
    return f"link {state.value} {band(utilisation)}" if state is LinkState.UP else f"link {state}"


def link_title(link: Link, status: LinkStatus | None) -> str:
    what = f"{link.name} ({link.role.value}, {link.a} – {link.b}, {link.capacity_mbps} Mb/s)"
    if status is None:
        return f"{what}: unknown, not in the verify result"
    if status.state is LinkState.UP and status.utilisation is not None:
        return f"{what}: up, {status.utilisation:.0%} utilised"
    if status.state is LinkState.UP:
        return f"{what}: up, utilisation not measured"
    return f"{what}: {status.state.value}"


def _node_positions(network: Network) -> dict[str, Point]:
    """Plane positions of every PoP, provider node and site place (kilometres)."""
    topology = network.topology
    mean = sum(p.latitude for p in topology.pops) / len(topology.pops)
    places = {p.name: plane(p.latitude, p.longitude, mean) for p in topology.pops}
    ring_centre = centroid([places[name] for name in topology.ring])
    by_pop: defaultdict[str, list[str]] = defaultdict(list)
    for upstream in topology.upstreams:
        by_pop[upstream.pop].append(upstream.name)
    for pop, names in by_pop.items():
        spots = away_from(ring_centre, places[pop], UPSTREAM_OFFSET_KM, len(names))
        places.update(zip(names, spots, strict=True))
    for site in network.sites:
        places[f"site:{site.latitude:.3f},{site.longitude:.3f}"] = plane(
            site.latitude, site.longitude, mean
        )
    return places


def build_map(network: Network, verify: VerifyResult | None) -> RingMap:
    """The map of the backbone, with the link states of ``verify`` (None: all unknown)."""
    places = _node_positions(network)
    fit = Fit.around(places.values(), MAP_WIDTH, MAP_MARGIN)
    return RingMap(
        width=fit.width,
        height=fit.height,
        links=map_links(network.topology, fit, places, verify),
        pops=_pops(network, fit, places),
        providers=_providers(network.topology, fit, places),
        sites=_site_dots(network, fit, places),
    )


def map_links(
    topology: Topology, fit: Fit, places: dict[str, Point], verify: VerifyResult | None
) -> tuple[MapLink, ...]:
    """Every backbone link once; parallel links of the same two nodes drawn side by side."""
    statuses = {s.link: s for s in verify.links} if verify is not None else {}
    links = topology.backbone_links
    pair = [frozenset((link.a, link.b)) for link in links]
    totals = Counter(pair)
    seen: Counter[frozenset[str]] = Counter()
    out = []
    for link, ends in zip(links, pair, strict=True):
        straight = Segment(fit.place(places[link.a]), fit.place(places[link.b]))
        line = offset(straight, seen[ends], totals[ends])
        seen[ends] += 1
        status = statuses.get(link.name)
        state = link_state(status)
        utilisation = status.utilisation if status is not None else None
        out.append(
            MapLink(
                name=link.name,
                role=link.role.value,
                state=state.value,
                utilisation=utilisation_attr(utilisation),
                css=link_css(state, utilisation) + f" role-{link.role.value}",
                title=link_title(link, status),
                line=line,
            )
        )
    return tuple(out)


def _neighbours(topology: Topology, places: dict[str, Point], fit: Fit) -> dict[str, list[Point]]:
    """For each node, where the links it ends go: labels avoid them."""
    out: defaultdict[str, list[Point]] = defaultdict(list)
    for link in topology.backbone_links:
        out[link.a].append(fit.place(places[link.b]))
        out[link.b].append(fit.place(places[link.a]))
    return out


def _pops(network: Network, fit: Fit, places: dict[str, Point]) -> tuple[MapNode, ...]:
    sites = Counter(site.pop for site in network.sites)
    neighbours = _neighbours(network.topology, places, fit)
    nodes = []
    for pop in network.topology.pops:
        at = fit.place(places[pop.name])
        nodes.append(
            MapNode(
                name=pop.name,
                kind="pop",
                label=pop.city,
                detail=f"{sites[pop.name]} sites",
                title=f"{pop.city} ({pop.role.value} PoP): {sites[pop.name]} sites",
                at=at,
                text=label_side(at, neighbours[pop.name]),
            )
        )
    return tuple(nodes)


def _providers(topology: Topology, fit: Fit, places: dict[str, Point]) -> tuple[MapNode, ...]:
    nodes = []
    for upstream in topology.upstreams:
        provider = topology.provider(upstream.provider).display_name
        at = fit.place(places[upstream.name])
        nodes.append(
            MapNode(
                name=upstream.name,
                kind="provider",
                label=provider,
                detail=f"{upstream.kind.value}, {upstream.preference.value}",
                title=f"{upstream.name}: {provider}, {upstream.kind.value} exit "
                f"({upstream.preference.value}) at {upstream.pop}",
                at=at,
                text=label_side(at, [fit.place(places[upstream.pop])], ABOVE_OR_BELOW),
            )
        )
    return tuple(nodes)


def _site_dots(network: Network, fit: Fit, places: dict[str, Point]) -> tuple[SiteDot, ...]:
    per_place = Counter(f"site:{s.latitude:.3f},{s.longitude:.3f}" for s in network.sites)
    return tuple(
        SiteDot(fit.place(places[key]), round(1.2 + 0.5 * count**0.5, 1), count)
        for key, count in sorted(per_place.items())
    )
