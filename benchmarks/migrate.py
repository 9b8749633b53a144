"""Benchmark: sites migrated per minute on the lab, in waves against one deploy per site.

On a copy of the shipped model (3000 legacy sites, their allocations made):

1. the same 300 sites (spread over every PoP) migrated in waves of 50, then
   (after a rollback, not timed) in one wave of 300;
2. the baseline: sites migrated one deploy per site (a wave of one each),
   timed on the first ``PER_SITE_SAMPLE`` of those 300 (the rate holds: each
   is the same transaction on a router of the same size);
3. the target: the full 3000 sites, planned in waves of 300 (no calendar
   limit: the lab has no night shift), all migrated; under 20 minutes?

Each migration is the real one (``migrate.Wave``): reconcile, pre-check by
SNMP, allocate, one commit-confirm deploy per wave on every PE at once,
verification of each site by SNMP, inventory and journal written.

Needs root and the lab's packages (scripts/install-system); takes ~20 min.
Run: sudo .venv/bin/python benchmarks/migrate.py
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from megalis_net.migrate import Files, Journal, Routers, RunOptions, Wave
from megalis_net.migrate.plan import Constraints, plan_migration
from megalis_net.model import Network

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = 300
PER_SITE_SAMPLE = 30
TARGET_MINUTES = 20.0


def megalis(model: Path, *args: str) -> None:
    env = {
        **os.environ,
        "MEGALIS_TOPOLOGY": str(model / "topology"),
        "MEGALIS_INVENTORY": str(model / "inventory"),
        "MEGALIS_STATE": str(model / "state"),
    }
    subprocess.run([str(ROOT / ".venv/bin/megalis-net"), *args], check=True, env=env,
                   stdout=subprocess.DEVNULL)  # fmt: skip


def spread(network: Network, count: int) -> list[str]:
    """``count`` legacy sites taken from every PoP in turn (as a plan would)."""
    by_pop: dict[str, list[str]] = {}
    for site in sorted(network.sites, key=lambda s: s.id):
        by_pop.setdefault(site.pop, []).append(site.id)
    chosen: list[str] = []
    while len(chosen) < count:
        for ids in by_pop.values():
            if ids and len(chosen) < count:
                chosen.append(ids.pop(0))
    return chosen


class Migration:
    """Waves run one after the other on a model, with one journal."""

    def __init__(self, model: Path) -> None:
        self.files = Files(model / "topology", model / "inventory")
        self.routers = Routers(model / "inventory", in_lab=True)
        self.journal = Journal(model / "state" / "migrate.sqlite")
        self.next_wave = 1

    def waves(self, waves: Sequence[Sequence[str]], action: str = "run") -> float:
        """Seconds to run (or roll back) these waves; every site must succeed."""
        started = time.perf_counter()
        for sites in waves:
            number, self.next_wave = self.next_wave, self.next_wave + 1
            result = Wave(self.journal, self.files, self.routers, number, list(sites),
                          RunOptions(verify_timeout=60)).run()  # fmt: skip
            if not result.ok:
                failed = [s for s in result.sites if s.reason]
                sys.exit(f"wave {number}: {len(failed)} sites failed, e.g. {failed[0]}")
        return time.perf_counter() - started

    def close(self) -> None:
        self.journal.db.close()


def reset(model: Path, pristine: Path) -> Migration:
    """Back to before any migration (not timed): the inventory, no journal, the
    routers and the lab's site links as the inventory has them (no site)."""
    shutil.rmtree(model / "inventory")
    shutil.copytree(pristine, model / "inventory")
    shutil.rmtree(model / "state", ignore_errors=True)
    megalis(model, "deploy", "--lab")
    megalis(model, "lab", "up")
    return Migration(model)


def chunks(items: Sequence[str], size: int) -> list[Sequence[str]]:
    return [items[i : i + size] for i in range(0, len(items), size)]


def rate(sites: int, seconds: float) -> float:
    return sites / seconds * 60


def main() -> int:
    if os.geteuid() != 0:
        sys.exit("the lab needs root: sudo .venv/bin/python benchmarks/migrate.py")
    rows: list[tuple[str, int, int, float]] = []
    with tempfile.TemporaryDirectory(prefix="megalis-bench-") as tmp:
        model = Path(tmp)
        shutil.copytree(ROOT / "topology", model / "topology")
        shutil.copytree(ROOT / "inventory", model / "inventory")
        pristine = model / "pristine"
        shutil.copytree(ROOT / "inventory", pristine)
        megalis(model, "lab", "down")
        megalis(model, "lab", "up")
        try:
            migration = Migration(model)
            network, _ = migration.files.load()
            sample = spread(network, SAMPLE)
            for size in (50, 300):
                seconds = migration.waves(chunks(sample, size))
                rows.append((f"waves of {size}", SAMPLE, len(chunks(sample, size)), seconds))
                print(f"{rows[-1][0]}: {seconds:.1f} s", flush=True)
                migration.close()
                migration = reset(model, pristine)
            per_site = sample[:PER_SITE_SAMPLE]
            seconds = migration.waves(chunks(per_site, 1))
            rows.append(("one deploy per site", len(per_site), len(per_site), seconds))
            print(f"one deploy per site: {seconds:.1f} s", flush=True)
            migration.close()
            migration = reset(model, pristine)
            plan = plan_migration(network, Constraints(per_pop=300, per_wave=300,
                                                       waves_per_window=100, budget=3000))  # fmt: skip
            waves = [w.sites for w in plan.waves]
            seconds = migration.waves(waves)
            rows.append(("all 3000, waves of 300", sum(map(len, waves)), len(waves), seconds))
            migration.close()
        finally:
            megalis(model, "lab", "down")
    baseline = rate(rows[2][1], rows[2][3])
    print(
        f"\n{'scenario':<24} {'sites':>6} {'waves':>6} {'seconds':>8} {'sites/min':>10} {'ratio':>7}"
    )
    for name, sites, waves_count, seconds in rows:
        per_min = rate(sites, seconds)
        print(f"{name:<24} {sites:>6} {waves_count:>6} {seconds:>8.1f} {per_min:>10.1f}"
              f" {per_min / baseline:>6.1f}x")  # fmt: skip
    total_min = rows[3][3] / 60
    verdict = "met" if total_min < TARGET_MINUTES else "MISSED"
    print(f"\nfull migration: {rows[3][1]} sites in {total_min:.1f} min"
          f" (target < {TARGET_MINUTES:g} min: {verdict})")  # fmt: skip
    return 0 if total_min < TARGET_MINUTES else 1


if __name__ == "__main__":
    raise SystemExit(main())
