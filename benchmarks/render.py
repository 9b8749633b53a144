"""Benchmark: rendering every PE config of the full model, against the plain Nornir way.

Run from the repository root::

    .venv/bin/python benchmarks/render.py

For each platform (FRR, IOS-XR, Junos), on the shipped 3000-site model:

- ours: ``build_intents`` then ``render_all`` (one cached Jinja2 environment
  per platform, templates compiled once);
- plain Nornir: the same intents, rendered by a ``nornir_jinja2``
  ``template_file`` task per host through Nornir's threaded runner, the way
  a Nornir user writes it: the task builds a Jinja2 environment (and so
  compiles the templates) for every host. It gets an environment with our
  options (``lstrip_blocks`` too) so that both produce the same bytes,
  which is checked: exit 1 on any difference.

Best of 5 runs each. Then the wall time of ``megalis-net site add`` (and
``site remove``) on a copy of the full inventory, as an engineer runs it:
a new process each time, best of 5.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

import jinja2
from nornir import InitNornir
from nornir.core.task import Result, Task
from nornir_jinja2.plugins.tasks import template_file  # type: ignore[import-untyped]

from megalis_net.intent import DeviceIntent, build_intents
from megalis_net.ipam import Allocations, load_allocations
from megalis_net.loader import load_network
from megalis_net.model import Network, Platform, SiteStatus
from megalis_net.render import ENTRY, environment, render_all

ROOT = Path(__file__).resolve().parents[1]
RUNS = 5
TARGET_ALL_PLATFORMS_S = 2.0
TARGET_SITE_ADD_S = 1.0
SITE_ADD = (
    *("site", "add", "--name", "Benchmark", "--pop", "brest", "--community", "research"),
    *("--rate", "100M", "--l2-renater"),
)


def best_of(runs: int, work: Callable[[], Any]) -> tuple[float, float, Any]:
    """(best, first, result): the first run is cold (nothing cached in this process)."""
    times, result = [], None
    for _ in range(runs):
        started = time.perf_counter()
        result = work()
        times.append(time.perf_counter() - started)
    return min(times), times[0], result


def ours(network: Network, allocations: Allocations, platform: Platform) -> dict[str, str]:
    return render_all(build_intents(network, allocations, platform))


def fresh_environment(platform: Platform) -> jinja2.Environment:
    """A new environment, as template_file builds per host (ours is cached)."""
    fresh: jinja2.Environment = environment.__wrapped__(platform)
    return fresh


def nornir_render(task: Task, intents: dict[str, DeviceIntent], platform: Platform) -> Result:
    result: Result = template_file(
        task,
        template=ENTRY,
        jinja_env=fresh_environment(platform),
        device=intents[task.host.name],
    )
    return result


def plain_nornir(intents: dict[str, DeviceIntent], platform: Platform) -> dict[str, str]:
    nr = InitNornir(config_file=str(ROOT / "nornir_config.yaml"))
    results = nr.run(task=nornir_render, intents=intents, platform=platform)
    failed = [host for host, result in results.items() if result.failed]
    if failed:
        raise SystemExit(f"Nornir failed on {failed}: {results[failed[0]].exception}")
    return {host: str(result[0].result) for host, result in results.items()}


def render_table(network: Network, allocations: Allocations) -> bool:
    print(
        f"{'platform':9} {'ours s':>7} {'(cold)':>7} {'intent s':>9} {'Nornir s':>9}"
        f" {'ratio':>7} {'ratio all':>9}  same bytes"
    )
    total = cold_total = 0.0
    all_same = True
    for platform in Platform:
        ours_s, cold_s, configs = best_of(RUNS, partial(ours, network, allocations, platform))
        intent_s, _, intents = best_of(RUNS, partial(build_intents, network, allocations, platform))
        nornir_s, _, baseline = best_of(RUNS, partial(plain_nornir, intents, platform))
        same = baseline == configs
        all_same &= same
        total += ours_s
        cold_total += cold_s
        print(
            f"{platform.value:9} {ours_s:7.3f} {cold_s:7.3f} {intent_s:9.3f} {nornir_s:9.3f}"
            f" {nornir_s / (ours_s - intent_s):6.1f}x {nornir_s / ours_s:8.1f}x"
            f"  {'yes' if same else 'NO'}"
        )
    print(
        f"all three platforms, intent + render: {total:.3f} s best, {cold_total:.3f} s cold"
        f" (target < {TARGET_ALL_PLATFORMS_S} s)"
    )
    print(
        "ratio = plain Nornir render / our render alone (the baseline gets the intents for free);"
        " ratio all = plain Nornir render / our intent + render"
    )
    return all_same


def cli_seconds(inventory: Path, *args: str) -> float:
    command = [str(ROOT / ".venv" / "bin" / "megalis-net"), "--inventory", str(inventory), *args]
    started = time.perf_counter()
    subprocess.run(command, cwd=ROOT, check=True, capture_output=True)
    return time.perf_counter() - started


def migrated(sites: Path) -> None:
    """The shipped sites wait on Mégalis I: time the network they make once migrated."""
    sites.write_text(sites.read_text(encoding="utf-8").replace(",legacy\n", ",active\n"))


def site_add_times() -> tuple[float, float]:
    with tempfile.TemporaryDirectory() as tmp:
        inventory = Path(tmp) / "inventory"
        shutil.copytree(ROOT / "inventory", inventory)
        migrated(inventory / "sites.csv")
        adds, removes = [], []
        for _ in range(RUNS):
            adds.append(cli_seconds(inventory, *SITE_ADD))
            removes.append(cli_seconds(inventory, "site", "remove", "Benchmark"))
        return min(adds), min(removes)


def main() -> int:
    network = load_network(ROOT / "topology", ROOT / "inventory").with_status(SiteStatus.ACTIVE)
    allocations = load_allocations(ROOT / "inventory")
    print(f"model: {len(network.sites)} sites, {len(network.devices)} PE routers, best of {RUNS}")
    same = render_table(network, allocations)
    add_s, remove_s = site_add_times()
    print(
        f"megalis-net site add: {add_s:.3f} s, site remove: {remove_s:.3f} s"
        f" (whole process, target < {TARGET_SITE_ADD_S} s)"
    )
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
