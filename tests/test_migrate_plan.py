"""``migrate plan``: waves within their limits, windows on the calendar, the ring
checked after each wave, the binding constraint, the plan file and the command.

Most cases run on the shipped 3000 legacy sites; cases that re-plan many times
(binding constraint, deadline) use the first 400 of them, a network of the same
shape that plans ten times faster.
"""

from __future__ import annotations

import json
import shutil
from collections import Counter, defaultdict
from datetime import date, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from megalis_net.cli.main import app
from megalis_net.errors import InputError, UsageError
from megalis_net.loader import load_network
from megalis_net.migrate.constraints import Constraints, load_constraints
from megalis_net.migrate.plan import (
    PLAN_FILE,
    Plan,
    plan_migration,
    read_plan,
    write_plan,
)
from megalis_net.migrate.waves import carried, ring_load
from megalis_net.migrate.windows import french_holidays
from megalis_net.model import Network, SiteKind, SiteStatus
from tests.conftest import ROOT, NetworkCopy

runner = CliRunner()

HOLIDAYS_2007 = {date(2007, 4, 9), date(2007, 5, 1), date(2007, 5, 8), date(2007, 5, 17),
                 date(2007, 5, 28)}  # fmt: skip


@pytest.fixture(scope="module")
def shipped() -> Network:
    return load_network(ROOT / "topology", ROOT / "inventory")


@pytest.fixture(scope="module")
def small(shipped: Network) -> Network:
    return shipped.model_copy(update={"sites": shipped.sites[:400]})


@pytest.fixture(scope="module")
def default_plan(shipped: Network) -> Plan:
    return plan_migration(shipped, Constraints())


def planned_ids(plan: Plan) -> list[str]:
    return [site for wave in plan.waves for site in wave.sites]


def sites_of(network: Network) -> dict[str, object]:
    return {site.id: site for site in network.sites}


def test_every_legacy_site_is_in_exactly_one_wave(shipped: Network, default_plan: Plan) -> None:
    ids = planned_ids(default_plan)
    assert len(ids) == len(set(ids)) == 3000
    assert set(ids) == {s.id for s in shipped.sites if s.status is SiteStatus.LEGACY}
    assert [w.number for w in default_plan.waves] == list(range(1, len(default_plan.waves) + 1))


@pytest.mark.parametrize(
    "limits",
    [{}, {"per_pop": 7, "per_wave": 25, "budget": 60}, {"per_pop": 30, "per_wave": 50}],
    ids=["defaults", "tight", "loose"],
)
def test_per_pop_and_per_wave_limits_hold_in_every_wave(
    shipped: Network, default_plan: Plan, limits: dict[str, int]
) -> None:
    constraints = Constraints(**limits)
    plan = plan_migration(shipped, constraints) if limits else default_plan
    pop_of = {s.id: s.pop for s in shipped.sites}
    for wave in plan.waves:
        assert len(wave.sites) <= constraints.per_wave, wave.number
        per_pop = Counter(pop_of[i] for i in wave.sites)
        assert max(per_pop.values()) <= constraints.per_pop, wave.number
        assert dict(wave.per_pop) == per_pop
    # Spread over the PoPs: the first wave fills up to the per-wave limit.
    assert len(plan.waves[0].sites) == min(constraints.per_wave, constraints.budget)


def test_active_sites_are_never_planned(shipped: Network) -> None:
    active = {s.id for s in shipped.sites[::3]}
    network = shipped.with_status(SiteStatus.ACTIVE, active)
    ids = set(planned_ids(plan_migration(network, Constraints())))
    assert not ids & active
    assert len(ids) == 3000 - len(active)


def test_hospitals_have_their_own_waves_and_windows(shipped: Network, default_plan: Plan) -> None:
    kind_of = {s.id: s.kind for s in shipped.sites}
    windows: dict[datetime | None, set[str | None]] = defaultdict(set)
    for wave in default_plan.waves:
        kinds = {kind_of[i] for i in wave.sites}
        if wave.kind == "hopital":
            assert kinds == {SiteKind.HOPITAL}, wave.number
        else:
            assert wave.kind is None and SiteKind.HOPITAL not in kinds, wave.number
        windows[wave.window_start].add(wave.kind)
    assert all(len(kinds) == 1 for kinds in windows.values())
    hospitals = sum(len(w.sites) for w in default_plan.waves if w.kind == "hopital")
    assert hospitals == sum(1 for s in shipped.sites if s.kind is SiteKind.HOPITAL)
    # A night of general waves proves the procedure before the first hospital.
    assert default_plan.waves[0].kind is None


def test_hospitals_join_the_others_without_own_windows(small: Network) -> None:
    plan = plan_migration(small, Constraints(own_window_kinds=()))
    assert all(wave.kind is None for wave in plan.waves)


