"""Route the busy-hour traffic over the backbone, for one failure scenario at a time.

The backbone is tiny (a few PoPs and upstreams) while sites number in the
thousands, so the demand is aggregated once per (PoP, routing class) and each
scenario only runs one Dijkstra per exit over plain adjacency lists, with the
failed elements masked rather than removed: no graph copy, no per-site work.

Loads follow the traffic model of ``topology/policy.yaml``: the offered traffic
of a PoP goes to the first reachable exit of its class, along the IGP shortest
paths, split evenly over all equal-cost paths (parallel links count as distinct
paths). Per path splitting is done Brandes-style with shortest-path counts
(``sigma``): an edge u->v on the shortest-path DAG towards exit t carries
``g(u) * sigma(v)``, where ``g(u)`` sums ``demand(p) * paths(p->u) / sigma(p)``
over the PoPs p upstream of u.
"""

from __future__ import annotations

import heapq
import math
from dataclasses import dataclass

from megalis_net.audit.scenarios import ElementKind, Scenario
from megalis_net.model import Community, Network, Preference, Topology, UpstreamKind

Mask = tuple[frozenset[int], frozenset[int]]
"""Failed node indices and failed link indices of a scenario."""


@dataclass(frozen=True, slots=True)
class Backbone:
    """The backbone as index arrays: nodes are PoPs first, then upstreams."""

    nodes: tuple[str, ...]
    pop_count: int
    links: tuple[str, ...]
    ends: tuple[tuple[int, int], ...]
    metrics: tuple[int, ...]
    capacities: tuple[int, ...]
    adjacency: tuple[tuple[tuple[int, int], ...], ...]
    srlg_links: dict[str, tuple[int, ...]]
    internet: tuple[int, ...]
    renater: tuple[int, ...]

    def node(self, name: str) -> int:
        return self.nodes.index(name)

    def link(self, name: str) -> int:
        return self.links.index(name)


def _exits(topology: Topology, kind: UpstreamKind, offset: int) -> tuple[int, ...]:
    """Upstream node indices of one kind, primary before secondary, then model order."""
    ranked = [
        (u.preference is not Preference.PRIMARY, i)
        for i, u in enumerate(topology.upstreams)
        if u.kind is kind
    ]
    return tuple(offset + i for _, i in sorted(ranked))


def build_backbone(topology: Topology) -> Backbone:
    """Index the PoPs, upstreams and backbone links of ``topology``."""
    nodes = tuple(p.name for p in topology.pops) + tuple(u.name for u in topology.upstreams)
    index = {name: i for i, name in enumerate(nodes)}
    links = topology.backbone_links
    ends = tuple((index[link.a], index[link.b]) for link in links)
    adjacency: list[list[tuple[int, int]]] = [[] for _ in nodes]
    for i, (a, b) in enumerate(ends):
        adjacency[a].append((i, b))
        adjacency[b].append((i, a))
    return Backbone(
        nodes=nodes,
        pop_count=len(topology.pops),
        links=tuple(link.name for link in links),
        ends=ends,
        metrics=tuple(link.metric for link in links),
        capacities=tuple(link.capacity_mbps for link in links),
        adjacency=tuple(tuple(adj) for adj in adjacency),
        srlg_links={
            s.name: tuple(i for i, link in enumerate(links) if s.name in link.srlgs)
            for s in topology.srlgs
        },
        internet=_exits(topology, UpstreamKind.INTERNET, len(topology.pops)),
        renater=_exits(topology, UpstreamKind.RENATER, len(topology.pops)),
    )


@dataclass(frozen=True, slots=True)
class Demand:
    """Busy-hour traffic (Mb/s) aggregated per routing class and PoP.

    A class is the list of exits its traffic may use, in order of preference:
    Renater first for communities whose VPN reaches Renater, then the Internet
    exits, primary first.
    """

    classes: tuple[tuple[int, ...], ...]
    mbps: tuple[tuple[float, ...], ...]
    sites: tuple[int, ...]


def aggregate_demand(network: Network, backbone: Backbone) -> Demand:
    """One pass over the sites: their offered traffic summed per (class, PoP)."""
    topology = network.topology
    class_of: dict[Community, int] = {}
    classes: list[tuple[int, ...]] = []
    for vpn in topology.vpns:
        exits = (backbone.renater if vpn.renater else ()) + (
            backbone.internet if vpn.internet else ()
        )
        if exits not in classes:
            classes.append(exits)
        class_of[vpn.community] = classes.index(exits)
    if backbone.internet not in classes:
        classes.append(backbone.internet)
    fallback = classes.index(backbone.internet)
    pop_index = {name: i for i, name in enumerate(backbone.nodes[: backbone.pop_count])}
    mbps = [[0.0] * backbone.pop_count for _ in classes]
    sites = [0] * backbone.pop_count
    share = topology.traffic.share
    for site in network.sites:
        pop = pop_index[site.pop]
        mbps[class_of.get(site.community, fallback)][pop] += site.rate_mbps * share(site.kind)
        sites[pop] += 1
    return Demand(tuple(classes), tuple(tuple(row) for row in mbps), tuple(sites))


