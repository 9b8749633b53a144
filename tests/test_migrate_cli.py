"""``migrate run|rollback|status`` without routers: what they refuse, in one line, before
touching anything (the lab tests in test_migrate.py do the rest)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from megalis_net.cli.main import app
from megalis_net.ipam import (
    Allocations,
    allocate,
    allocation_slots,
    load_allocations,
    save_allocations,
    site_allocation_row,
)
from megalis_net.loader import load_network
from megalis_net.migrate import Files, Journal, Routers, SiteState, Step, Wave
from tests.conftest import NetworkCopy
from tests.test_cli import assert_one_line_errors

runner = CliRunner()


@pytest.fixture
def legacy(network_copy: NetworkCopy, monkeypatch: pytest.MonkeyPatch) -> NetworkCopy:
    """The small site fixture with two of its sites legacy, and a state folder of its own."""
    sites = network_copy.inventory / "sites.csv"
    lines = sites.read_text(encoding="utf-8").splitlines()
    lines[1] = lines[1].replace(",active", ",legacy")
    lines[3] = lines[3].replace(",active", ",legacy")  # not the hospital: one wave
    sites.write_text("\n".join(lines) + "\n", encoding="utf-8")
    monkeypatch.setenv("MEGALIS_STATE", str(network_copy.topology.parent / "state"))
    return network_copy


def run(copy: NetworkCopy, *args: str) -> Result:
    return runner.invoke(
        app, ["--topology", str(copy.topology), "--inventory", str(copy.inventory), *args]
    )


def state(copy: NetworkCopy) -> Path:
    return copy.topology.parent / "state"


def test_run_without_a_plan_says_to_plan_first(legacy: NetworkCopy) -> None:
    before = (legacy.inventory / "sites.csv").read_bytes()
    result = run(legacy, "migrate", "run", "--wave", "1")
    assert_one_line_errors(result, "migrate-plan.json", "megalis-net migrate plan")
    assert (legacy.inventory / "sites.csv").read_bytes() == before
    assert not (state(legacy) / "migrate.sqlite").exists()


def test_every_wave_asked_must_be_planned_before_any_runs(legacy: NetworkCopy) -> None:
    assert run(legacy, "migrate", "plan", "--json").exit_code == 0
    planned = json.loads((state(legacy) / "migrate-plan.json").read_text())
    assert [w["wave"] for w in planned["waves"]] == [1]
    result = run(legacy, "migrate", "run", "--wave", "1", "--wave", "7")
    assert_one_line_errors(result, "--wave 7", "waves 1..1")
    assert not (state(legacy) / "migrate.sqlite").exists()  # wave 1 did not start either


def test_a_wave_number_must_be_positive(legacy: NetworkCopy) -> None:
    result = run(legacy, "migrate", "run", "--wave", "0")
    assert result.exit_code == 2 and "--wave" in result.stderr


def test_rollback_of_a_wave_that_never_ran(legacy: NetworkCopy) -> None:
    result = run(legacy, "migrate", "rollback", "--wave", "2")
    assert_one_line_errors(result, "wave 2 has not run")


def test_a_damaged_journal_is_one_line(legacy: NetworkCopy) -> None:
    state(legacy).mkdir()
    (state(legacy) / "migrate.sqlite").write_bytes(b"not a database" * 300)
    result = run(legacy, "migrate", "status")
    assert_one_line_errors(result, "migrate.sqlite", "cannot open the migration journal")


def test_status_counts_waves_and_pops_and_names_failures(legacy: NetworkCopy) -> None:
    assert run(legacy, "migrate", "plan").exit_code == 0
    wave = json.loads((state(legacy) / "migrate-plan.json").read_text())["waves"][0]
    first, second = wave["sites"]
    with Journal(state(legacy) / "migrate.sqlite") as journal:
        journal.start_run(1, "run")
        journal.start_wave(1, [(first, "rennes", False), (second, "rennes", False)])
        journal.fail(1, {second: "pe-rennes acc0.101: oper down"}, Step.VERIFY)
        journal.end_run("failed")
    result = run(legacy, "migrate", "status", "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["waves"] == {"1": {SiteState.PENDING.value: 1, SiteState.FAILED.value: 1}}
    assert report["failed"] == [
        {"site": second, "wave": 1, "reason": "pe-rennes acc0.101: oper down"}
    ]
    assert sum(c.get("legacy", 0) for c in report["pops"].values()) == 2
    assert report["problems"] == []
    table = run(legacy, "migrate", "status")
    assert "oper down" in table.stdout and second in table.stdout


def test_a_plan_made_after_waves_ran_goes_on_from_the_next_wave(legacy: NetworkCopy) -> None:
    sites = legacy.inventory / "sites.csv"
    lines = sites.read_text(encoding="utf-8").splitlines()
    lines[4] = lines[4].replace(",active", ",legacy")  # T-0004: three legacy sites, T-0001 migrated
    lines[1] = lines[1].replace(",legacy", ",active")
    sites.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with Journal(state(legacy) / "migrate.sqlite") as journal:
        journal.start_run(1, "run")
        journal.start_wave(1, [("T-0001", "rennes", False)])
        journal.end(1, ["T-0001"], Step.CONFIRM, SiteState.DONE)
        journal.end_run("ok")
        journal.start_run(2, "run")
        journal.start_wave(2, [("T-0003", "brest", False)])
        journal.fail(2, {"T-0003": "oper down"}, Step.VERIFY)
        journal.end_run("failed")
    result = run(legacy, "migrate", "plan")
    assert result.exit_code == 0, result.output
    assert "this plan goes on from wave 3" in result.stdout
    planned = json.loads((state(legacy) / "migrate-plan.json").read_text())
    # T-0003 stays in wave 2 (run it again, or roll it back); T-0004 is new
    assert [(w["wave"], w["sites"]) for w in planned["waves"]] == [(3, ["T-0004"])]
    assert_one_line_errors(run(legacy, "migrate", "run", "--wave", "9"), "the plan has waves 3..3")


def test_a_rolled_back_site_gets_its_allocation_back_unless_taken_since(
    legacy: NetworkCopy,
) -> None:
    """Rolled back, T-0001's allocation was freed; T-0003, migrated since, took its
    link /31. Running T-0001's wave again must not hand out that /31 twice."""
    network = load_network(legacy.topology, legacy.inventory)
    empty = Allocations()
    alone = {
        site: allocate(network.model_copy(update={"sites": (s,)}), empty).allocations
        for site, s in ((s.id, s) for s in network.sites if s.id in ("T-0001", "T-0003"))
    }
    freed, holder = alone["T-0001"].sites["T-0001"], alone["T-0003"].sites["T-0003"]
    assert allocation_slots(freed) & allocation_slots(holder)  # the clash to avoid
    inventory = Allocations(alone["T-0003"].loopbacks, alone["T-0003"].links, {"T-0003": holder})
    save_allocations(legacy.inventory, inventory)
    with Journal(state(legacy) / "migrate.sqlite") as journal:
        journal.start_run(1, "run")
        journal.start_wave(1, [("T-0001", "rennes", False)])
        journal.record_allocations(1, {"T-0001": site_allocation_row(freed)})
        journal.end(1, ["T-0001"], Step.ROLLBACK, SiteState.ROLLED_BACK)
        journal.end_run("ok")
        journal.start_run(1, "run")
        wave = Wave(journal, Files(legacy.topology, legacy.inventory),
                    Routers(legacy.inventory, in_lab=False), 1, ["T-0001"])  # fmt: skip
        records = {r.site: r for r in journal.sites(1)}
        result = wave._allocate(network, inventory, ["T-0001"], records)
        given = result.sites["T-0001"]
        assert not allocation_slots(given) & allocation_slots(holder)
        assert load_allocations(legacy.inventory).sites == {"T-0001": given, "T-0003": holder}
        assert journal.sites(1)[0].allocation == site_allocation_row(given)
        journal.end_run("ok")
        assert journal.problems(set(), {"T-0001": site_allocation_row(given)}) == []
