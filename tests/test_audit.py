"""The redundancy audit: scenarios, cut-offs, loads, policy, and the naive yardstick.

Networks are the shipped topology (or an edited copy of it) with the 300-site
fixture ``fixtures/audit/sites.csv`` (written once by ``generator.generate_sites``
with seed 7), or a handful of hand-made sites whose loads can be worked out
on paper.
"""

from __future__ import annotations

import json
import sys

import pytest

from megalis_net.audit import (
    AuditReport,
    FindingKind,
    ScenarioResult,
    enumerate_scenarios,
    run_audit,
)
from megalis_net.errors import UsageError
from megalis_net.loader import load_devices, load_topology
from megalis_net.model import Community, Network, Severity, Site, SiteKind, Topology
from megalis_net.sites import read_sites
from tests.conftest import FIXTURES, ROOT, NetworkCopy

sys.path.insert(0, str(ROOT / "benchmarks"))
from naive_audit import compare, naive_audit

SITES = read_sites(FIXTURES / "audit" / "sites.csv")[0]
DEVICES = tuple(load_devices(ROOT / "inventory")[0])
SECOND_RENATER = "  - {name: renater-brest,"
EXT_B_LINE = (
    "  - {name: ext-rennes-saint-malo-b,   a: rennes,       b: saint-malo,   role: extension, "
    "capacity_mbps: 1000, metric: 10, srlgs: [duct-rennes-north],         "
    "provider: france-telecom}\n"
)


def network(topology: Topology, sites: list[Site] | tuple[Site, ...] = SITES) -> Network:
    return Network(topology=topology, devices=DEVICES, sites=tuple(sites))


def load(copy: NetworkCopy, sites: list[Site] | tuple[Site, ...] = SITES) -> Network:
    return network(load_topology(copy.topology).topology, sites)


def with_single_renater(copy: NetworkCopy) -> NetworkCopy:
    """Renater reachable at Rennes only (no second exit at Brest)."""
    copy.edit("topology/upstreams.yaml", SECOND_RENATER, "  # - {name: renater-brest,")
    return copy


def result(report: AuditReport, name: str) -> ScenarioResult:
    return next(r for r in report.results if r.scenario.name == name)


def load_of(res: ScenarioResult, link: str, direction: str) -> float:
    return next(x.load_mbps for x in res.loads if x.link == link and x.direction == direction)


def site(number: int, pop: str, kind: SiteKind, community: Community, rate: int) -> Site:
    return Site(
        id=f"H-{number:04d}", name=f"Site {number}", kind=kind, commune="Rennes",
        departement="35", latitude=48.1, longitude=-1.7, pop=pop, community=community,
        rate_mbps=rate,
    )  # fmt: skip


def schools(pop: str, count: int, rate: int, first: int = 0) -> list[Site]:
    """``count`` écoles at ``pop``: each offers ``rate`` x 0.02 Mb/s to the Internet."""
    return [site(first + i, pop, SiteKind.ECOLE, Community.EDUCATION, rate) for i in range(count)]


# --- scenarios -------------------------------------------------------------


def test_depth_1_fails_each_link_pop_and_srlg_once(shipped_topology: Topology) -> None:
    t = shipped_topology
    scenarios = enumerate_scenarios(t, 1)
    assert len(scenarios) == len(t.backbone_links) + len(t.pops) + len(t.srlgs) == 29
    names = {s.name for s in scenarios}
    assert {"link:up-renater", "pop:saint-malo", "srlg:duct-rennes-north"} <= names
    assert run_audit(network(t), depth=1).scenario_count == 29


def test_depth_2_adds_every_pair(shipped_topology: Topology) -> None:
    report = run_audit(network(shipped_topology), depth=2)
    assert report.scenario_count == 29 + 29 * 28 // 2
    names = [r.scenario.name for r in report.results]
    assert len(set(names)) == len(names)
    assert "pop:rennes + srlg:duct-rennes-north" in names


@pytest.mark.parametrize("depth", [-1, 3])
def test_unsupported_depth_is_a_usage_error(shipped_topology: Topology, depth: int) -> None:
    with pytest.raises(UsageError, match="depth"):
        run_audit(network(shipped_topology), depth=depth)


