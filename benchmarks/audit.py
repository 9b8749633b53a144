"""Benchmark: the redundancy audit against the naive networkx method.

Run from the repository root::

    .venv/bin/python benchmarks/audit.py

Two cases in one process: the shipped model (``inventory/sites.csv``, or 3000
generated sites while that file is empty) and a generated 30,000-site model.
For each, the fast audit runs at depth 1 and 2 (best of 3) and the naive
method (``naive_audit.py``) runs on a fixed sample of scenarios; on the big
model it also routes only a fixed stride of the sites (the graph keeps them
all, so the cost per site is the real one). Its time is extrapolated to every
scenario and site, and the table says so. The two methods are compared on
every sampled scenario: same verdicts, same cut PoPs, loads within 1e-6 Mb/s
(on the big model, against a fast run over the same sampled sites).
"""

from __future__ import annotations

import statistics
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from naive_audit import NaiveResult, compare, max_load_difference, naive_audit

from megalis_net.audit import AuditReport, Scenario, enumerate_scenarios, run_audit
from megalis_net.generator import generate_sites
from megalis_net.loader import load_devices, load_topology
from megalis_net.model import Network, Site
from megalis_net.sites import read_sites

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = (
    "link:ext-rennes-saint-malo-a",
    "pop:rennes",
    "link:up-renater",
    "link:ring-rennes-vannes + srlg:duct-rennes-north",
)
"""The naive method's scenarios: a parallel link, a PoP, an exit, a split ring."""


@dataclass
class Case:
    label: str
    network: Network
    site_stride: int


@dataclass
class NaiveRun:
    results: list[NaiveResult]
    seconds_per_scenario: float
    note: str
    mismatches: list[str]
    max_difference: float


def best_of(runs: int, network: Network, depth: int) -> tuple[float, AuditReport]:
    """Shortest wall time of ``runs`` audits, and the last report."""
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        report = run_audit(network, depth)
        times.append(time.perf_counter() - started)
    return min(times), report


def cases() -> list[Case]:
    loaded = load_topology(ROOT / "topology").topology
    devices = tuple(load_devices(ROOT / "inventory")[0])
    shipped, _, problems = read_sites(ROOT / "inventory" / "sites.csv")
    label = "shipped sites.csv"
    if problems or not shipped:
        shipped, label = generate_sites(loaded, 3000, seed=1), "generated (sites.csv empty)"
    big = generate_sites(loaded, 30_000, seed=1)
    return [
        Case(label, Network(topology=loaded, devices=devices, sites=tuple(shipped)), 1),
        Case(
            "generated (seed 1)", Network(topology=loaded, devices=devices, sites=tuple(big)), 150
        ),
    ]


def run_naive(case: Case, sample: Sequence[Scenario]) -> NaiveRun:
    """Naive on the sample; check it against the fast audit on the same sites."""
    sites: Sequence[Site] = case.network.sites[:: case.site_stride]
    results = naive_audit(case.network, sample, sites)
    sub = case.network.model_copy(update={"sites": tuple(sites)})
    fast = {r.scenario.name: r for r in run_audit(sub, depth=2).results}
    mismatches = [m for n in results for m in compare(fast[n.scenario], n)]
    difference = max(max_load_difference(fast[n.scenario], n) for n in results)
    scale = len(case.network.sites) / len(sites)
    per_scenario = statistics.mean(n.setup_seconds + n.sites_seconds * scale for n in results)
    note = f"{len(sample)} scenarios x {len(sites)} of {len(case.network.sites)} sites"
    return NaiveRun(results, per_scenario, note, mismatches, difference)


HEADER = (
    f"{'case':<28} {'sites':>6} {'depth':>5} {'scen.':>5} {'fast s':>8} "
    f"{'naive s (extrap.)':>17} {'speed-up':>9}  {'passed':<6} {'viol.':>5} {'warn.':>5}"
)


def bench_case(case: Case) -> list[str]:
    """Print the case's rows; return the mismatches between the methods."""
    by_name = {s.name: s for s in enumerate_scenarios(case.network.topology, 2)}
    naive = run_naive(case, [by_name[name] for name in SAMPLE])
    for depth in (1, 2):
        seconds, report = best_of(3, case.network, depth)
        naive_seconds = naive.seconds_per_scenario * report.scenario_count
        print(
            f"{case.label:<28} {len(case.network.sites):>6} {depth:>5} "
            f"{report.scenario_count:>5} {seconds:>8.4f} {naive_seconds:>17.1f} "
            f"{naive_seconds / seconds:>8.0f}x  {report.passed!s:<6} "
            f"{len(report.violations):>5} {len(report.warnings):>5}"
        )
    measured = sum(n.setup_seconds + n.sites_seconds for n in naive.results)
    agree = "agree" if not naive.mismatches else f"DISAGREE ({len(naive.mismatches)})"
    how = "measured" if case.site_stride == 1 else "extrapolated to every site"
    print(
        f"  naive run: {naive.note}, {measured:.1f} s in all; "
        f"{naive.seconds_per_scenario:.1f} s per scenario ({how})"
    )
    print(f"  fast and naive {agree} on: {', '.join(SAMPLE)}")
    print(f"  largest load difference between them: {naive.max_difference:.2e} Mb/s")
    return naive.mismatches


def main() -> int:
    print(HEADER)
    print("-" * len(HEADER))
    failures = [m for case in cases() for m in bench_case(case)]
    print(
        "naive s is extrapolated: mean time per sampled scenario (per-site work scaled "
        "to all sites) x number of scenarios; the naive method was not run in full."
    )
    for failure in failures:
        print("MISMATCH", failure)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