def test_no_window_on_friday_weekend_or_holiday(default_plan: Plan) -> None:
    assert french_holidays(2007).keys() >= HOLIDAYS_2007
    for wave in default_plan.waves:
        assert wave.window_start is not None and wave.window_end is not None
        assert wave.window_start.weekday() <= 3, wave  # Monday..Thursday
        assert wave.window_start.time().isoformat() == "22:00:00"
        assert (wave.window_end - wave.window_start).total_seconds() == 8 * 3600
        assert wave.window_start.date() not in HOLIDAYS_2007
        assert wave.window_end.date() not in HOLIDAYS_2007
    starts = {w.window_start.date() for w in default_plan.waves if w.window_start}
    # The night before 1 May ends on the holiday; the Monday after Easter is one.
    assert date(2007, 4, 30) not in starts and date(2007, 4, 10) in starts


def test_budget_and_waves_per_window_hold_in_every_window(shipped: Network) -> None:
    constraints = Constraints(budget=50, per_wave=20, waves_per_window=2)
    plan = plan_migration(shipped, constraints)
    sites: Counter[datetime | None] = Counter()
    waves: Counter[datetime | None] = Counter()
    for wave in plan.waves:
        sites[wave.window_start] += len(wave.sites)
        waves[wave.window_start] += 1
    assert max(sites.values()) <= 50 and max(waves.values()) <= 2
    assert plan.verdict.windows == len(sites)
    # Windows never overlap and follow the waves' order.
    starts = [w.window_start for w in plan.waves]
    assert starts == sorted(starts)  # type: ignore[type-var]


def test_same_input_same_file(shipped: Network, default_plan: Plan, tmp_path: Path) -> None:
    write_plan(tmp_path / "a.json", default_plan)
    write_plan(tmp_path / "b.json", plan_migration(shipped, Constraints()))
    assert (tmp_path / "a.json").read_bytes() == (tmp_path / "b.json").read_bytes()
    again = read_plan(tmp_path / "a.json")
    assert again.waves == default_plan.waves
    assert again.verdict == default_plan.verdict
    assert again.constraints == default_plan.constraints


def test_shipped_plan_holds_the_2007_deadline(default_plan: Plan) -> None:
    verdict = default_plan.verdict
    assert verdict.holds and verdict.unplanned == 0 and verdict.sites == 3000
    assert verdict.last_window_end is not None and verdict.last_window_end <= datetime(2007, 7, 1)
    assert verdict.margin_days == (datetime(2007, 7, 1) - verdict.last_window_end).days
    assert verdict.remedies == ()
    # The ring carries every site with any one element down (the audit at depth 1).
    loads = [w.load for w in default_plan.waves]
    assert all(load is not None and 0 < load <= 1 for load in loads)
    assert loads == sorted(loads)  # type: ignore[type-var]


@pytest.mark.parametrize(
    ("tighter", "binds", "words"),
    [
        ({"budget": 12}, "budget", "window budget: 12 sites a night"),
        ({"per_pop": 1}, "per_pop", "per-PoP limit: rennes has"),
        ({"waves_per_window": 1, "per_wave": 10}, "waves_per_window", "waves per window: 1"),
        ({"nights": "mon"}, "calendar", "calendar: windows on mon nights"),
    ],
    ids=["budget", "per-pop", "waves-per-window", "calendar"],
)
def test_the_tightened_constraint_binds(
    small: Network, tighter: dict[str, object], binds: str, words: str
) -> None:
    verdict = plan_migration(small, Constraints.model_validate(tighter)).verdict
    assert verdict.binding == binds, verdict.binding_text
    assert words in verdict.binding_text
    assert verdict.relaxations[0].startswith(f"{binds}: ")


def test_small_waves_bind_with_the_waves_per_window(small: Network) -> None:
    """Three waves a night of at most 4 sites: the wave size and the number of waves
    a night bind together (lifting either gives the same nights)."""
    verdict = plan_migration(small, Constraints(per_wave=4)).verdict
    assert verdict.binding in {"per_wave", "waves_per_window"}, verdict.binding_text
    ranked = [r.split(":")[0] for r in verdict.relaxations]
    assert {"per_wave", "waves_per_window"} <= set(ranked[:3]), ranked
    assert "budget" not in ranked  # 12 sites a night: the budget of 80 is far


def test_deadline_missed_when_starting_late(small: Network) -> None:
    early = plan_migration(small, Constraints(budget=20))
    late = plan_migration(small, Constraints(budget=20, start=date(2007, 6, 11)))
    assert early.verdict.holds and not late.verdict.holds
    assert late.verdict.margin_days < 0
    needed = next(r for r in late.verdict.remedies if r.startswith("a budget of"))
    budget = int(needed.split()[3])
    assert budget > 20
    # The remedy is the smallest budget that holds.
    fixed = Constraints(budget=budget, start=date(2007, 6, 11))
    assert plan_migration(small, fixed).verdict.holds
    short = Constraints(budget=budget - 1, start=date(2007, 6, 11))
    assert not plan_migration(small, short).verdict.holds