# --- policy ----------------------------------------------------------------


def test_shipped_design_passes_depth_1(network_copy: NetworkCopy) -> None:
    report = run_audit(load(network_copy), depth=1)
    assert report.violations == ()
    assert report.passed
    assert report.warnings  # PoP failures still cut their own sites


def test_single_renater_link_fails_depth_1(network_copy: NetworkCopy) -> None:
    """Renater on one upstream link: losing it cuts every PoP off Renater."""
    report = run_audit(load(with_single_renater(network_copy)), depth=1)
    assert {v.scenario for v in report.violations} == {"link:up-renater"}
    assert {v.kind for v in report.violations} == {FindingKind.RENATER_CUT}


def test_duct_shared_by_ring_and_extension_is_survivable(shipped_topology: Topology) -> None:
    res = result(run_audit(network(shipped_topology)), "srlg:duct-rennes-north")
    assert res.findings == ()
    assert res.cut_pops_internet == res.cut_pops_renater == ()


def test_single_link_extension_fails_naming_the_link(network_copy: NetworkCopy) -> None:
    network_copy.edit("topology/links.yaml", EXT_B_LINE, "")
    report = run_audit(load(network_copy), depth=1)
    assert not report.passed
    cut = [v for v in report.violations if v.kind is FindingKind.INTERNET_CUT]
    assert [v.scenario for v in cut] == [
        "link:ext-rennes-saint-malo-a",
        "srlg:duct-rennes-saint-malo-west",
    ]
    saint_malo = sum(s.pop == "saint-malo" for s in SITES)
    assert "link:ext-rennes-saint-malo-a" in cut[0].detail
    assert "PoP saint-malo" in cut[0].detail
    assert cut[0].sites_affected == saint_malo > 0


def test_rennes_failure_is_a_warning_with_sites_counted(network_copy: NetworkCopy) -> None:
    report = run_audit(load(network_copy), depth=1)
    res = result(report, "pop:rennes")
    assert {f.severity for f in res.findings} == {Severity.WARNING}
    assert res.cut_pops_internet == ("saint-malo",)
    assert res.cut_pops_renater == ("saint-malo",)  # the others reach Renater at Brest
    by_kind = {f.kind: f for f in res.findings}
    rennes_side = sum(s.pop in ("rennes", "saint-malo") for s in SITES)
    assert by_kind[FindingKind.INTERNET_CUT].sites_affected == rennes_side
    assert by_kind[FindingKind.RENATER_CUT].sites_affected == rennes_side
    assert res.sites_cut == rennes_side


def test_pop_failure_policy_can_make_it_a_violation(network_copy: NetworkCopy) -> None:
    network_copy.edit("topology/policy.yaml", "pop_failure: warning", "pop_failure: violation")
    report = run_audit(load(network_copy), depth=1)
    assert not report.passed
    assert {v.scenario for v in report.violations} == {
        f"pop:{p}" for p in ("rennes", "vannes", "lorient", "quimper", "brest", "lannion",
                             "saint-brieuc", "saint-malo")
    }  # fmt: skip


def test_deeper_than_required_is_a_warning_until_required(network_copy: NetworkCopy) -> None:
    name = "link:ring-rennes-vannes + link:ring-vannes-lorient"  # Vannes islanded
    res = result(run_audit(load(network_copy), depth=2), name)
    assert {(f.kind, f.severity) for f in res.findings} == {
        (FindingKind.INTERNET_CUT, Severity.WARNING),
        (FindingKind.RENATER_CUT, Severity.WARNING),
    }
    assert res.cut_pops_internet == res.cut_pops_renater == ("vannes",)
    assert res.sites_cut == sum(s.pop == "vannes" for s in SITES)
    network_copy.edit("topology/policy.yaml", "required_depth: 1", "required_depth: 2")
    res = result(run_audit(load(network_copy), depth=2), name)
    assert {f.severity for f in res.findings} == {Severity.VIOLATION}


