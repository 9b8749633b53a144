"""Benchmark: pushing the model into the local NetBox, against the naive ways.

Run from the repository root, with the local NetBox (it is emptied: every
phase that says "from empty" starts with ``scripts/netbox reset``)::

    .venv/bin/python benchmarks/netbox.py

Phases, in one run:

1. a 300-site subset of the shipped model, from empty: ``megalis-net netbox
   push`` (read in pages of 1000, diff, bulk writes) against the naive way,
   one pynetbox ``create`` per object (same objects, same order); target 2x;
2. the full 3000-site model, from empty: time and object count (target under
   15 minutes);
3. a no-op re-push of the full model (target under 30 s) against the naive
   check, one GET per object: timed on a fixed sample (every Nth object, by
   id, the cheapest GET there is) and extrapolated to every object; target 10x;
4. one site added to the pushed full model: only its objects are written,
   under 5 s.

Exit 1 when a target is missed.
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from megalis_net.ipam import Allocations, allocate, load_allocations
from megalis_net.loader import load_network
from megalis_net.model import Community, Departement, Network, Site, SiteKind, SiteStatus
from megalis_net.netbox import NetBox, Settings, sync
from megalis_net.netbox.desired import desired_state
from megalis_net.netbox.names import TAG
from megalis_net.netbox.plan import Action, Plan, plan
from megalis_net.netbox.read import read_snapshot
from megalis_net.netbox.sync import apply

ROOT = Path(__file__).resolve().parents[1]
SUBSET = 300
SAMPLE = 600  # objects GET one by one for the naive check
TARGET_SUBSET_RATIO = 2.0
TARGET_NOOP_S = 30.0
TARGET_NOOP_RATIO = 10.0
TARGET_ADD_S = 5.0
TARGET_FULL_S = 15 * 60.0

T = TypeVar("T")


@dataclass(frozen=True)
class Check:
    what: str
    ok: bool


def timed(work: Callable[[], T]) -> tuple[float, T]:
    started = time.perf_counter()
    result = work()
    return time.perf_counter() - started, result


def reset() -> None:
    """An empty NetBox: our database restored from the cached schema (not timed)."""
    done = subprocess.run([ROOT / "scripts" / "netbox", "reset"], capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(f"scripts/netbox reset failed:\n{done.stderr}")


def settings() -> Settings:
    env = subprocess.run(
        [ROOT / "scripts" / "netbox", "env"], check=True, capture_output=True, text=True
    ).stdout
    values = dict(line.removeprefix("export ").split("=", 1) for line in env.splitlines())
    return Settings(values["MEGALIS_NETBOX_URL"], values["MEGALIS_NETBOX_TOKEN"])


def subset(network: Network, allocations: Allocations, count: int) -> tuple[Network, Allocations]:
    sites = tuple(sorted(network.sites, key=lambda s: s.id)[:count])
    kept = {s.id for s in sites}
    site_allocations = {k: v for k, v in allocations.sites.items() if k in kept}
    return (
        replace_sites(network, sites),
        Allocations(allocations.loopbacks, allocations.links, site_allocations),
    )


def replace_sites(network: Network, sites: tuple[Site, ...]) -> Network:
    return network.model_copy(update={"sites": sites})


def naive_push(netbox: NetBox, network: Network, allocations: Allocations) -> int:
    """The naive way: no read, one create per object, in dependency order."""
    snapshot = read_snapshot(netbox)  # empty: only the ids of nothing
    todo = plan(desired_state(network, allocations), snapshot.state, TAG)
    apply(netbox, todo, snapshot, chunk=1, writers=1)
    return len(todo.changes)


def naive_check(netbox: NetBox, total: int) -> tuple[float, int]:
    """One GET per object, by id, on every Nth object; returns (extrapolated s, sample size)."""
    snapshot = read_snapshot(netbox)
    everything = [(e, i) for e, ids in snapshot.ids.items() for i in ids.values()]
    step = max(1, len(everything) // SAMPLE)
    sample = everything[::step][:SAMPLE]
    session = netbox.api.http_session
    started = time.perf_counter()
    for endpoint, ident in sample:
        url = f"{netbox.settings.url}/api/{endpoint.replace('.', '/')}/{ident}/"
        session.get(url, timeout=60).raise_for_status()
    per_get = (time.perf_counter() - started) / len(sample)
    return per_get * total, len(sample)


def one_more_site(network: Network, allocations: Allocations) -> tuple[Network, Allocations]:
    site = Site(
        id="BENCH-00001", name="Lycée de l'Iroise - Brest", kind=SiteKind.LYCEE,
        commune="Brest", departement=Departement.FINISTERE, latitude=48.40,
        longitude=-4.49, pop="brest", community=Community.EDUCATION, rate_mbps=50,
    )  # fmt: skip
    grown = replace_sites(network, (*network.sites, site))
    return grown, allocate(grown, allocations).allocations


def phase_subset(netbox: NetBox, network: Network, allocations: Allocations) -> list[Check]:
    small, small_allocations = subset(network, allocations, SUBSET)
    reset()
    naive_s, naive_objects = timed(lambda: naive_push(netbox, small, small_allocations))
    reset()
    ours_s, report = timed(lambda: sync(netbox, small, small_allocations))
    ratio = naive_s / ours_s
    print(f"1. {SUBSET}-site subset from empty ({len(report.plan.changes)} objects):")
    print(f"   ours {ours_s:.1f} s (read {report.read_seconds:.1f} s), naive one create per"
          f" object {naive_s:.1f} s ({naive_objects} creates): {ratio:.1f}x")  # fmt: skip
    return [Check(f"subset push >= {TARGET_SUBSET_RATIO}x naive", ratio >= TARGET_SUBSET_RATIO)]


def phase_full(netbox: NetBox, network: Network, allocations: Allocations) -> list[Check]:
    reset()
    full_s, report = timed(lambda: sync(netbox, network, allocations))
    objects = len(report.plan.changes)
    print(f"2. full model ({len(network.sites)} sites) from empty: {full_s:.0f} s"
          f" ({full_s / 60:.1f} min), {objects} objects, {objects / full_s:.0f} objects/s")  # fmt: skip
    return [Check("full push < 15 min", full_s < TARGET_FULL_S)]


def phase_noop(netbox: NetBox, network: Network, allocations: Allocations) -> list[Check]:
    noop_s, report = timed(lambda: sync(netbox, network, allocations))
    naive_s, sample = naive_check(netbox, report.read_objects)
    ratio = naive_s / noop_s
    print(f"3. no-op re-push of the full model: {noop_s:.1f} s, {len(report.plan.changes)}"
          f" changes, {report.read_objects} objects read in {report.read_seconds:.1f} s")  # fmt: skip
    print(f"   naive check (one GET per object) {naive_s:.0f} s, extrapolated from {sample}"
          f" GETs: {ratio:.1f}x")  # fmt: skip
    return [
        Check("no-op re-push writes nothing", not report.plan.changes),
        Check(f"no-op re-push < {TARGET_NOOP_S:.0f} s", noop_s < TARGET_NOOP_S),
        Check(f"no-op re-push >= {TARGET_NOOP_RATIO:.0f}x naive", ratio >= TARGET_NOOP_RATIO),
    ]


def phase_add(netbox: NetBox, network: Network, allocations: Allocations) -> list[Check]:
    grown, grown_allocations = one_more_site(network, allocations)
    add_s, report = timed(lambda: sync(netbox, grown, grown_allocations))
    written = _written(report.plan)
    print(f"4. one site added to the pushed full model: {add_s:.1f} s,"
          f" {len(report.plan.changes)} objects written: {written}")  # fmt: skip
    # Every write is a create that names the site (keys, descriptions, references).
    only_its_own = all(
        c.action is Action.CREATE and "bench-00001" in repr(c).lower() for c in report.plan.changes
    )
    return [
        Check(f"add one site < {TARGET_ADD_S:.0f} s", add_s < TARGET_ADD_S),
        Check("add one site writes only its objects", only_its_own and report.applied),
    ]


def _written(todo: Plan) -> str:
    counts = todo.counts()
    return ", ".join(f"{e.split('.')[1]} {sum(c.values())}" for e, c in counts.items())


def main() -> int:
    network = load_network(ROOT / "topology", ROOT / "inventory").with_status(SiteStatus.ACTIVE)
    allocations = load_allocations(ROOT / "inventory")
    netbox = NetBox(settings())
    print(f"NetBox {netbox.check()} at {netbox.settings.url}; every phase from empty resets it")
    checks = phase_subset(netbox, network, allocations)
    checks += phase_full(netbox, network, allocations)
    checks += phase_noop(netbox, network, allocations)
    checks += phase_add(netbox, network, allocations)
    for check in checks:
        print(f"   {'ok  ' if check.ok else 'MISS'} {check.what}")
    return 0 if all(c.ok for c in checks) else 1


if __name__ == "__main__":
    sys.exit(main())
