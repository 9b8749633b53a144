"""Benchmark: the NAPALM FRR driver on a full-size PE config (needs root and FRR).

Run from the repository root::

    .venv/bin/python benchmarks/napalm_frr.py [--device pe-rennes]

Builds the lab from the shipped 3000-site model (``lab up``: every router's
config written before its FRR starts, the way to load a big config cold;
any lab already up is taken down first), then times through the driver over
SSH to one router, each step once as a deploy does it:

- load + compare + commit of the running config itself (nothing to do);
- one site removed, then added back (a ``site remove`` / ``site add``);
- every site removed (thousands of deleted lines: the case frr-reload.py
  alone takes many minutes on), then ``rollback`` (all of them added back).

After each commit the running config must equal the candidate (exit 1 if not).
"""

from __future__ import annotations

import argparse
import difflib
import re
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import napalm

from megalis_net import lab
from megalis_net.intent import build_intents
from megalis_net.ipam import load_allocations
from megalis_net.lab import plan_lab
from megalis_net.loader import load_network
from megalis_net.model import Platform, SiteStatus
from megalis_net.napalm_frr import FrrDriver
from megalis_net.render import render_all

ROOT = Path(__file__).resolve().parents[1]
T = TypeVar("T")


def timed(label: str, work: Callable[[], T]) -> T:
    started = time.perf_counter()
    result = work()
    print(f"{label:<52} {time.perf_counter() - started:7.2f} s", flush=True)
    return result


def site_interfaces(config: str) -> list[str]:
    """Access interfaces with an address: one per site."""
    return re.findall(r"^interface (acc\S+)\n(?: description .*\n)? ip address ", config, re.M)


def without_sites(config: str, interfaces: list[str]) -> str:
    """``config`` without these sites: their interface, static route and VPNv4 route."""
    for name in interfaces:
        block = re.search(
            rf"^interface {re.escape(name)}\n(?:(?!exit\n).*\n)*exit\n!\n", config, re.M
        )
        assert block is not None, name
        address = re.search(r" ip address (\d+\.\d+\.\d+)\.(\d+)/31", block[0])
        assert address is not None, name
        peer = f"{address[1]}.{int(address[2]) + 1}"
        lans = re.findall(rf"^ip route (\S+) {re.escape(peer)}\n", config, re.M)
        config = config.replace(block[0], "")
        config = re.sub(rf"^ip route \S+ {re.escape(peer)}\n", "", config, flags=re.M)
        for lan in lans:
            config = re.sub(rf"^  network {re.escape(lan)} rd .*\n", "", config, flags=re.M)
    return config.replace("!\n!\n", "!\n")  # a section left empty


def commit(driver: FrrDriver, label: str, candidate: str) -> None:
    timed(f"{label}: load", lambda: driver.load_replace_candidate(config=candidate))
    diff = timed(f"{label}: compare", driver.compare_config)
    print(f"{'':<4}diff: {len(diff.splitlines())} lines")
    timed(f"{label}: commit", driver.commit_config)
    check(driver, candidate)


def check(driver: FrrDriver, expected: str, wait: float = 0) -> None:
    """Exit 1 unless the running config is ``expected`` (within ``wait`` seconds)."""
    deadline = time.monotonic() + wait
    while (running := driver.get_config(retrieve="running")["running"]) != expected:
        if time.monotonic() > deadline:
            diff = difflib.unified_diff(expected.splitlines(), running.splitlines(), lineterm="")
            print("\n".join(list(diff)[:40]))
            sys.exit(f"the running config differs from the candidate on {driver.hostname}")
        time.sleep(1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="pe-rennes")
    device = parser.parse_args().device
    network = load_network(ROOT / "topology", ROOT / "inventory").with_status(SiteStatus.ACTIVE)
    allocations = load_allocations(ROOT / "inventory")
    intents = build_intents(network, allocations, Platform.FRR)
    full = render_all(intents)[device]
    sites = site_interfaces(full)
    names = [n for n in re.findall(r"^interface (\S+)$", full, re.M) if n != "lo"]
    print(f"{device}: {len(full.splitlines())} lines, {len(sites)} sites, {len(names)} interfaces")

    plan = plan_lab(network, allocations)
    lab.down()
    try:
        timed("lab up (configs written before FRR starts)", lambda: lab.up(plan))
        router = lab.access()[device]
        driver = napalm.get_network_driver("frr")(
            router.address, "root", "", optional_args={"key_file": str(router.key_file)}
        )
        timed("open", driver.open)
        timed("FRR settled on its config", lambda: check(driver, full, wait=120))
        commit(driver, "same config (nothing to do)", full)
        commit(driver, "one site removed", without_sites(full, sites[:1]))
        commit(driver, "one site added back", full)
        commit(driver, f"all {len(sites)} sites removed", without_sites(full, sites))
        timed(f"rollback (all {len(sites)} sites back)", driver.rollback)
        check(driver, full)
        driver.close()
    finally:
        lab.down()


if __name__ == "__main__":
    main()
