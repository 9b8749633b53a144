"""The network as a networkx multigraph: an index derived from the model.

Nodes carry ``kind`` (``pop``, ``upstream``, ``site``); edges are keyed by link
name and carry ``capacity_mbps``, ``srlgs``, ``role`` and ``metric``. A multigraph
because Rennes and Saint-Malo are joined by two links.
"""

from __future__ import annotations

import io
import json
from enum import StrEnum
from typing import Any

import networkx as nx

from megalis_net.model import LinkRole, Network


class ExportFormat(StrEnum):
    JSON = "json"
    GRAPHML = "graphml"


def build_graph(network: Network, *, with_sites: bool = True) -> nx.MultiGraph[str]:
    """PoPs, upstreams and (optionally) sites, with every link between them."""
    topology = network.topology
    graph: nx.MultiGraph[str] = nx.MultiGraph(name="megalis2")
    for pop in topology.pops:
        graph.add_node(
            pop.name, kind="pop", role=pop.role.value, city=pop.city,
            departement=pop.departement.value, latitude=pop.latitude, longitude=pop.longitude,
        )  # fmt: skip
    for upstream in topology.upstreams:
        graph.add_node(
            upstream.name, kind="upstream", upstream_kind=upstream.kind.value,
            preference=upstream.preference.value, provider=upstream.provider,
        )  # fmt: skip
    for link in topology.backbone_links:
        graph.add_edge(
            link.a, link.b, key=link.name, role=link.role.value, capacity_mbps=link.capacity_mbps,
            metric=link.metric, srlgs=list(link.srlgs), provider=link.provider,
        )  # fmt: skip
    if with_sites:
        _add_sites(graph, network)
    return graph


def _add_sites(graph: nx.MultiGraph[str], network: Network) -> None:
    access = next((p.name for p in network.topology.providers if "access" in p.lots), "")
    for site in network.sites:
        graph.add_node(
            site.id, kind="site", name=site.name, site_kind=site.kind.value, pop=site.pop,
            community=site.community.value, rate_mbps=site.rate_mbps,
            latitude=site.latitude, longitude=site.longitude,
        )  # fmt: skip
        graph.add_edge(
            site.id, site.pop, key=f"access-{site.id}", role=LinkRole.ACCESS.value,
            capacity_mbps=site.rate_mbps, metric=10, srlgs=[], provider=access,
        )  # fmt: skip


def export_graph(graph: nx.MultiGraph[str], fmt: ExportFormat) -> str:
    """Serialise as networkx node-link JSON (edges under ``links``) or GraphML."""
    if fmt is ExportFormat.JSON:
        data = nx.node_link_data(graph, edges="links")
        return json.dumps(data, ensure_ascii=False, indent=1, sort_keys=True) + "\n"
    buffer = io.BytesIO()
    nx.write_graphml(_graphml_safe(graph), buffer, encoding="utf-8")
    return buffer.getvalue().decode("utf-8")


def _graphml_safe(graph: nx.MultiGraph[str]) -> nx.MultiGraph[str]:
    """GraphML has no list type: SRLG lists become comma-separated strings."""
    copy = graph.copy()
    for _, _, data in copy.edges(data=True):
        data["srlgs"] = ",".join(data.get("srlgs", []))
    return copy


def read_json_graph(text: str) -> Any:
    """The inverse of the JSON export (used by tests and by other tools)."""
    return nx.node_link_graph(json.loads(text), multigraph=True, edges="links")
