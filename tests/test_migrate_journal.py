"""The migration journal on its own: waves, steps, interrupted runs, consistency."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from megalis_net.migrate import Journal, JournalError, SiteState, Step

ALLOCATION = {"site": "S1", "pop": "rennes", "port": "0", "vlan": "100"}


def journal_at(tmp_path: Path) -> Journal:
    return Journal(tmp_path / "state" / "migrate.sqlite")


def test_a_wave_keeps_the_sites_it_started_with(tmp_path: Path) -> None:
    with journal_at(tmp_path) as journal:
        journal.start_run(1, "run")
        journal.start_wave(1, [("S1", "rennes", False), ("S2", "brest", True)])
        journal.start_wave(1, [("S1", "rennes", False), ("S2", "brest", True)])  # same: fine
        with pytest.raises(JournalError, match="wave 1 started with 2 sites"):
            journal.start_wave(1, [("S1", "rennes", False), ("S3", "brest", False)])
        with pytest.raises(JournalError, match="S2 is already in wave 1"):
            journal.start_wave(2, [("S2", "brest", True)])
        records = {r.site: r for r in journal.sites(1)}
    assert {s: (r.state, r.had_allocation) for s, r in records.items()} == {
        "S1": (SiteState.PENDING, False),
        "S2": (SiteState.PENDING, True),
    }


def test_steps_set_states_and_failures_keep_their_reason(tmp_path: Path) -> None:
    with journal_at(tmp_path) as journal:
        journal.start_run(1, "run")
        journal.start_wave(1, [("S1", "rennes", False), ("S2", "rennes", False)])
        journal.begin(1, ["S1", "S2"], Step.DEPLOY, SiteState.DEPLOYING)
        journal.end(1, ["S1"], Step.DEPLOY, SiteState.DONE)
        journal.fail(1, {"S2": "oper down"}, Step.VERIFY)
        journal.end_run("failed")
        records = {r.site: r for r in journal.sites()}
        assert records["S1"].state is SiteState.DONE and records["S1"].reason is None
        assert records["S2"].state is SiteState.FAILED and records["S2"].reason == "oper down"
        # S2's deploy step began and never ended: the run's end closes it
        closed = [s for s in journal.steps("S2") if s.phase == "interrupted"]
        assert [(s.step, s.detail) for s in closed] == [(Step.DEPLOY, "run 1")]
        assert journal.problems({"S1"}, {}) == []


def _killed_writer(path: Path) -> None:
    """A process that records a begun step, then dies by SIGKILL before ending it."""
    code = textwrap.dedent(
        f"""
        import os, signal
        from pathlib import Path
        from megalis_net.migrate import Journal, SiteState, Step
        journal = Journal(Path({str(path)!r}))
        journal.start_run(1, "run")
        journal.start_wave(1, [("S1", "rennes", False)])
        journal.record_allocations(1, {{"S1": {ALLOCATION!r}}})
        journal.begin(1, ["S1"], Step.DEPLOY, SiteState.DEPLOYING)
        os.kill(os.getpid(), signal.SIGKILL)
        """
    )
    done = subprocess.run([sys.executable, "-c", code], check=False)
    assert done.returncode == -signal.SIGKILL


def test_what_a_killed_run_wrote_survives_and_the_next_run_closes_it(tmp_path: Path) -> None:
    path = tmp_path / "state" / "migrate.sqlite"
    _killed_writer(path)
    with Journal(path) as journal:
        record = journal.sites(1)[0]
        assert record.state is SiteState.DEPLOYING
        assert record.allocation == ALLOCATION  # never to be allocated again
        assert journal.problems(set(), {}) == [
            "run 1 never ended",
            "run 1: deploy of S1 begun, never ended",
        ]
        journal.start_run(1, "run")
        runs = journal.interrupted_runs()
        assert runs == [1]
        left = journal.close_interrupted(runs)
        assert [(s.site, s.step) for s in left] == [("S1", Step.DEPLOY)]
        journal.end(1, ["S1"], Step.CONFIRM, SiteState.DONE)
        journal.end_run("ok")
        assert journal.interrupted_runs() == []
        assert journal.problems({"S1"}, {"S1": ALLOCATION}) == []


def test_problems_name_what_contradicts_the_inventory(tmp_path: Path) -> None:
    with journal_at(tmp_path) as journal:
        journal.start_run(1, "run")
        journal.start_wave(1, [("S1", "rennes", False), ("S2", "rennes", False)])
        journal.record_allocations(1, {"S1": ALLOCATION})
        journal.record_allocations(1, {"S1": ALLOCATION})
        journal.end(1, ["S1"], Step.CONFIRM, SiteState.DONE)
        journal.fail(1, {"S2": "oper down"}, Step.VERIFY)
        journal.end_run("failed")
        other = {**ALLOCATION, "vlan": "101"}
        assert journal.problems({"S2"}, {"S1": other}) == [
            "S1 was allocated 2 times",
            "S1 is done in the journal, legacy in the inventory",
            "S1: the inventory's allocation is not the journal's",
            "S2 is failed in the journal, active in the inventory",
        ]


def test_a_journal_of_another_schema_is_refused(tmp_path: Path) -> None:
    with journal_at(tmp_path) as journal:
        journal.db.execute("UPDATE meta SET value = '99' WHERE key = 'schema'")
    with pytest.raises(JournalError, match="journal schema 99"):
        journal_at(tmp_path)


def test_a_file_that_is_not_a_journal_is_one_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "state" / "migrate.sqlite"
    path.parent.mkdir()
    path.write_bytes(os.urandom(4096))
    with pytest.raises(JournalError, match="cannot open the migration journal"):
        Journal(path)
