"""The graph export: networkx can read back what we write, with kinds, capacities and SRLGs."""

from __future__ import annotations

import io

import networkx as nx

from megalis_net.graph import ExportFormat, build_graph, export_graph, read_json_graph
from megalis_net.loader import load_network
from tests.conftest import NetworkCopy


def test_json_export_reads_back_with_networkx(network_copy: NetworkCopy) -> None:
    network = load_network(network_copy.topology, network_copy.inventory)
    graph = read_json_graph(export_graph(build_graph(network), ExportFormat.JSON))
    assert isinstance(graph, nx.MultiGraph)
    kinds = nx.get_node_attributes(graph, "kind")
    assert sorted(n for n, k in kinds.items() if k == "pop") == sorted(
        p.name for p in network.topology.pops
    )
    assert sorted(n for n, k in kinds.items() if k == "upstream") == [
        "internet-ft",
        "internet-neuf",
        "renater",
        "renater-brest",
    ]
    assert sorted(n for n, k in kinds.items() if k == "site") == [
        "T-0001",
        "T-0002",
        "T-0003",
        "T-0004",
    ]
    assert graph.number_of_edges("rennes", "saint-malo") == 2
    ring = graph.get_edge_data("saint-brieuc", "rennes")["ring-saint-brieuc-rennes"]
    assert ring["capacity_mbps"] == 2000
    assert ring["srlgs"] == ["duct-rennes-north"]
    access = graph.get_edge_data("T-0003", "brest")["access-T-0003"]
    assert access["capacity_mbps"] == 500
    assert all("capacity_mbps" in d and "srlgs" in d for _, _, d in graph.edges(data=True))


def test_graphml_export_reads_back(network_copy: NetworkCopy) -> None:
    network = load_network(network_copy.topology, network_copy.inventory)
    text = export_graph(build_graph(network, with_sites=False), ExportFormat.GRAPHML)
    graph = nx.read_graphml(io.BytesIO(text.encode()), force_multigraph=True)
    assert graph.nodes["brest"]["kind"] == "pop"
    assert graph.number_of_nodes() == len(network.topology.pops) + len(network.topology.upstreams)
    edge = graph.get_edge_data("rennes", "saint-malo")
    assert sorted(d["srlgs"] for d in edge.values()) == [
        "duct-rennes-north",
        "duct-rennes-saint-malo-west",
    ]


def test_export_is_deterministic(network_copy: NetworkCopy) -> None:
    network = load_network(network_copy.topology, network_copy.inventory)
    first = export_graph(build_graph(network), ExportFormat.JSON)
    again = export_graph(
        build_graph(load_network(network_copy.topology, network_copy.inventory)), ExportFormat.JSON
    )
    assert first == again
