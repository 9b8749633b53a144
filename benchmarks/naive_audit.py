"""The audit done the plain networkx way, as a yardstick for ``megalis_net.audit``.

Per scenario, from scratch: copy the full networkx graph (sites included),
remove the failed elements, find what each exit still reaches
(``nx.node_connected_component``), run one Dijkstra per exit over the whole
graph (``nx.dijkstra_predecessor_and_distance``), then walk every site's
shortest paths to its destination (parallel links expanded into distinct
paths) and add its demand, split evenly, to each link on the way. This is what
an engineer writes with networkx without thinking about the problem's shape:
it redoes, per scenario, work proportional to sites x graph size. The verdict
rules are written out again here, on purpose, so that the comparison also
checks ``megalis_net.audit.findings``.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field

import networkx as nx

from megalis_net.audit import ElementKind, Scenario, ScenarioResult
from megalis_net.graph import build_graph
from megalis_net.model import Network, Preference, Site, Topology, UpstreamKind

DirectedLink = tuple[str, str, str]
"""(link name, from node, to node)."""


@dataclass
class NaiveResult:
    """What the naive method finds for one scenario, and how long it took."""

    scenario: str
    cut_pops_internet: set[str]
    cut_pops_renater: set[str]
    loads: dict[DirectedLink, float]
    verdicts: set[tuple[str, str]] = field(default_factory=set)
    setup_seconds: float = 0.0
    sites_seconds: float = 0.0


def destinations(topology: Topology, site: Site) -> list[str]:
    """The exits the site's traffic may use, in order of preference."""
    vpn = next((v for v in topology.vpns if v.community == site.community), None)
    internet = _exits(topology, UpstreamKind.INTERNET)
    if vpn is None:
        return internet
    renater = _exits(topology, UpstreamKind.RENATER) if vpn.renater else []
    return renater + (internet if vpn.internet else [])


def _exits(topology: Topology, kind: UpstreamKind) -> list[str]:
    ups = [u for u in topology.upstreams if u.kind is kind]
    return [u.name for u in sorted(ups, key=lambda u: u.preference is not Preference.PRIMARY)]


def failed_graph(
    graph: nx.MultiGraph[str], topology: Topology, scenario: Scenario
) -> nx.MultiGraph[str]:
    """A copy of ``graph`` without the scenario's failed PoPs, links and SRLG members."""
    g = graph.copy()
    links = {e.name for e in scenario.elements if e.kind is ElementKind.LINK}
    srlgs = {e.name for e in scenario.elements if e.kind is ElementKind.SRLG}
    g.remove_nodes_from(scenario.failed_pops)
    for u, v, key, data in list(g.edges(keys=True, data=True)):
        if key in links or srlgs.intersection(data["srlgs"]):
            g.remove_edge(u, v, key=key)
    return g


def _paths_to(pred: dict[str, list[str]], node: str, dest: str) -> Iterator[list[str]]:
    """Every shortest path ``node`` -> ``dest``, from a Dijkstra rooted at ``dest``."""
    if node == dest:
        yield [dest]
        return
    for previous in pred[node]:
        for rest in _paths_to(pred, previous, dest):
            yield [node, *rest]


def _route_site(
    g: nx.MultiGraph[str],
    pred: dict[str, list[str]],
    site: Site,
    dest: str,
    demand: float,
    loads: dict[DirectedLink, float],
) -> None:
    """Split ``demand`` evenly over every shortest path, parallel links apart."""
    expanded: list[list[DirectedLink]] = []
    for path in _paths_to(pred, site.id, dest):
        hops = []
        for u, v in itertools.pairwise(path[1:]):  # path[0] -> path[1] is the access link
            best = min(d["metric"] for d in g[u][v].values())
            hops.append([(k, u, v) for k, d in g[u][v].items() if d["metric"] == best])
        expanded += [list(combo) for combo in itertools.product(*hops)]
    for combo in expanded:
        for hop in combo:
            loads[hop] = loads.get(hop, 0.0) + demand / len(expanded)


