"""The loader: the shipped files load; every kind of bad input is named precisely."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from megalis_net.errors import InputError
from megalis_net.loader import load_network
from megalis_net.model import Community, LinkRole, PopRole
from tests.conftest import ROOT, NetworkCopy


def test_shipped_topology_describes_megalis_ii(network_copy: NetworkCopy) -> None:
    network = load_network(network_copy.topology, network_copy.inventory)
    topology = network.topology
    assert topology.ring == (
        "rennes", "vannes", "lorient", "quimper", "brest", "lannion", "saint-brieuc",
    )  # fmt: skip
    ring_links = [link for link in topology.links if link.role is LinkRole.RING]
    assert len(ring_links) == 7
    assert {link.capacity_mbps for link in ring_links} == {2000}
    extension = [link for link in topology.links if link.role is LinkRole.EXTENSION]
    assert {frozenset((link.a, link.b)) for link in extension} == {
        frozenset(("rennes", "saint-malo"))
    }
    assert len(extension) == 2
    assert not set(extension[0].srlgs) & set(extension[1].srlgs), "extension links share a duct"
    assert [p.name for p in topology.pops if p.role is PopRole.EXTENSION] == ["saint-malo"]
    assert {v.community for v in topology.vpns} == set(Community)
    assert len(network.devices) == len(topology.pops)
    assert len(network.sites) == 4


def test_shipped_inventory_loads_with_the_imported_export() -> None:
    network = load_network(ROOT / "topology", ROOT / "inventory")
    assert len(network.sites) == 3000
    assert all(site.legacy is not None for site in network.sites)


# (id, file, text to replace, replacement, field named, words in the message, line holding)
BAD_INPUTS = [
    pytest.param(
        "topology/links.yaml", "a: vannes,       b: lorient", "a: vanes,        b: lorient",
        "links[1].a", "unknown PoP 'vanes'", "ring-vannes-lorient", id="link-to-missing-node",
    ),
    pytest.param(
        "topology/pops.yaml", "{name: lannion,", "{name: brest,",
        "pops[5].name", "duplicate name 'brest'", "city: Lannion", id="duplicate-name",
    ),
    pytest.param(
        "topology/upstreams.yaml", "pop: brest,", "pop: morlaix,",
        "upstreams[1].pop", "unknown PoP 'morlaix'", "internet-neuf", id="unknown-pop",
    ),
    pytest.param(
        "topology/pools.yaml", "site_links: 10.16.0.0/16", "site_links: 10.0.0.0/15",
        "pools.loopbacks", "overlaps pool site_links", "loopbacks:", id="overlapping-pools",
    ),
    pytest.param(
        "topology/pools.yaml", "{first: 100, last: 3999}", "{first: 100, last: 4095}",
        "pools.access_vlans.last", "less than or equal to 4094", "access_vlans", id="bad-vlan",
    ),
    pytest.param(
        "topology/policy.yaml", "offered_rates_mbps: [2,", "offered_rates_mbps: [10000, 2,",
        "traffic.offered_rates_mbps", "strictly increasing", "offered_rates_mbps", id="bad-rate-list",
    ),
    pytest.param(
        "inventory/sites.csv", "brest,research,500,", "brest,research,10000,",
        "rate_mbps", "rate above 1 Gb/s", "T-0003", id="rate-above-1g",
    ),
    pytest.param(
        "inventory/sites.csv", "lorient,health,", "lorient,healt,",
        "community", "'local-government'", "T-0002", id="unknown-community",
    ),
    pytest.param(
        "inventory/sites.csv", "saint-malo,local", "dinan,local",
        "pop", "unknown PoP 'dinan'", "T-0004", id="site-unknown-pop",
    ),
    pytest.param(
        "inventory/sites.csv", "T-0004,", "T-0001,",
        "id", "duplicate site 'T-0001'", "Mairie de Cancale", id="duplicate-site",
    ),
    pytest.param(
        "inventory/sites.csv", "10.32.0.16/28,10.32.0.17", "10.32.0.8/29,10.32.0.9",
        "legacy_lan", "overlaps site 'T-0001'", "T-0002", id="overlapping-lan",
    ),
    pytest.param(
        "inventory/sites.csv", ",,,active\n", ",,,migrated\n",
        "status", "'legacy' or 'active'", "T-0004", id="unknown-site-status",
    ),
    pytest.param(
        "inventory/hosts.yaml", "data: {pop: lorient}", "data: {pop: loriant}",
        "pe-lorient.data.pop", "unknown PoP 'loriant'", "pop: loriant", id="device-unknown-pop",
    ),
    pytest.param(
        "topology/links.yaml", "srlgs: [duct-quimper-brest]", "srlgs: [duct-quimper-brest",
        "", "YAML syntax error", "ring-quimper-brest", id="yaml-syntax",
    ),
]  # fmt: skip


@pytest.mark.parametrize(("relative", "old", "new", "field", "words", "needle"), BAD_INPUTS)
def test_bad_input_is_named_by_file_line_and_field(
    network_copy: NetworkCopy,
    line_of: Callable[[Path, str], int],
    relative: str,
    old: str,
    new: str,
    field: str,
    words: str,
    needle: str,
) -> None:
    path = network_copy.edit(relative, old, new)
    with pytest.raises(InputError) as caught:
        load_network(network_copy.topology, network_copy.inventory)
    matching = [p for p in caught.value.problems if words in p.message]
    assert matching, [str(p) for p in caught.value.problems]
    problem = matching[0]
    assert problem.file == str(path)
    assert problem.field == field
    assert problem.line == line_of(path, needle)


def test_every_problem_is_reported_at_once(network_copy: NetworkCopy) -> None:
    network_copy.edit("inventory/sites.csv", "brest,research,500,", "brest,research,10000,")
    network_copy.edit("inventory/sites.csv", "lorient,health,", "lorient,healt,")
    network_copy.edit("inventory/hosts.yaml", "data: {pop: lorient}", "data: {pop: loriant}")
    with pytest.raises(InputError) as caught:
        load_network(network_copy.topology, network_copy.inventory)
    fields = {p.field for p in caught.value.problems}
    assert {"rate_mbps", "community", "pe-lorient.data.pop"} <= fields


def test_ring_must_close(network_copy: NetworkCopy, line_of: Callable[[Path, str], int]) -> None:
    path = network_copy.edit(
        "topology/links.yaml",
        "- {name: ring-saint-brieuc-rennes,",
        "# {name: ring-saint-brieuc-rennes,",
    )
    with pytest.raises(InputError) as caught:
        load_network(network_copy.topology, network_copy.inventory)
    messages = [p.message for p in caught.value.problems]
    assert "no ring link between 'saint-brieuc' and 'rennes'" in messages
    assert path.name == "links.yaml"


def test_missing_file_is_named(network_copy: NetworkCopy) -> None:
    (network_copy.topology / "pools.yaml").unlink()
    with pytest.raises(InputError) as caught:
        load_network(network_copy.topology, network_copy.inventory)
    assert any(
        p.file.endswith("pools.yaml") and p.message == "file not found"
        for p in caught.value.problems
    )


def test_unknown_top_level_key_is_refused(network_copy: NetworkCopy) -> None:
    network_copy.edit("topology/pools.yaml", "pools:", "pool:")
    with pytest.raises(InputError) as caught:
        load_network(network_copy.topology, network_copy.inventory)
    assert [p.field for p in caught.value.problems] == ["pool"]
