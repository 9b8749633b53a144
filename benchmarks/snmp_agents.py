"""Benchmark: poll 3000 simulated CPE agents (snmpsim on loopback) with the poller.

Needs the ``bench`` extra (snmpsim, and pysmi which snmpsim uses without
declaring it)::

    .venv/bin/pip install -e '.[dev,bench]'
    .venv/bin/python benchmarks/snmp_agents.py             # 3000 agents, ~1 minute
    .venv/bin/python benchmarks/snmp_agents.py --profile   # + where the poller's time goes

One snmpsim process answers on 127.0.0.1 for every agent: one data file, so
one SNMPv2c community, per CPE, each with a small IF-MIB (``--interfaces``
rows of the poller's 9 columns). The poller polls all of them (v2c, the
v1arch path), best of ``--runs``, after one untimed poll that warms
snmpsim's per-file state; the target is all 3000 in under 15 s. net-snmp is
timed on a sample run one agent after the other, one ``snmpbulkget`` of the
9 columns per agent (``snmpbulkwalk`` walks only one column per process),
and extrapolated to every agent; the sample's rows must equal the poller's.

Both share the machine's cores with the simulator, which takes about as much
CPU per agent as the client: the figure is the pair's, not the poller's alone.
As root, snmpsim insists on ``--process-user/--process-group``; it is given
root's own, because after dropping privileges it cannot import from a Python
under /root (LAB.md).
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from megalis_net.lab.netsnmp import Table, credential_args, parse, row_of
from megalis_net.snmp import COLUMNS, Agent, AgentPoll, PollSettings, V2c, poll

TARGET_SECONDS = 15.0
RESPONDER = Path(sys.executable).parent / "snmpsim-command-responder"
INSTALL = ".venv/bin/pip install -e '.[dev,bench]'"

# snmprec type tags: 2 INTEGER, 4 OCTET STRING, 66 Gauge32, 65 Counter32, 70 Counter64
NAMES = ("lo", "wan0", "lan0", "tun0", "lan1", "lan2", "lan3", "lan4")


def community(n: int) -> str:
    return f"cpe-{n:05d}"


def snmprec(n: int, interfaces: int) -> str:
    """One CPE's data file: its interface table, in OID order."""
    records: list[tuple[tuple[int, ...], int, str]] = []
    for index in range(1, interfaces + 1):
        name = NAMES[(index - 1) % len(NAMES)] + ("" if index <= len(NAMES) else str(index))
        values = (
            (4, name),
            (4, f"{community(n)} {name}"),
            (2, "1"),
            (2, "2" if index == interfaces and n % 7 == 0 else "1"),  # some links down
            (66, "1000" if index > 1 else "0"),
            (70, str(n * 1000 + index)),
            (70, str(n * 2000 + index)),
            (65, str(index - 1)),
            (65, "0"),
        )
        for column, (kind, value) in zip(COLUMNS, values, strict=True):
            records.append(((*column, index), kind, value))
    records.sort()
    return "".join(f"{'.'.join(map(str, oid))}|{kind}|{value}\n" for oid, kind, value in records)