def naive_scenario(
    network: Network, graph: nx.MultiGraph[str], scenario: Scenario, sites: Sequence[Site]
) -> NaiveResult:
    """Reachability and loads of ``sites`` with the scenario's elements failed."""
    topology = network.topology
    started = time.perf_counter()
    g = failed_graph(graph, topology, scenario)
    internet = _exits(topology, UpstreamKind.INTERNET)
    renater = _exits(topology, UpstreamKind.RENATER)
    reach = {x: nx.node_connected_component(g, x) for x in internet + renater}
    pred = {x: nx.dijkstra_predecessor_and_distance(g, x, weight="metric")[0] for x in reach}
    setup = time.perf_counter() - started
    pops = [p.name for p in topology.pops if p.name not in set(scenario.failed_pops)]
    cut_internet = {p for p in pops if not any(p in reach[x] for x in internet)}
    cut_renater = {p for p in pops if renater and not any(p in reach[x] for x in renater)}
    loads: dict[DirectedLink, float] = {}
    started = time.perf_counter()
    for site in sites:
        dest = next((x for x in destinations(topology, site) if site.id in reach[x]), None)
        if dest is not None:
            demand = site.rate_mbps * topology.traffic.share(site.kind)
            _route_site(g, pred[dest], site, dest, demand, loads)
    result = NaiveResult(scenario.name, cut_internet, cut_renater, loads)
    result.setup_seconds, result.sites_seconds = setup, time.perf_counter() - started
    result.verdicts = verdicts(network, scenario, result)
    return result


def verdicts(network: Network, scenario: Scenario, result: NaiveResult) -> set[tuple[str, str]]:
    """(severity, kind) of every finding of the scenario, by the policy's rules."""
    policy = network.topology.policy
    if scenario.depth > policy.required_depth:
        severity = "warning"
    else:
        severity = policy.pop_failure.value if scenario.failed_pops else "violation"
    found = set()
    if scenario.failed_pops or result.cut_pops_internet:
        found.add((severity, "internet-cut"))
    if result.cut_pops_renater:
        found.add((severity, "renater-cut"))
    capacity = {link.name: link.capacity_mbps for link in network.topology.backbone_links}
    limit = policy.max_utilisation * (1 + 1e-9)
    if any(load / capacity[link] > limit for (link, _, _), load in result.loads.items()):
        found.add((severity, "over-capacity"))
    return found


def naive_audit(
    network: Network, scenarios: Iterable[Scenario], sites: Sequence[Site] | None = None
) -> list[NaiveResult]:
    """The naive method over ``scenarios``; ``sites`` restricts the per-site work
    (the graph keeps every site, so the cost per site stays the real one)."""
    graph = build_graph(network)
    chosen = network.sites if sites is None else sites
    return [naive_scenario(network, graph, s, chosen) for s in scenarios]


def compare(fast: ScenarioResult, naive: NaiveResult, tolerance: float = 1e-6) -> list[str]:
    """Every difference between the two methods on one scenario (empty: they agree)."""
    problems = []
    fast_verdicts = {(f.severity.value, f.kind.value) for f in fast.findings}
    if fast_verdicts != naive.verdicts:
        problems.append(f"verdicts {sorted(fast_verdicts)} != naive {sorted(naive.verdicts)}")
    if set(fast.cut_pops_internet) != naive.cut_pops_internet:
        problems.append(f"internet cut {fast.cut_pops_internet} != {naive.cut_pops_internet}")
    if set(fast.cut_pops_renater) != naive.cut_pops_renater:
        problems.append(f"renater cut {fast.cut_pops_renater} != {naive.cut_pops_renater}")
    fast_loads = _directed(fast)
    for key in sorted(fast_loads.keys() | naive.loads.keys()):
        a, b = fast_loads.get(key, 0.0), naive.loads.get(key, 0.0)
        if abs(a - b) > tolerance:
            problems.append(f"load {key}: fast {a:.6f} != naive {b:.6f}")
    return [f"{fast.scenario.name}: {p}" for p in problems]


def max_load_difference(fast: ScenarioResult, naive: NaiveResult) -> float:
    """Largest absolute gap between the two methods' directed loads (Mb/s)."""
    fast_loads = _directed(fast)
    keys = fast_loads.keys() | naive.loads.keys()
    return max((abs(fast_loads.get(k, 0.0) - naive.loads.get(k, 0.0)) for k in keys), default=0.0)


def _directed(fast: ScenarioResult) -> dict[DirectedLink, float]:
    loads = {}
    for load in fast.loads:
        source, target = load.direction.split("->")
        loads[(load.link, source, target)] = load.load_mbps
    return loads
