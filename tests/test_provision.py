"""`allocate`, `render` and `site add/remove/show` through the CLI, on private copies."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import Result

from megalis_net.fileio import exclusive
from megalis_net.ipam import ALLOCATIONS_FILE, SITE_ALLOCATIONS_FILE
from tests.conftest import NetworkCopy
from tests.test_cli import assert_one_line_errors, run

INVENTORY_FILES = ("sites.csv", ALLOCATIONS_FILE, SITE_ALLOCATIONS_FILE)


def snapshot(copy: NetworkCopy) -> dict[str, bytes]:
    return {name: (copy.inventory / name).read_bytes() for name in INVENTORY_FILES}


@pytest.fixture
def allocated(network_copy: NetworkCopy) -> NetworkCopy:
    result = run(network_copy, "allocate")
    assert result.exit_code == 0, result.output
    return network_copy


def add(copy: NetworkCopy, *extra: str, name: str = "Collège Anne de Bretagne") -> Result:
    return run(
        copy, "site", "add", "--name", name, "--pop", "vannes", "--community", "education",
        "--rate", "100M", "--json", *extra,
    )  # fmt: skip


def test_allocate_writes_once_then_has_nothing_to_do(network_copy: NetworkCopy) -> None:
    first = run(network_copy, "allocate", "--json")
    assert first.exit_code == 0, first.output
    report = json.loads(first.stdout)
    assert len([a for a in report["added"] if a.startswith("site ")]) == 4
    assert len(report["written"]) == 1  # the shipped allocations.yaml already holds routers
    second = run(network_copy, "allocate", "--json")
    assert json.loads(second.stdout) == {
        "added": [], "moved": [], "released": [], "orphans": [], "written": [],
    }  # fmt: skip


def test_site_add_records_allocates_and_shows_the_diff(allocated: NetworkCopy) -> None:
    result = add(allocated)
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert out["site"]["id"] == "MEG2-00001"
    assert out["allocation"]["device"] == "pe-vannes"
    assert out["allocation"]["vrf"] == "education"
    assert out["allocation"]["rd"].endswith(":101")
    assert out["allocation"]["lan"].startswith("10.64.")  # education's pool: no legacy LAN
    assert list(out["diffs"]) == ["pe-vannes"]
    diff = out["diffs"]["pe-vannes"]
    vlan = out["allocation"]["vlan"]
    assert f"+interface acc0.{vlan}\n" in diff
    assert f"+ip route {out['allocation']['lan']} " in diff
    sites = (allocated.inventory / "sites.csv").read_text()
    assert "MEG2-00001,Collège Anne de Bretagne,college,Vannes,56," in sites
    assert "MEG2-00001,vannes,0," in (allocated.inventory / SITE_ALLOCATIONS_FILE).read_text()


def test_site_add_then_remove_leaves_the_inventory_byte_identical(allocated: NetworkCopy) -> None:
    before = snapshot(allocated)
    added = add(allocated)
    assert added.exit_code == 0, added.output
    assert snapshot(allocated) != before
    removed = run(allocated, "site", "remove", "MEG2-00001", "--json")
    assert removed.exit_code == 0, removed.output
    diff = json.loads(removed.stdout)["diffs"]["pe-vannes"]
    assert diff.count("\n-interface acc0.") == 1
    assert snapshot(allocated) == before


def test_l2_site_round_trip_touches_both_pes(allocated: NetworkCopy) -> None:
    before = snapshot(allocated)
    result = run(
        allocated, "site", "add", "--name", "Labo Lorient",
        "--pop", "lorient", "--community", "research", "--rate", "1G", "--l2-renater", "--json",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert out["allocation"]["l2_vlan"] is not None
    assert out["allocation"]["handoff_vlan"] is not None
    assert run(allocated, "site", "remove", "Labo Lorient").exit_code == 0
    assert snapshot(allocated) == before


def test_dry_run_writes_nothing(allocated: NetworkCopy) -> None:
    before = snapshot(allocated)
    result = add(allocated, "--dry-run")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["dry_run"] is True
    assert snapshot(allocated) == before


BASE = {"--name": "Nouveau site", "--pop": "vannes", "--community": "education", "--rate": "10M"}


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"--pop": "nantes"}, "--pop: unknown PoP 'nantes' (one of rennes,"),
        ({"--rate": "150M"}, "--rate: 150 Mb/s is not an offered rate (2M, 4M,"),
        ({"--rate": "fast"}, "--rate: 'fast' is not a rate"),
        ({"--rate": "10G"}, "--rate: 10000 Mb/s is not an offered rate"),
        ({"--name": "mairie de cancale"}, "--name: site T-0004 is already named 'Mairie de Cancale'"),
        ({"--l2-renater": None}, "--l2-renater: no L2 service for community 'education'"),
        ({"--community": "police"}, "Invalid value for '--community'"),
        ({"--commune": "Atlantis"}, "--commune: no Breton commune named 'Atlantis'"),
    ],
    ids=["pop", "rate-not-offered", "rate-syntax", "rate-too-high", "duplicate-name", "l2",
         "community", "commune"],
)  # fmt: skip
def test_bad_site_add_is_one_line_and_changes_nothing(
    allocated: NetworkCopy, changes: dict[str, str | None], message: str
) -> None:
    before = snapshot(allocated)
    options = {**BASE, **changes}
    argv = [x for key, value in options.items() for x in (key, value) if x is not None]
    assert_one_line_errors(run(allocated, "site", "add", *argv), message)
    assert snapshot(allocated) == before


def test_site_add_needs_allocations_first(network_copy: NetworkCopy) -> None:
    result = add(network_copy)
    assert_one_line_errors(result, "has no current allocation", "run `megalis-net allocate`")


def test_site_remove_unknown_is_one_line(allocated: NetworkCopy) -> None:
    assert_one_line_errors(run(allocated, "site", "remove", "NOPE-1"), "no site with id or name")


def test_site_show_gives_record_and_allocation(allocated: NetworkCopy) -> None:
    result = run(allocated, "site", "show", "T-0003", "--json")
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert out["site"]["name"] == "Université de Bretagne Occidentale - Brest"
    assert out["allocation"]["device"] == "pe-brest"
    assert out["allocation"]["l2_vlan"] is not None
    table = run(allocated, "site", "show", "Mairie de Cancale")
    assert table.exit_code == 0 and "pe-saint-malo" in table.stdout


def test_render_writes_one_file_per_router(allocated: NetworkCopy, tmp_path: Path) -> None:
    out = tmp_path / "configs"
    result = run(allocated, "render", "--out", str(out), "--json")
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert len(rows) == 8 and {r["platform"] for r in rows} == {"frr"}
    assert sorted(p.name for p in out.iterdir()) == sorted(f"{r['device']}.frr.conf" for r in rows)
    assert "hostname pe-brest\n" in (out / "pe-brest.frr.conf").read_text()


def test_render_one_device_for_another_platform(allocated: NetworkCopy, tmp_path: Path) -> None:
    out = tmp_path / "configs"
    result = run(
        allocated, "render", "--device", "pe-rennes", "--platform", "junos", "--out", str(out)
    )
    assert result.exit_code == 0, result.output
    assert [p.name for p in out.iterdir()] == ["pe-rennes.junos.conf"]


def test_render_unknown_device_is_one_line(allocated: NetworkCopy, tmp_path: Path) -> None:
    result = run(allocated, "render", "--device", "pe-nantes", "--out", str(tmp_path))
    assert_one_line_errors(result, "--device: unknown router 'pe-nantes'")
    assert not tmp_path.joinpath("pe-nantes.frr.conf").exists()


def test_a_second_writer_is_told_and_changes_nothing(allocated: NetworkCopy) -> None:
    before = snapshot(allocated)
    with exclusive(allocated.inventory):
        result = add(allocated)
        assert_one_line_errors(result, "is being changed by megalis-net pid", "try again")
        assert_one_line_errors(run(allocated, "allocate"), "is being changed by")
    assert snapshot(allocated) == before
    assert add(allocated).exit_code == 0  # the lock is released