class Simulator:
    """snmpsim processes on 127.0.0.1:``port`` and up, one data file per agent.

    One process is single-threaded and takes more CPU per agent than the
    poller: with ``processes=2`` the agents are dealt over two of them (two
    ports), so that the simulator can use both cores as the poller does.
    """

    def __init__(self, agents: int, interfaces: int, port: int, processes: int) -> None:
        self.port = port
        self.processes = processes
        self.root = Path(tempfile.mkdtemp(prefix="megalis-snmpsim-"))
        self.children: list[subprocess.Popen[bytes]] = []
        for n in range(1, agents + 1):
            data = self.root / f"data-{self.port_of(n)}"
            data.mkdir(exist_ok=True)
            (data / f"{community(n)}.snmprec").write_text(snmprec(n, interfaces))

    def port_of(self, n: int) -> int:
        return self.port + (n - 1) % self.processes

    def start(self) -> None:
        for port in range(self.port, self.port + self.processes):
            command = [
                str(RESPONDER),
                f"--data-dir={self.root / f'data-{port}'}",
                f"--cache-dir={self.root / f'cache-{port}'}",
                f"--agent-udpv4-endpoint=127.0.0.1:{port}",
                "--logging-method=null",  # one log line per request otherwise
            ]
            if os.geteuid() == 0:
                command += ["--process-user=root", "--process-group=root"]
            log = (self.root / f"snmpsim-{port}.log").open("wb")
            self.children.append(subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT))

    def wait_ready(self, agents: list[Agent], timeout: float = 300) -> float:
        """Seconds until the last agent of each process answers (snmpsim indexes
        every data file before it listens)."""
        started = time.perf_counter()
        waiting = {agent.port: agent for agent in agents}  # the last one of each port
        while waiting and time.perf_counter() - started < timeout:
            for child in self.children:
                if child.poll() is not None:
                    logs = [p.read_text(errors="replace") for p in self.root.glob("*.log")]
                    raise SystemExit("snmpsim exited:\n" + "\n".join(log[-1000:] for log in logs))
            answers = poll(list(waiting.values()), PollSettings(timeout=0.5, retries=0))
            waiting = {a.port: a for a in waiting.values() if not answers[a.host].ok}
        if waiting:
            raise SystemExit(f"snmpsim did not answer within {timeout:g} s")
        return time.perf_counter() - started

    def cpu_seconds(self) -> float:
        """User + system CPU the simulator processes have used so far."""
        ticks = os.sysconf("SC_CLK_TCK")
        total = 0.0
        for child in self.children:
            fields = Path(f"/proc/{child.pid}/stat").read_text().rpartition(")")[2].split()
            total += (int(fields[11]) + int(fields[12])) / ticks  # utime, stime
        return total

    def stop(self) -> None:
        for child in self.children:
            child.terminate()  # our own children, by their PIDs
        for child in self.children:
            child.wait(timeout=10)
        shutil.rmtree(self.root, ignore_errors=True)


@dataclass
class Run:
    seconds: float
    client_cpu: float  # seconds of this process's CPU
    simulator_cpu: float


def timed_polls(
    agents: list[Agent], settings: PollSettings, runs: int, simulator: Simulator
) -> Run:
    """The fastest of ``runs`` polls of every agent; exits if any agent failed."""
    best: Run | None = None
    for _ in range(runs):
        cpu, simulated, started = time.process_time(), simulator.cpu_seconds(), time.perf_counter()
        results = poll(agents, settings)
        run = Run(
            time.perf_counter() - started,
            time.process_time() - cpu,
            simulator.cpu_seconds() - simulated,
        )
        failed = [r.error for r in results.values() if not r.ok]
        if failed:
            raise SystemExit(f"{len(failed)} agents failed, first: {failed[0]}")
        if best is None or run.seconds < best.seconds:
            best = run
    assert best is not None
    return best


def snmpbulkget(agent: Agent, interfaces: int) -> Table:
    """The 9 columns of one agent in one snmpbulkget; ifIndex → values."""
    command = [
        "snmpbulkget", *credential_args(agent.credentials), "-Cn0", f"-Cr{interfaces}",
        "-On", "-Oq", "-Ox", f"{agent.address}:{agent.port}",
        *("." + ".".join(map(str, column)) for column in COLUMNS),
    ]  # fmt: skip
    output = subprocess.run(
        command, capture_output=True, text=True, check=True, env={**os.environ, "MIBS": ""}
    ).stdout
    table: Table = {}
    for position, column in enumerate(COLUMNS):
        for index, value in parse(output, column):
            table.setdefault(index, [None] * len(COLUMNS))[position] = value
    return table


def net_snmp_sample(agents: list[Agent], interfaces: int, results: dict[str, AgentPoll]) -> float:
    """Seconds per agent for sequential snmpbulkget; exits if its rows differ from the poller's."""
    started = time.perf_counter()
    tables = {agent.host: snmpbulkget(agent, interfaces) for agent in agents}
    per_agent = (time.perf_counter() - started) / len(agents)
    for agent in agents:
        ours = {i.index: row_of(i) for i in results[agent.host].interfaces}
        if ours != tables[agent.host]:
            raise SystemExit(f"{agent.host}: poller {ours} != snmpbulkget {tables[agent.host]}")
    return per_agent