def scenario_mask(backbone: Backbone, scenario: Scenario) -> Mask:
    """The nodes and links a scenario takes down (a PoP takes its links with it)."""
    nodes: set[int] = set()
    links: set[int] = set()
    for element in scenario.elements:
        if element.kind is ElementKind.POP:
            nodes.add(backbone.node(element.name))
        elif element.kind is ElementKind.LINK:
            links.add(backbone.link(element.name))
        else:
            links.update(backbone.srlg_links[element.name])
    links.update(i for i, (a, b) in enumerate(backbone.ends) if a in nodes or b in nodes)
    return frozenset(nodes), frozenset(links)


@dataclass(frozen=True, slots=True)
class Tree:
    """Shortest paths from one exit: distance, path count and settle order."""

    dist: list[float]
    sigma: list[int]
    order: list[int]


def shortest_paths(backbone: Backbone, source: int, down_links: frozenset[int]) -> Tree:
    """Dijkstra from ``source`` counting equal-cost paths, parallel links apart."""
    dist = [math.inf] * len(backbone.nodes)
    sigma = [0] * len(backbone.nodes)
    dist[source], sigma[source] = 0, 1
    order: list[int] = []
    heap = [(0, source)]
    while heap:
        d, u = heapq.heappop(heap)
        if d > dist[u]:
            continue
        order.append(u)
        for link, v in backbone.adjacency[u]:
            if link in down_links:
                continue
            nd = d + backbone.metrics[link]
            if nd < dist[v]:
                dist[v], sigma[v] = nd, sigma[u]
                heapq.heappush(heap, (nd, v))
            elif nd == dist[v]:
                sigma[v] += sigma[u]
    return Tree(dist, sigma, order)


@dataclass(frozen=True, slots=True)
class Flow:
    """Where the traffic of one scenario goes: reachability per PoP and link loads.

    ``loads[2 * link]`` is the load from the link's ``a`` end to its ``b`` end,
    ``loads[2 * link + 1]`` the other direction.
    """

    mask: Mask
    reaches_internet: tuple[bool, ...]
    reaches_renater: tuple[bool, ...]
    loads: tuple[float, ...]


def route(backbone: Backbone, demand: Demand, mask: Mask) -> Flow:
    """Reachability and directed link loads with the masked elements down."""
    down_nodes, down_links = mask
    exits = sorted({*backbone.internet, *backbone.renater})
    trees = {t: shortest_paths(backbone, t, down_links) for t in exits}
    towards = _assign_destinations(backbone, demand, trees, down_nodes)
    loads = [0.0] * (2 * len(backbone.links))
    for exit_node, per_pop in towards.items():
        _accumulate(backbone, trees[exit_node], per_pop, down_links, loads)
    pops = range(backbone.pop_count)
    return Flow(
        mask=mask,
        reaches_internet=tuple(_reaches(trees, backbone.internet, p) for p in pops),
        reaches_renater=tuple(_reaches(trees, backbone.renater, p) for p in pops),
        loads=tuple(loads),
    )


def _reaches(trees: dict[int, Tree], exits: tuple[int, ...], pop: int) -> bool:
    return any(trees[t].dist[pop] < math.inf for t in exits)


def _assign_destinations(
    backbone: Backbone, demand: Demand, trees: dict[int, Tree], down_nodes: frozenset[int]
) -> dict[int, list[float]]:
    """Demand per exit and PoP: each class to its first reachable exit."""
    towards: dict[int, list[float]] = {}
    for exits, per_pop in zip(demand.classes, demand.mbps, strict=True):
        for pop, mbps in enumerate(per_pop):
            if mbps == 0 or pop in down_nodes:
                continue
            exit_node = next((t for t in exits if trees[t].dist[pop] < math.inf), None)
            if exit_node is not None:
                towards.setdefault(exit_node, [0.0] * backbone.pop_count)[pop] += mbps
    return towards


def _accumulate(
    backbone: Backbone,
    tree: Tree,
    per_pop: list[float],
    down_links: frozenset[int],
    loads: list[float],
) -> None:
    """Add the loads of traffic flowing to the tree's root, farthest nodes first."""
    dist, sigma = tree.dist, tree.sigma
    through = [0.0] * len(backbone.nodes)
    for u in reversed(tree.order):
        g = through[u] + (per_pop[u] / sigma[u] if u < backbone.pop_count else 0.0)
        if g == 0:
            continue
        for link, v in backbone.adjacency[u]:
            if link not in down_links and dist[v] + backbone.metrics[link] == dist[u]:
                loads[2 * link + (backbone.ends[link][0] != u)] += g * sigma[v]
                through[v] += g
