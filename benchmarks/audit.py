"""Benchmark: the redundancy audit against the plain networkx method.

Run from the repository root::

    .venv/bin/python benchmarks/audit.py           # ~2 minutes
    .venv/bin/python benchmarks/audit.py --full    # naive in full everywhere (~7 minutes)

Two models in one process: the shipped one (``inventory/sites.csv``: Mégalis
I's 3000 sites) and a generated 30,000-site one. For each, the fast audit runs
at depth 1 and 2 (best of 3) and so does the naive method (``naive_audit.py``),
on every scenario, except the 30,000-site pairs where, without ``--full``, it
runs on every 10th pair and its time is extrapolated (the table says so).
Every scenario the naive method ran is compared with the fast audit: same
verdicts, same cut PoPs, loads within 1e-6 Mb/s. Exit 1 on any mismatch.
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass
from pathlib import Path

from naive_audit import compare, max_load_difference, naive_audit

from megalis_net.audit import AuditReport, enumerate_scenarios, run_audit
from megalis_net.generator import generate_sites
from megalis_net.loader import load_network
from megalis_net.model import Network

ROOT = Path(__file__).resolve().parents[1]
PAIR_STRIDE = 10
"""Without --full, the naive method runs every 10th pair on the 30,000-site model."""


@dataclass
class NaiveTimes:
    depth1: float
    depth2: float
    ran: int
    extrapolated: bool
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


def models() -> list[tuple[str, Network, bool]]:
    """(label, network, sample the naive pairs?) for each case."""
    shipped = load_network(ROOT / "topology", ROOT / "inventory")
    big = shipped.model_copy(update={"sites": tuple(generate_sites(shipped.topology, 30_000, 1))})
    return [("shipped sites.csv", shipped, False), ("generated, seed 1", big, True)]


def run_naive(network: Network, report: AuditReport, sample_pairs: bool) -> NaiveTimes:
    """The naive method on every single failure and every (or every 10th) pair."""
    scenarios = enumerate_scenarios(network.topology, 2)
    singles = [s for s in scenarios if s.depth == 1]
    pairs = [s for s in scenarios if s.depth == 2]
    chosen = pairs[::PAIR_STRIDE] if sample_pairs else pairs
    results = naive_audit(network, singles + chosen)
    seconds = {r.scenario: r.setup_seconds + r.sites_seconds for r in results}
    depth1 = sum(seconds[s.name] for s in singles)
    pair_time = sum(seconds[s.name] for s in chosen) * len(pairs) / len(chosen)
    fast = {r.scenario.name: r for r in report.results}
    mismatches = [m for n in results for m in compare(fast[n.scenario], n)]
    difference = max(max_load_difference(fast[n.scenario], n) for n in results)
    return NaiveTimes(
        depth1, depth1 + pair_time, len(results), sample_pairs, mismatches, difference
    )


def print_case(label: str, network: Network, sample_pairs: bool) -> list[str]:
    """Print the case's two rows; return the mismatches between the methods."""
    fast1, report1 = best_of(3, network, 1)
    fast2, report2 = best_of(3, network, 2)
    naive = run_naive(network, report2, sample_pairs)
    for depth, fast, report, slow in (
        (1, fast1, report1, naive.depth1),
        (2, fast2, report2, naive.depth2),
    ):
        mark = "*" if depth == 2 and naive.extrapolated else " "
        print(
            f"{label:<20} {len(network.sites):>6} {depth:>5} {report.scenario_count:>5} "
            f"{fast:>9.4f} {slow:>10.1f}{mark} {slow / fast:>9.0f}x  {report.passed!s:<6} "
            f"{len(report.violations):>5} {len(report.warnings):>5}"
        )
    agree = "agree" if not naive.mismatches else f"DISAGREE ({len(naive.mismatches)})"
    print(
        f"  fast and naive {agree} on the {naive.ran} scenarios the naive method ran; "
        f"largest load difference {naive.max_difference:.1e} Mb/s"
    )
    return naive.mismatches


def main(full: bool) -> int:
    header = (
        f"{'model':<20} {'sites':>6} {'depth':>5} {'scen.':>5} {'fast s':>9} {'naive s':>11} "
        f"{'ratio':>10}  {'passed':<6} {'viol.':>5} {'warn.':>5}"
    )
    print(header)
    print("-" * len(header))
    failures = []
    for label, network, sample_pairs in models():
        failures += print_case(label, network, sample_pairs and not full)
    if not full:
        print(
            f"* naive time extrapolated from every {PAIR_STRIDE}th pair (run with --full to time all)"
        )
    for failure in failures:
        print("MISMATCH", failure)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main("--full" in sys.argv[1:]))