def test_shrunk_ring_link_is_over_capacity(network_copy: NetworkCopy) -> None:
    network_copy.edit(
        "topology/links.yaml", "b: rennes,       role: ring, capacity_mbps: 2000",
        "b: rennes,       role: ring, capacity_mbps: 5",
    )  # fmt: skip
    report = run_audit(load(network_copy), depth=1)
    over = [v for v in report.violations if v.kind is FindingKind.OVER_CAPACITY]
    assert over and all("link ring-saint-brieuc-rennes carries" in v.detail for v in over)
    assert "normal" in {v.scenario for v in over}
    assert "link:ring-saint-brieuc-rennes" not in {v.scenario for v in over}
    assert report.worst_link is not None
    assert report.worst_link.link == "ring-saint-brieuc-rennes"
    assert report.worst_link.utilisation > 1


# --- loads -----------------------------------------------------------------


def test_traffic_follows_the_shortest_path_to_the_primary_exit(
    shipped_topology: Topology,
) -> None:
    """10 écoles x 100 Mb/s x 0.02 = 20 Mb/s from Lannion, via Saint-Brieuc (2 hops, not 5)."""
    base = run_audit(network(shipped_topology, schools("lannion", 10, 100))).baseline
    assert load_of(base, "ring-lannion-saint-brieuc", "lannion->saint-brieuc") == pytest.approx(20)
    assert load_of(base, "ring-saint-brieuc-rennes", "saint-brieuc->rennes") == pytest.approx(20)
    assert load_of(base, "up-internet-ft", "rennes->internet-ft") == pytest.approx(20)
    assert load_of(base, "ring-saint-brieuc-rennes", "rennes->saint-brieuc") == 0
    assert load_of(base, "ring-brest-lannion", "lannion->brest") == 0
    assert base.worst_link in ("ring-lannion-saint-brieuc", "up-internet-ft")
    assert base.max_utilisation == pytest.approx(20 / 2000)


def test_research_goes_to_renater_over_both_parallel_links(shipped_topology: Topology) -> None:
    """One université at 1000 Mb/s x 0.04 = 40 Mb/s: 20 on each Saint-Malo link."""
    univ = [site(1, "saint-malo", SiteKind.UNIVERSITE, Community.RESEARCH, 1000)]
    report = run_audit(network(shipped_topology, univ))
    base = report.baseline
    assert load_of(base, "ext-rennes-saint-malo-a", "saint-malo->rennes") == pytest.approx(20)
    assert load_of(base, "ext-rennes-saint-malo-b", "saint-malo->rennes") == pytest.approx(20)
    assert load_of(base, "up-renater", "rennes->renater") == pytest.approx(40)
    assert load_of(base, "up-renater-brest", "brest->renater-brest") == 0
    assert load_of(base, "up-internet-ft", "rennes->internet-ft") == 0
    one_link = result(report, "link:ext-rennes-saint-malo-a")
    assert load_of(one_link, "ext-rennes-saint-malo-b", "saint-malo->rennes") == pytest.approx(40)
    no_renater = result(report, "link:up-renater")  # the secondary Renater exit takes over
    assert load_of(no_renater, "up-renater-brest", "brest->renater-brest") == pytest.approx(40)
    assert load_of(no_renater, "up-internet-ft", "rennes->internet-ft") == 0


def test_equal_cost_paths_share_the_traffic_evenly(network_copy: NetworkCopy) -> None:
    """With Lorient-Quimper at metric 20, Quimper reaches Rennes at cost 40 both ways."""
    network_copy.edit(
        "topology/links.yaml", "b: quimper,      role: ring, capacity_mbps: 2000, metric: 10",
        "b: quimper,      role: ring, capacity_mbps: 2000, metric: 20",
    )  # fmt: skip
    report = run_audit(load(network_copy, schools("quimper", 20, 50)))  # 20 Mb/s
    base = report.baseline
    assert load_of(base, "ring-lorient-quimper", "quimper->lorient") == pytest.approx(10)
    assert load_of(base, "ring-quimper-brest", "quimper->brest") == pytest.approx(10)
    assert load_of(base, "ring-saint-brieuc-rennes", "saint-brieuc->rennes") == pytest.approx(10)
    assert load_of(base, "ring-rennes-vannes", "vannes->rennes") == pytest.approx(10)
    assert load_of(base, "up-internet-ft", "rennes->internet-ft") == pytest.approx(20)
    # Without the primary exit, Quimper goes to Brest directly (10 < 40).
    backup = result(report, "link:up-internet-ft")
    assert load_of(backup, "ring-quimper-brest", "quimper->brest") == pytest.approx(20)
    assert load_of(backup, "up-internet-neuf", "brest->internet-neuf") == pytest.approx(20)