def test_plan_stops_before_a_wave_that_overloads_the_ring(network_copy: NetworkCopy) -> None:
    shutil.copy(ROOT / "inventory" / "sites.csv", network_copy.inventory / "sites.csv")
    # Rennes' northern ring link at 1 Gb/s: the full network would need 1.75 Gb/s on it
    # when the Rennes-Vannes link is cut.
    network_copy.edit(
        "topology/links.yaml",
        "b: rennes,       role: ring, capacity_mbps: 2000",
        "b: rennes,       role: ring, capacity_mbps: 1000",
    )
    network = load_network(network_copy.topology, network_copy.inventory)
    plan = plan_migration(network, Constraints())
    verdict = plan.verdict
    assert not verdict.holds and verdict.unplanned > 0
    assert verdict.sites + verdict.unplanned == 3000
    assert verdict.overload is not None and "ring-saint-brieuc-rennes" in verdict.overload
    assert f"wave {len(plan.waves) + 1} would overload" in verdict.overload
    assert verdict.binding == "capacity"
    assert any(r.startswith("more ring capacity") for r in verdict.remedies)
    # Every planned wave leaves the ring within capacity.
    assert all(w.load is not None and w.load <= 1 for w in plan.waves)
    migrated = set(planned_ids(plan))
    assert ring_load(network, migrated, 1).overload is None
    # Without the capacity check, the same waves go on past it.
    unchecked = plan_migration(network, Constraints(check_capacity=False))
    assert unchecked.verdict.unplanned == 0
    assert unchecked.waves[: len(plan.waves)] == tuple(
        w.__class__(w.number, w.sites, w.kind, w.window_start, w.window_end, w.per_pop)
        for w in plan.waves
    )


def test_the_ring_carries_only_the_active_sites(shipped: Network) -> None:
    some = {s.id for s in shipped.sites[:10]}
    assert {s.id for s in carried(shipped, some).sites} == some
    assert ring_load(shipped, set(), 1).utilisation == 0


def test_a_wave_by_number(default_plan: Plan) -> None:
    assert default_plan.wave(1) is default_plan.waves[0]
    last = len(default_plan.waves)
    with pytest.raises(UsageError, match=rf"--wave {last + 1}: the plan has waves 1\.\.{last}"):
        default_plan.wave(last + 1)
    with pytest.raises(UsageError, match="--wave 0"):
        default_plan.wave(0)


def test_read_plan_names_the_file_and_field(default_plan: Plan, tmp_path: Path) -> None:
    missing = tmp_path / PLAN_FILE
    with pytest.raises(InputError, match="run `megalis-net migrate plan` first") as error:
        read_plan(missing)
    assert str(missing) in str(error.value)
    write_plan(missing, default_plan)
    doc = json.loads(missing.read_text())
    doc["waves"][2]["window"]["start"] = "someday"
    missing.write_text(json.dumps(doc))
    with pytest.raises(InputError, match=r"waves\[2\]\.window\.start") as error:
        read_plan(missing)
    assert str(error.value).startswith(str(missing))
    doc["waves"][2]["window"]["start"] = "2007-04-03T22:00:00"
    doc["waves"][3]["sites"].append(doc["waves"][0]["sites"][0])
    missing.write_text(json.dumps(doc))
    with pytest.raises(InputError, match=r"waves\[3\]\.sites: MEG1-\d+ is in wave 1 already"):
        read_plan(missing)
    doc["waves"][3]["wave"] = 7
    missing.write_text(json.dumps(doc))
    with pytest.raises(InputError, match=r"waves\[3\]\.wave: expected wave 4, got 7"):
        read_plan(missing)
    missing.write_text("{not json")
    with pytest.raises(InputError, match=PLAN_FILE):
        read_plan(missing)


