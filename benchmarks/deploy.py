"""Benchmark: the lab at 3000 sites, and a deploy in parallel against one router at a time.

Run from the repository root, as root (it builds the lab; any lab already up
is taken down first)::

    .venv/bin/python benchmarks/deploy.py

On a copy of the shipped model (3000 sites):

1. ``lab up`` of the whole lab with every site attached (routers start with
   their rendered configs), timed; then its memory footprint: the lab
   processes' RSS and PSS, and the kernel memory the namespaces took
   (MemAvailable before and after).
2. A deploy that changes every router: the lab starts without one site in
   ten; deploying the full model adds them back (~300 sites, 8 routers).
   - parallel: one ``deploy`` of all routers (Nornir, one thread per router);
   - one by one: the same change, router after router (the model is put back
     without those sites in between, by a deploy that is not timed).
   Target: the parallel deploy takes at most 1.5x the slowest single router.
"""

from __future__ import annotations

import csv
import io
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from megalis_net import lab
from megalis_net.deploy import DeployReport, Target, deploy
from megalis_net.intent import build_intents
from megalis_net.ipam import load_allocations
from megalis_net.loader import load_network
from megalis_net.model import Platform
from megalis_net.render import render_all

ROOT = Path(__file__).resolve().parents[1]
TARGET_RATIO = 1.5
EVERY = 10  # one site in EVERY is missing from the starting lab


def megalis(model: Path, *args: str) -> None:
    env = {
        "MEGALIS_TOPOLOGY": str(model / "topology"),
        "MEGALIS_INVENTORY": str(model / "inventory"),
    }
    subprocess.run(
        [str(ROOT / ".venv/bin/megalis-net"), *args],
        check=True,
        env={**env, "PATH": "/usr/sbin:/usr/bin:/sbin:/bin"},
        stdout=subprocess.DEVNULL,
    )


def thinned(model: Path, target: Path) -> Path:
    """A copy of ``model`` without one site in EVERY (allocations kept: same addresses)."""
    shutil.copytree(model, target)
    sites = target / "inventory" / "sites.csv"
    rows = list(csv.reader(io.StringIO(sites.read_text(encoding="utf-8"))))
    kept = [rows[0]] + [row for n, row in enumerate(rows[1:]) if n % EVERY]
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(kept)
    sites.write_text(out.getvalue(), encoding="utf-8")
    return target


def configs_of(model: Path) -> dict[str, str]:
    network = load_network(model / "topology", model / "inventory")
    return render_all(build_intents(network, load_allocations(model / "inventory"), Platform.FRR))


def targets() -> list[Target]:
    return [
        Target(host, r.address, "frr", r.username, "", {"key_file": str(r.key_file)})
        for host, r in sorted(lab.access().items())
    ]


def timed_deploy(chosen: list[Target], configs: dict[str, str]) -> tuple[float, DeployReport]:
    started = time.monotonic()
    report = deploy(chosen, configs, confirm_timeout=600, check_timeout=300)
    elapsed = time.monotonic() - started
    if not report.ok:
        failed = [f"{d.host}: {d.error}" for d in report.all if d.error]
        sys.exit(f"deploy failed: {failed}")
    return elapsed, report


def mem_available_kib() -> int:
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemAvailable:"):
            return int(line.split()[1])
    raise RuntimeError("no MemAvailable in /proc/meminfo")


def lab_process_memory() -> tuple[int, int, int]:
    """(processes, RSS KiB, PSS KiB) of the FRR, sshd and snmpd of the lab."""
    count = rss = pss = 0
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            cmdline = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            if "mgx-" not in cmdline and "/run/megalis-net/lab" not in cmdline:
                continue
            for line in (proc / "smaps_rollup").read_text().splitlines():
                if line.startswith("Rss:"):
                    rss += int(line.split()[1])
                elif line.startswith("Pss:"):
                    pss += int(line.split()[1])
            count += 1
        except OSError:
            continue
    return count, rss, pss


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="megalis-bench-") as tmp:
        full = Path(tmp) / "full"
        (full).mkdir()
        shutil.copytree(ROOT / "topology", full / "topology")
        shutil.copytree(ROOT / "inventory", full / "inventory")
        sites = full / "inventory" / "sites.csv"  # the shipped sites, as once migrated
        sites.write_text(sites.read_text(encoding="utf-8").replace(",legacy\n", ",active\n"))
        start = thinned(full, Path(tmp) / "start")
        megalis(full, "lab", "down")
        time.sleep(2)
        available = mem_available_kib()
        began = time.monotonic()
        megalis(full, "lab", "up")
        lab_up = time.monotonic() - began
        processes, rss, pss = lab_process_memory()
        kernel = available - mem_available_kib() - pss
        print(f"lab up, 3000 sites, 8 PEs, 3 providers, 8 access namespaces: {lab_up:.1f} s")
        print(
            f"memory: {processes} processes, RSS {rss / 1024:.0f} MiB, PSS {pss / 1024:.0f} MiB;"
            f" kernel and the rest ~{kernel / 1024:.0f} MiB (MemAvailable drop less PSS)"
        )
        try:
            full_configs, start_configs = configs_of(full), configs_of(start)
            everyone = targets()
            print("waiting for the lab to converge, then putting it on the thinned model")
            timed_deploy(everyone, start_configs)
            parallel, report = timed_deploy(everyone, full_configs)
            changed = [d.host for d in report.all if d.diff]
            added = sum(d.diff_counts[0] for d in report.all)
            print(f"parallel deploy, {len(changed)} routers, +{added} lines: {parallel:.1f} s")
            timed_deploy(everyone, start_configs)
            singles = {}
            for target in everyone:
                singles[target.host], _ = timed_deploy([target], full_configs)
                print(f"  {target.host}: {singles[target.host]:.1f} s")
            slowest = max(singles.values())
            total = sum(singles.values())
            print(
                f"one by one: {total:.1f} s in all, slowest {slowest:.1f} s;"
                f" parallel / slowest = {parallel / slowest:.2f}x (target <= {TARGET_RATIO}x),"
                f" one by one / parallel = {total / parallel:.1f}x"
            )
            verdict = parallel <= TARGET_RATIO * slowest
        finally:
            megalis(full, "lab", "down")
        if not verdict:
            sys.exit(1)


if __name__ == "__main__":
    main()