def test_equal_cost_paths_are_counted_across_parallel_links(network_copy: NetworkCopy) -> None:
    """Saint-Malo to Brest, ring at cost 40 both ways: 2 links x 2 directions = 4 paths."""
    network_copy.edit(
        "topology/links.yaml", "b: rennes,       role: ring, capacity_mbps: 2000, metric: 10",
        "b: rennes,       role: ring, capacity_mbps: 2000, metric: 20",
    )  # fmt: skip
    report = run_audit(load(network_copy, schools("saint-malo", 10, 200)))  # 40 Mb/s
    res = result(report, "link:up-internet-ft")
    for link in ("ext-rennes-saint-malo-a", "ext-rennes-saint-malo-b"):
        assert load_of(res, link, "saint-malo->rennes") == pytest.approx(20)
    assert load_of(res, "ring-saint-brieuc-rennes", "rennes->saint-brieuc") == pytest.approx(20)
    assert load_of(res, "ring-rennes-vannes", "rennes->vannes") == pytest.approx(20)
    assert load_of(res, "up-internet-neuf", "brest->internet-neuf") == pytest.approx(40)


# --- report ----------------------------------------------------------------


def test_results_are_sorted_worst_first(network_copy: NetworkCopy) -> None:
    results = run_audit(load(with_single_renater(network_copy)), depth=2).results
    flags = [r.has_violation for r in results]
    assert flags == sorted(flags, reverse=True)
    assert results[0].has_violation
    clean = [r for r in results if not r.has_violation]
    cut = [(r.pops_cut, r.sites_cut) for r in clean]
    assert cut == sorted(cut, reverse=True)
    assert clean[0].pops_cut >= 7  # e.g. Rennes down: the rest cut off Renater
    assert not clean[-1].findings


def test_to_dict_is_json_ready_and_deterministic(network_copy: NetworkCopy) -> None:
    net = load(with_single_renater(network_copy))
    first = run_audit(net, depth=2).to_dict()
    second = run_audit(net, depth=2).to_dict()
    assert json.dumps(first, sort_keys=False) == json.dumps(second, sort_keys=False)
    assert first["scenarios"] == 406
    assert first["passed"] is False
    assert {"scenario", "kind", "severity", "detail", "sites_affected"} <= set(
        first["violations"][0]
    )
    assert first["violations"][0]["scenario"] == "link:up-renater"
    worst = first["worst_link_utilisation"]
    assert {"link", "utilisation", "scenario"} <= set(worst)
    assert len(first["results"]) == 406


# --- the naive yardstick ---------------------------------------------------


@pytest.mark.parametrize("tight", [False, True], ids=["shipped", "tight-ring"])
def test_fast_and_naive_agree_at_depth_2(network_copy: NetworkCopy, tight: bool) -> None:
    if tight:  # so that over-capacity findings are compared too
        network_copy.edit(
            "topology/links.yaml", "b: rennes,       role: ring, capacity_mbps: 2000",
            "b: rennes,       role: ring, capacity_mbps: 3",
        )  # fmt: skip
    net = load(network_copy, SITES[::10])
    report = run_audit(net, depth=2)
    naive = naive_audit(net, enumerate_scenarios(net.topology, 2))
    fast = {r.scenario.name: r for r in report.results}
    assert [m for n in naive for m in compare(fast[n.scenario], n)] == []
    naive_violation = any(("violation", k) in n.verdicts for n in naive for k in
                          ("internet-cut", "renater-cut", "over-capacity"))  # fmt: skip
    assert report.passed is not naive_violation
    kinds = {f.kind for r in report.results for f in r.findings}
    assert (FindingKind.OVER_CAPACITY in kinds) is tight