def test_constraints_from_file_with_options_on_top(tmp_path: Path) -> None:
    path = tmp_path / "constraints.yaml"
    path.write_text("per-pop: 5\nbudget: 60\nnights: [mon, wed]\nwindow_start: '21:00'\n")
    loaded = load_constraints(path, {"budget": 70, "per_wave": None})
    assert (loaded.per_pop, loaded.budget, loaded.per_wave) == (5, 70, 40)
    assert [n.value for n in loaded.nights] == ["mon", "wed"]
    assert loaded.window_start.hour == 21
    options = load_constraints(None, {"own_window_kinds": "", "nights": "thu,mon,thu"})
    assert options.own_window_kinds == () and [n.value for n in options.nights] == ["mon", "thu"]


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("budget: 60\nper_pop: 0\n", "constraints.yaml:2: per_pop: Input should be greater"),
        ("budgte: 60\n", "constraints.yaml:1: budgte: is not a known field"),
        ("nights: [mon, fry]\n", "constraints.yaml:1: nights[1]: Input should be 'mon'"),
        ("- 1\n", "constraints.yaml:1: expected a mapping"),
    ],
    ids=["out-of-range", "unknown-field", "bad-night", "not-a-mapping"],
)
def test_bad_constraints_file_is_one_line_naming_file_and_field(
    tmp_path: Path, text: str, fragment: str
) -> None:
    path = tmp_path / "constraints.yaml"
    path.write_text(text)
    result = runner.invoke(
        app,
        ["--topology", str(ROOT / "topology"), "--inventory", str(ROOT / "inventory"),
         "migrate", "plan", "--constraints", str(path), "--out", str(tmp_path / "p.json")],
    )  # fmt: skip
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), lines
    assert fragment in lines[0]
    assert not (tmp_path / "p.json").exists()


def test_bad_option_names_the_option(tmp_path: Path) -> None:
    result = runner.invoke(
        app,
        ["--topology", str(ROOT / "topology"), "--inventory", str(ROOT / "inventory"),
         "migrate", "plan", "--start", "2007-02-30", "--out", str(tmp_path / "p.json")],
    )  # fmt: skip
    assert result.exit_code == 2
    assert result.stderr.startswith("error: command line: --start:"), result.stderr


def test_command_writes_the_plan_and_prints_it(tmp_path: Path) -> None:
    env = {"MEGALIS_STATE": str(tmp_path / "state")}
    base = ["--topology", str(ROOT / "topology"), "--inventory", str(ROOT / "inventory")]
    human = runner.invoke(app, [*base, "migrate", "plan", "--start", "2007-04-02"], env=env)
    assert human.exit_code == 0, human.output
    written = tmp_path / "state" / PLAN_FILE
    assert "deadline 2007-07-01 holds" in human.stdout and "binding constraint:" in human.stdout
    plan = read_plan(written)
    out = tmp_path / "late.json"
    late = runner.invoke(
        app,
        [*base, "migrate", "plan", "--start", "2007-06-04", "--out", str(out), "--json"],
        env=env,
    )
    assert late.exit_code == 0, late.output  # a missed deadline is information, not failure
    printed = json.loads(late.stdout)
    assert printed == json.loads(out.read_text())
    assert printed["format"] == 1 and printed["verdict"]["holds"] is False
    assert printed["waves"][0]["window"]["start"] == "2007-06-04T22:00:00"
    assert len(printed["waves"]) == len(plan.waves)
    assert written.read_bytes() != out.read_bytes()


def test_nothing_to_migrate_when_every_site_is_active(network_copy: NetworkCopy) -> None:
    out = network_copy.topology.parent / "plan.json"
    result = runner.invoke(
        app,
        ["--topology", str(network_copy.topology), "--inventory", str(network_copy.inventory),
         "migrate", "plan", "--out", str(out)],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "nothing to migrate" in result.stdout
    plan = read_plan(out)
    assert plan.waves == () and plan.verdict.holds and plan.verdict.binding is None
    with pytest.raises(UsageError, match="--wave 1: the plan has no waves"):
        plan.wave(1)


def test_budget_needed_when_the_waves_a_night_cap_it(small: Network) -> None:
    """Four nights before the deadline: 3 waves of 40 a night are not enough
    whatever the budget, so the remedy gives the night's size in more waves."""
    late = Constraints(start=date(2007, 6, 25))
    verdict = plan_migration(small, late).verdict
    assert not verdict.holds
    assert not any(r.startswith("a budget of") and "waves" not in r for r in verdict.remedies)
    remedy = next(r for r in verdict.remedies if "in as many waves as fit" in r)
    budget = int(remedy.split()[3])
    waves = int(remedy.split("(")[-1].split()[0])
    assert plan_migration(
        small, late.model_copy(update={"budget": budget, "waves_per_window": waves})
    ).verdict.holds


def test_only_hospitals_left(shipped: Network) -> None:
    hospitals = tuple(s for s in shipped.sites if s.kind is SiteKind.HOPITAL)
    plan = plan_migration(shipped.model_copy(update={"sites": hospitals}), Constraints(per_pop=1))
    assert all(w.kind == "hopital" and len(w.sites) <= 8 for w in plan.waves)
    assert plan.verdict.binding == "per_pop"
    rennes = sum(1 for s in hospitals if s.pop == "rennes")
    assert (
        f"rennes has {rennes} legacy sites, 1 per wave → {rennes} waves"
        in plan.verdict.binding_text
    )
