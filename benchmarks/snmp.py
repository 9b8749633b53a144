"""Benchmark: the IF-MIB poller against net-snmp's snmpbulkwalk, agent by agent.

Run from the repository root, as root, with the lab up (read-only GETBULKs)::

    .venv/bin/python benchmarks/snmp.py                  # every lab router, v2c
    .venv/bin/python benchmarks/snmp.py --v3             # every lab router, v3 authPriv
    .venv/bin/python benchmarks/snmp.py --agent 198.18.200.2:COMMUNITY   # a stand-in
    .venv/bin/python benchmarks/snmp.py --profile        # + where the poller's time goes

The poller reads the 9 columns of ``COLUMNS`` from every agent at once
(multi-column GETBULK, agents concurrently). The C tool reads the same 9
columns one agent after the other: ``snmpbulkwalk`` 5.9 walks only the first
OID it is given, so that is one process per column and agent (``-Cr50``,
numeric OIDs, ``MIBS=``); 9 process start-ups per agent are part of its time.

snmpd caches its interface table for ~3 s and a rebuild at 3000 interfaces
costs ~0.75 s, so one untimed poll warms every agent before each timed run.
Both tools must see the same interfaces with the same names, aliases and
statuses (counters move, so they are only counted): exit 1 otherwise.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from megalis_net.lab.lab import STATE_DIR, access
from megalis_net.lab.netsnmp import Table, row_of, walk_table
from megalis_net.snmp import COLUMNS, V3, Agent, AgentPoll, PollSettings, V2c, poll

STABLE = (0, 1, 2, 3, 4)  # ifName, ifAlias, ifAdminStatus, ifOperStatus, ifHighSpeed


@dataclass
class Timing:
    seconds: float
    rows: int

    @property
    def rate(self) -> float:
        return self.rows / self.seconds


def lab_agents(state_dir: Path, v3: bool) -> list[Agent]:
    return [
        Agent(host, router.address, router.snmp_v3 if v3 else V2c(router.snmp_community))
        for host, router in sorted(access(state_dir).items())
    ]


def given_agents(specs: list[str]) -> list[Agent]:
    agents = []
    for spec in specs:
        address, _, community = spec.partition(":")
        if not community:
            raise SystemExit(f"--agent {spec}: expected ADDRESS:COMMUNITY")
        agents.append(Agent(address, address, V2c(community)))
    return agents


def best_of(runs: int, warm: Callable[[], object], timed: Callable[[], int]) -> Timing:
    best: Timing | None = None
    for _ in range(runs):
        warm()
        started = time.perf_counter()
        rows = timed()
        timing = Timing(time.perf_counter() - started, rows)
        if best is None or timing.seconds < best.seconds:
            best = timing
    assert best is not None
    return best


def poller_rows(results: dict[str, AgentPoll]) -> int:
    failed = [r.error for r in results.values() if not r.ok]
    if failed:
        raise SystemExit("poller: " + "; ".join(str(e) for e in failed))
    return sum(len(r.interfaces) for r in results.values()) * len(COLUMNS)


def mismatches(agent: Agent, polled: AgentPoll, walked: Table) -> list[str]:
    """What differs between the poller's rows and snmpbulkwalk's, for one agent."""
    ours = {i.index: [row_of(i)[c] for c in STABLE] for i in polled.interfaces}
    theirs = {index: [values[c] for c in STABLE] for index, values in walked.items()}
    problems = []
    if set(ours) != set(theirs):
        only = sorted(set(ours) ^ set(theirs))[:5]
        problems.append(f"{agent.host}: different ifIndexes (first: {only})")
    for index in sorted(set(ours) & set(theirs)):
        if ours[index] != theirs[index]:
            problems.append(f"{agent.host} ifIndex {index}: {ours[index]} != {theirs[index]}")
    return problems


def profile(agents: list[Agent], settings: PollSettings) -> None:
    poll(agents, settings)  # warm
    profiler = cProfile.Profile()
    profiler.enable()
    poll(agents, settings)
    profiler.disable()
    print("\nWhere the poller's time goes (one warm poll, cProfile, by own time):")
    pstats.Stats(profiler, stream=sys.stdout).sort_stats("tottime").print_stats(20)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--agent",
        action="append",
        default=[],
        metavar="ADDRESS:COMMUNITY",
        help="poll this agent (v2c) instead of the lab's routers; repeatable",
    )
    parser.add_argument(
        "--lab-state",
        type=Path,
        default=STATE_DIR,
        help=f"the lab's state directory (default {STATE_DIR}, or $MEGALIS_LAB_DIR)",
    )
    parser.add_argument("--v3", action="store_true", help="lab mode: SNMPv3 authPriv, both tools")
    parser.add_argument("--runs", type=int, default=5, help="best of N (default 5)")
    parser.add_argument("--max-repetitions", type=int, default=PollSettings().max_repetitions)
    parser.add_argument("--concurrency", type=int, default=PollSettings().concurrency)
    parser.add_argument("--profile", action="store_true", help="cProfile one warm poll")
    args = parser.parse_args()

    agents = given_agents(args.agent) if args.agent else lab_agents(args.lab_state, args.v3)
    settings = PollSettings(max_repetitions=args.max_repetitions, concurrency=args.concurrency)
    version = "v3 authPriv" if isinstance(agents[0].credentials, V3) else "v2c"
    print(f"{len(agents)} agents, {version}; poller: {settings}")
    print("snmpbulkwalk: -Cr50, one process per column and agent, one agent after the other")
    print("warming: one untimed poll before each timed run (snmpd caches IF-MIB ~3 s)")

    polled: dict[str, AgentPoll] = {}
    walked: dict[str, Table] = {}

    def run_poller() -> int:
        nonlocal polled
        polled = poll(agents, settings)
        return poller_rows(polled)

    def run_walks() -> int:
        nonlocal walked
        walked = {agent.host: walk_table(agent.address, agent.credentials) for agent in agents}
        return sum(len(table) for table in walked.values()) * len(COLUMNS)

    ours = best_of(args.runs, lambda: poll(agents, settings), run_poller)
    theirs = best_of(args.runs, lambda: poll(agents, settings), run_walks)

    problems = [p for a in agents for p in mismatches(a, polled[a.host], walked[a.host])]
    print(f"\nbest of {args.runs}        seconds       rows     rows/s")
    print(f"poller (concurrent) {ours.seconds:9.3f} {ours.rows:10d} {ours.rate:10.0f}")
    print(f"snmpbulkwalk (seq.) {theirs.seconds:9.3f} {theirs.rows:10d} {theirs.rate:10.0f}")
    ratio = theirs.seconds / ours.seconds
    verdict = "met" if ratio >= 1 else "MISSED"
    print(f"poller is {ratio:.2f}x the speed of sequential snmpbulkwalk (target >= 1: {verdict})")
    for problem in problems[:20]:
        print("MISMATCH", problem)
    print(f"same interfaces, names, aliases and statuses: {'no' if problems else 'yes'}")
    if args.profile:
        profile(agents, settings)
    return 1 if problems or ours.rows != theirs.rows else 0


if __name__ == "__main__":
    sys.exit(main())