def profile(agents: list[Agent], settings: PollSettings) -> None:
    profiler = cProfile.Profile()
    profiler.enable()
    poll(agents, settings)
    profiler.disable()
    print("\nWhere the poller's time goes (one warm poll, cProfile, by own time):")
    pstats.Stats(profiler, stream=sys.stdout).sort_stats("tottime").print_stats(15)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--agents", type=int, default=3000)
    parser.add_argument("--interfaces", type=int, default=4, help="per CPE (default 4)")
    parser.add_argument("--port", type=int, default=11161, help="snmpsim's first UDP port")
    parser.add_argument("--simulators", type=int, default=2, help="snmpsim processes (default 2)")
    parser.add_argument("--runs", type=int, default=3, help="best of N (default 3)")
    parser.add_argument("--sample", type=int, default=200, help="agents timed with net-snmp")
    parser.add_argument(
        "--concurrency", type=int, default=PollSettings().concurrency,
        help=f"agents at once (default {PollSettings().concurrency})",
    )  # fmt: skip
    parser.add_argument("--timeout", type=float, default=3.0, help="seconds per try (default 3)")
    parser.add_argument(
        "--first-repetitions", type=int,
        help="rows of every column in an agent's first request (default: interfaces + 1,"
        " the whole table and its end in one answer)",
    )  # fmt: skip
    parser.add_argument("--profile", action="store_true", help="cProfile one warm poll")
    args = parser.parse_args()
    if not RESPONDER.exists():
        print(f"snmpsim is not installed: {INSTALL}", file=sys.stderr)
        return 2

    simulator = Simulator(args.agents, args.interfaces, args.port, args.simulators)
    agents = [
        Agent(community(n), "127.0.0.1", V2c(community(n)), simulator.port_of(n))
        for n in range(1, args.agents + 1)
    ]
    # A simulator is one single-threaded process for many agents: past its
    # capacity requests queue up in it, so the timeout is longer than for one
    # real CPE (retries of queued requests only add load).
    settings = PollSettings(
        timeout=args.timeout,
        concurrency=args.concurrency,
        first_repetitions=args.first_repetitions or args.interfaces + 1,
    )
    try:
        simulator.start()
        ready = simulator.wait_ready(agents)
        print(
            f"{args.agents} snmpsim agents in {args.simulators} processes on 127.0.0.1"
            f" ({ready:.1f} s to start)"
        )
        print(f"{args.interfaces} interfaces x {len(COLUMNS)} columns each; poller: {settings}")
        warm = poll(agents, settings)  # snmpsim opens each agent's data on first use
        run = timed_polls(agents, settings, args.runs, simulator)
        sample = agents[:: max(1, len(agents) // args.sample)][: args.sample]
        per_agent = net_snmp_sample(sample, args.interfaces, warm)
        if args.profile:
            profile(agents, settings)
    finally:
        simulator.stop()

    report(run, len(agents), args.runs, per_agent, len(sample))
    return 0 if run.seconds < TARGET_SECONDS else 1


def report(run: Run, count: int, runs: int, per_agent: float, sampled: int) -> None:
    theirs = per_agent * count
    verdict = "met" if run.seconds < TARGET_SECONDS else "MISSED"
    print(f"\npoller, all {count} agents, best of {runs}:")
    print(f"  {run.seconds:.2f} s, {count / run.seconds:.0f} agents/s", end=" ")
    print(f"(target < {TARGET_SECONDS:g} s: {verdict})")
    print(
        f"  CPU per agent: poller {run.client_cpu / count * 1000:.2f} ms,"
        f" snmpsim {run.simulator_cpu / count * 1000:.2f} ms ({os.cpu_count()} cores for both)"
    )
    print(f"net-snmp snmpbulkget one agent after the other, {sampled} agents timed:")
    print(f"  {per_agent * 1000:.1f} ms per agent, {1 / per_agent:.0f} agents/s")
    print(f"  extrapolated to {count} agents: {theirs:.1f} s")
    print(f"poller is {theirs / run.seconds:.1f}x the speed of sequential snmpbulkget")
    print(f"the sample's rows are the same in both: yes ({sampled} agents)")


if __name__ == "__main__":
    sys.exit(main())
