"""``migrate run|rollback|status`` on the lab: 300 of the shipped legacy sites,
planned in waves, migrated onto the routers and verified by SNMP.

One lab for the module, in order: every wave migrates and verifies; a second
run changes nothing; a rollback puts the inventory back byte for byte and a
re-run gives the same allocations; a site whose link stays down fails alone
and is rolled back while the rest of its wave goes on; and a run killed with
SIGKILL at random points, then resumed, ends exactly where an uninterrupted
run ends.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import sqlite3
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from megalis_net.intent import NAMING, PortRole
from megalis_net.ipam import SITE_ALLOCATIONS_FILE
from megalis_net.model import Platform, SiteStatus
from tests.conftest import MEGALIS_NET, ROOT, LabModel, require_lab_machine
from tests.test_deploy import running_configs

pytestmark = [pytest.mark.lab, pytest.mark.slow]

SITES = 300
# snmpd re-reads the interface table every few seconds (LAB.md): a new unit
# shows within this, and a failing one is given up on after it
VERIFY_TIMEOUT = "30"


def legacy_model(root: Path) -> LabModel:
    """The shipped routers with the first ``SITES`` shipped sites, all legacy, none allocated."""
    shutil.copytree(ROOT / "topology", root / "topology")
    shutil.copytree(ROOT / "inventory", root / "inventory")
    lines = (ROOT / "inventory" / "sites.csv").read_text(encoding="utf-8").splitlines()
    (root / "inventory" / "sites.csv").write_text("\n".join(lines[: SITES + 1]) + "\n")
    (root / "inventory" / SITE_ALLOCATIONS_FILE).unlink()
    return LabModel(root / "topology", root / "inventory")


def inventory_files(model: LabModel) -> dict[str, bytes]:
    return {
        name: (model.inventory / name).read_bytes()
        for name in ("sites.csv", SITE_ALLOCATIONS_FILE)
        if (model.inventory / name).exists()
    }


@dataclass
class Migrated:
    model: LabModel
    waves: list[int]
    plan: Any
    before_wave: dict[int, dict[str, bytes]]  # the inventory just before each wave ran
    after: dict[str, bytes]
    configs: dict[str, str]


def plan(model: LabModel) -> Any:
    done = model.cli(
        "migrate", "plan", "--start", "2007-04-02", "--per-pop", "40", "--per-wave", "100",
        "--budget", "300", "--json",
    )  # fmt: skip
    return json.loads(done.stdout)


def run(
    model: LabModel, *waves: int, check: bool = True, extra: tuple[str, ...] = ()
) -> tuple[int, list[Any]]:
    args = [a for w in waves for a in ("--wave", str(w))]
    done = model.cli(
        "migrate", "run", *args, "--lab", "--json", "--verify-timeout", VERIFY_TIMEOUT, *extra,
        check=False, timeout=900,
    )  # fmt: skip
    if check:
        assert done.returncode == 0, done.stderr + done.stdout[-3000:]
    return done.returncode, json.loads(done.stdout) if done.stdout.strip() else []


def rollback(model: LabModel, wave: int) -> list[Any]:
    done = model.cli(
        "migrate", "rollback", "--wave", str(wave), "--lab", "--json",
        "--verify-timeout", VERIFY_TIMEOUT, timeout=900,
    )  # fmt: skip
    return list(json.loads(done.stdout))


def status(model: LabModel) -> Any:
    return json.loads(model.cli("migrate", "status", "--json").stdout)


def outcomes(results: list[Any]) -> dict[str, str]:
    return {s["site"]: s["outcome"] for r in results for s in r["sites"]}


def verify_sites(model: LabModel) -> dict[str, bool]:
    """{site id: fine} for every site unit ``verify`` checks on the lab."""
    done = model.cli("verify", "--lab", "--json", "--interval", "0", check=False, timeout=300)
    report = json.loads(done.stdout)
    return {i["site_id"]: i["state"] == "fine" for i in report["interfaces"] if i["kind"] == "site"}


@pytest.fixture(scope="module")
def migrated(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Migrated]:
    require_lab_machine()
    model = legacy_model(tmp_path_factory.mktemp("migrate"))
    model.cli("lab", "down", check=False)
    model.cli("lab", "up")
    document = plan(model)
    waves = [w["wave"] for w in document["waves"]]
    before: dict[int, dict[str, bytes]] = {}
    results = []
    for wave in waves:
        before[wave] = inventory_files(model)
        results += run(model, wave)[1]
    yield Migrated(model, waves, document, before, inventory_files(model), running_configs())
    model.cli("lab", "down", check=False)


def test_every_planned_site_is_migrated_and_verified_up(migrated: Migrated) -> None:
    model = migrated.model
    planned = [s for w in migrated.plan["waves"] for s in w["sites"]]
    assert len(planned) == len(set(planned)) == SITES
    network, allocations = model.network()
    assert {s.id for s in network.sites if s.status is SiteStatus.ACTIVE} == set(planned)
    assert set(allocations.sites) == set(planned)
    fine = verify_sites(model)
    assert set(fine) == set(planned)
    assert all(fine.values()), [s for s, ok in fine.items() if not ok][:5]
    report = status(model)
    assert report["problems"] == []
    assert {w: c.get("done", 0) for w, c in report["waves"].items()} == {
        str(w["wave"]): len(w["sites"]) for w in migrated.plan["waves"]
    }


def test_a_second_run_of_the_same_waves_changes_nothing(migrated: Migrated) -> None:
    model = migrated.model
    # planned again: nothing left to plan, the waves that ran are the journal's
    assert plan(model)["waves"] == []
    code, results = run(model, *migrated.waves)
    assert code == 0
    assert set(outcomes(results).values()) == {"already migrated"}
    assert not any(r["routers_changed"] for r in results)
    assert {r["outcome"] for result in results for r in result["routers"]} == {"unchanged"}
    assert inventory_files(model) == migrated.after
    assert running_configs() == migrated.configs


def test_a_rolled_back_wave_leaves_the_inventory_as_before_it(migrated: Migrated) -> None:
    model, wave = migrated.model, migrated.waves[-1]
    sites = next(w["sites"] for w in migrated.plan["waves"] if w["wave"] == wave)
    results = rollback(model, wave)
    assert set(outcomes(results).values()) == {"rolled back"}
    assert inventory_files(model) == migrated.before_wave[wave]
    fine = verify_sites(model)
    assert not set(fine) & set(sites)  # none of its units is left on a router
    assert len(fine) == SITES - len(sites) and all(fine.values())
    # again: the journal gives back the allocations it gave, the routers the same config
    run(model, wave)
    assert inventory_files(model) == migrated.after
    assert running_configs() == migrated.configs


def test_a_site_that_fails_verification_is_rolled_back_and_the_wave_goes_on(
    migrated: Migrated,
) -> None:
    model, wave = migrated.model, migrated.waves[0]
    sites = next(w["sites"] for w in migrated.plan["waves"] if w["wave"] == wave)
    network, allocations = model.network()
    victim = next(s for s in network.sites if s.id == sites[len(sites) // 2])
    # the unit its CPE plugs into (its allocation comes back the same after the rollback)
    alloc, naming = allocations.sites[victim.id], NAMING[Platform.FRR]
    unit = naming.sub(naming.port(PortRole.ACCESS, alloc.port), alloc.vlan)
    device = next(d.name for d in network.devices if d.pop == victim.pop)
    rollback(model, wave)
    model.cli("lab", "hold", device, unit)
    try:
        # asked to stop at the first failure: nothing of the wave is migrated (the
        # allocations stay reserved for the next run)
        before = inventory_files(model)["sites.csv"]
        code, results = run(model, wave, check=False, extra=("--stop-on-error",))
        assert code == 1
        stopped = outcomes(results)
        assert stopped.pop(victim.id) == "failed"
        assert set(stopped.values()) == {"failed"}
        assert inventory_files(model)["sites.csv"] == before
        assert not set(verify_sites(model)) & set(sites)
        code, results = run(model, wave, check=False)
    finally:
        model.cli("lab", "release", device, unit)
    assert code == 1
    got = outcomes(results)
    assert got.pop(victim.id) == "failed"
    assert set(got.values()) == {"migrated"}
    reason = next(s["reason"] for s in results[0]["sites"] if s["site"] == victim.id)
    assert unit in reason and "oper down" in reason
    network, _ = model.network()
    assert next(s for s in network.sites if s.id == victim.id).status is SiteStatus.LEGACY
    assert victim.id not in verify_sites(model)  # rolled back: nothing of it on its router
    # its CPE plugged in: the same wave picks it up, and only it
    code, results = run(model, wave)
    assert outcomes(results)[victim.id] == "migrated"
    assert inventory_files(model) == migrated.after
    assert running_configs() == migrated.configs


def journal_events(path: Path) -> int:
    """Batches written so far (one per step, phase and moment)."""
    if not path.exists():
        return 0
    try:
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=1) as db:
            row = db.execute("SELECT count(*) FROM (SELECT DISTINCT step, phase, at FROM steps)")
            return int(row.fetchone()[0])
    except sqlite3.Error:
        return 0


def killed_run(model: LabModel, waves: list[int], after_events: int | None, after_s: float) -> int:
    """Start ``migrate run`` of ``waves``; SIGKILL it once the journal has grown by
    ``after_events`` batches (or after ``after_s`` seconds); its exit code."""
    journal = model.state / "migrate.sqlite"
    start = journal_events(journal)
    args = [a for w in waves for a in ("--wave", str(w))]
    process = subprocess.Popen(
        [str(MEGALIS_NET), "migrate", "run", *args, "--lab", "--json",
         "--verify-timeout", VERIFY_TIMEOUT],
        env=model.env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    began = time.monotonic()
    while process.poll() is None:
        grown = journal_events(journal) - start
        if (after_events is not None and grown >= after_events) or (
            after_events is None and time.monotonic() - began >= after_s
        ):
            os.kill(process.pid, signal.SIGKILL)
            break
        time.sleep(0.02)
    return process.wait(timeout=900)


def test_runs_killed_at_random_points_end_as_an_uninterrupted_run(
    migrated: Migrated, tmp_path: Path
) -> None:
    model = legacy_model(tmp_path)
    # the routers back to before the migration: no site on them, no site link
    model.cli("deploy", "--lab", "--json", timeout=600)
    model.cli("lab", "up")
    assert plan(model) == migrated.plan  # the same waves as the uninterrupted run
    rng = random.Random(7)
    kills = [(rng.randint(1, 30), 0.0) for _ in range(5)] + [
        (None, rng.uniform(3.0, 12.0)) for _ in range(3)
    ]
    codes = [killed_run(model, migrated.waves, events, seconds) for events, seconds in kills]
    assert codes.count(-signal.SIGKILL) >= 5, codes
    code, _ = run(model, *migrated.waves)
    assert code == 0
    assert inventory_files(model) == migrated.after
    assert running_configs() == migrated.configs
    report = status(model)
    assert report["problems"] == []
    assert sum(c.get("done", 0) for c in report["waves"].values()) == SITES
    with sqlite3.connect(model.state / "migrate.sqlite") as db:
        interrupted = db.execute("SELECT count(*) FROM runs WHERE outcome = 'interrupted'")
        assert interrupted.fetchone()[0] == codes.count(-signal.SIGKILL)
