"""NetBox as the source of truth, against the real server of ``scripts/netbox``.

A small model (the render fixture: six sites, two with the L2 service) keeps
the tier quick; the 3000-site figures come from benchmarks/netbox.py. Tests
run in file order and share the server: the first push fills it, later tests
change it and push back.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pynetbox
import pytest
from nornir import InitNornir
from typer.testing import CliRunner, Result

from megalis_net.cli.main import app
from megalis_net.intent import build_intents
from megalis_net.ipam import SITE_ALLOCATIONS_FILE, load_allocations
from megalis_net.loader import load_network
from megalis_net.netbox import NetBox, NetBoxError, Settings, load_from_netbox, sync
from megalis_net.netbox.names import TAG
from megalis_net.netbox.nornir import PLUGIN, register
from megalis_net.render import render_all
from tests.conftest import FIXTURES, ROOT, NetBoxServer

pytestmark = pytest.mark.netbox
runner = CliRunner()


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An allocated copy of the shipped design with the six render-fixture sites."""
    root = tmp_path_factory.mktemp("netbox")
    shutil.copytree(ROOT / "topology", root / "topology")
    shutil.copytree(ROOT / "inventory", root / "inventory")
    shutil.copy(FIXTURES / "render" / "sites.csv", root / "inventory" / "sites.csv")
    (root / "inventory" / SITE_ALLOCATIONS_FILE).unlink()
    result = cli(root, None, "allocate")
    assert result.exit_code == 0, result.output
    return root


@pytest.fixture
def env(netbox_server: NetBoxServer, monkeypatch: pytest.MonkeyPatch) -> NetBoxServer:
    monkeypatch.setenv("MEGALIS_NETBOX_URL", netbox_server.url)
    monkeypatch.setenv("MEGALIS_NETBOX_TOKEN", netbox_server.token)
    return netbox_server


@pytest.fixture
def nb(env: NetBoxServer) -> Any:
    """Plain pynetbox, for what a person would do by hand in NetBox."""
    return pynetbox.api(env.url, token=env.token)


def cli(root: Path, source: str | None, *args: str) -> Result:
    options = ["--topology", str(root / "topology"), "--inventory", str(root / "inventory")]
    if source:
        options += ["--source", source]
    return runner.invoke(app, [*options, *args])


def push(root: Path) -> dict[str, Any]:
    result = cli(root, None, "netbox", "push", "--json")
    assert result.exit_code == 0, result.output
    report: dict[str, Any] = json.loads(result.stdout)
    return report


def one_error_line(result: Result, *fragments: str) -> None:
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    assert "Traceback" not in result.output
    for fragment in fragments:
        assert fragment in lines[0], lines[0]


def test_push_then_push_again_changes_nothing(files: Path, env: NetBoxServer) -> None:
    first = push(files)
    assert first["changes"] > 200
    assert first["per_endpoint"]["dcim.sites"]["create"] == 8 + 6
    again = push(files)
    assert again["changes"] == 0
    assert again["read_objects"] >= first["changes"]


def test_round_trip_gives_the_same_model_and_configs(files: Path, env: NetBoxServer) -> None:
    network = load_network(files / "topology", files / "inventory")
    allocations = load_allocations(files / "inventory")
    back, back_allocations = load_from_netbox(NetBox(Settings.from_env()))
    assert back.topology == network.topology
    assert back.devices == network.devices
    assert back.sites == tuple(sorted(network.sites, key=lambda s: s.id))
    assert back_allocations.same_as(allocations)
    assert render_all(build_intents(back, back_allocations)) == render_all(
        build_intents(network, allocations)
    )


def test_source_netbox_renders_the_same_files(
    files: Path, env: NetBoxServer, tmp_path: Path
) -> None:
    for source in ("files", "netbox"):
        result = cli(files, source, "render", "--out", str(tmp_path / source))
        assert result.exit_code == 0, result.output
    names = sorted(p.name for p in (tmp_path / "files").iterdir())
    assert names == sorted(p.name for p in (tmp_path / "netbox").iterdir())
    for name in names:
        assert (tmp_path / "files" / name).read_bytes() == (tmp_path / "netbox" / name).read_bytes()


def test_source_netbox_refuses_commands_that_write_files(files: Path, env: NetBoxServer) -> None:
    one_error_line(cli(files, "netbox", "allocate"), "allocate writes the files")


def test_diff_finds_a_commit_rate_edited_by_hand(files: Path, nb: Any) -> None:
    circuit = nb.circuits.circuits.get(cid="R-0002")
    circuit.commit_rate = 12_345
    circuit.save()
    result = cli(files, None, "netbox", "diff", "--json")
    assert result.exit_code == 1, result.output
    (change,) = json.loads(result.stdout)["changes"]
    assert change == {
        "action": "update",
        "endpoint": "circuits.circuits",
        "key": ["R-0002"],
        "files": {"commit_rate": 100_000},
        "netbox": {"commit_rate": 12_345},
    }
    assert push(files)["changes"] == 1
    assert cli(files, None, "netbox", "diff").exit_code == 0


def test_objects_without_the_tag_are_left_alone(files: Path, nb: Any) -> None:
    theirs = nb.dcim.sites.create(name="Someone else's", slug="someone-else")
    mine = nb.dcim.sites.get(slug="r-0004")
    mine.tags = []
    mine.description = "edited, untagged"
    mine.save()
    try:
        report = push(files)
        assert report["changes"] == 0
        assert report["foreign"] == ["dcim.sites/r-0004"]
        assert nb.dcim.sites.get(slug="someone-else") is not None
        assert nb.dcim.sites.get(slug="r-0004").description == "edited, untagged"
    finally:
        theirs.delete()
        mine.tags = [{"slug": TAG}]
        mine.save()
    assert push(files)["changes"] == 1  # the description comes back


def test_wrong_token_is_one_line(files: Path, env: NetBoxServer) -> None:
    result = cli(files, None, "netbox", "push", "--token", "0" * 40)
    one_error_line(result, env.url, "token was refused")


def test_netbox_down_is_one_line(files: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    url = "http://127.0.0.1:9"  # the discard port: nothing listens
    monkeypatch.setenv("MEGALIS_NETBOX_URL", url)
    monkeypatch.setenv("MEGALIS_NETBOX_TOKEN", "x" * 40)
    one_error_line(cli(files, None, "netbox", "diff"), url, "unreachable")
    one_error_line(cli(files, "netbox", "topology", "validate"), url, "unreachable")


def test_netbox_not_configured_is_one_line(files: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MEGALIS_NETBOX_URL", raising=False)
    one_error_line(cli(files, None, "netbox", "push"), "MEGALIS_NETBOX_URL")


def with_more_sites(files: Path, root: Path, count: int) -> Path:
    """A copy of ``files`` with ``count`` more sites (tests/fixtures/netbox), allocated."""
    shutil.copytree(files, root)
    rows = (FIXTURES / "netbox" / "more-sites.csv").read_text(encoding="utf-8").splitlines()
    with (root / "inventory" / "sites.csv").open("a", encoding="utf-8") as out:
        out.write("\n".join(rows[:count]) + "\n")
    result = cli(root, None, "allocate")
    assert result.exit_code == 0, result.output
    return root


@pytest.fixture
def grown(files: Path, env: NetBoxServer, tmp_path: Path) -> Iterator[Path]:
    """Three more sites, one with the L2 service: what a push then adds."""
    yield with_more_sites(files, tmp_path / "grown", 3)
    push(files)  # back to the module's model


def test_failure_halfway_then_push_completes_without_duplicates(
    grown: Path, env: NetBoxServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    network = load_network(grown / "topology", grown / "inventory")
    allocations = load_allocations(grown / "inventory")
    calls = {"create": 0}
    real_create = NetBox.create

    def failing_create(self: NetBox, endpoint: str, objects: list[Any], what: str) -> list[int]:
        calls["create"] += 1
        if calls["create"] == 3:  # the sites and circuits are in; interfaces are not
            raise NetBoxError(f"NetBox {self.settings.url}: creating {what}: connection reset")
        return real_create(self, endpoint, objects, what)

    monkeypatch.setattr(NetBox, "create", failing_create)
    with pytest.raises(NetBoxError, match="connection reset"):
        sync(NetBox(Settings.from_env()), network, allocations)
    monkeypatch.setattr(NetBox, "create", real_create)
    report = push(grown)
    assert report["changes"] > 0
    assert push(grown)["changes"] == 0
    back, _ = load_from_netbox(NetBox(Settings.from_env()))
    assert len(back.sites) == len(network.sites) == 6 + 3
    assert [s.id for s in back.sites] == sorted({s.id for s in network.sites})


def test_adding_a_site_writes_only_its_objects(
    files: Path, env: NetBoxServer, tmp_path: Path
) -> None:
    assert push(files)["changes"] == 0
    report = push(with_more_sites(files, tmp_path / "one", 1))
    touched = report["per_endpoint"]
    assert all(c["update"] == 0 and c["delete"] == 0 for c in touched.values()), touched
    # site, circuit and its termination, VLAN, sub-interface, its address, link net and LAN
    assert report["changes"] == 8, touched
    push(files)


def test_nornir_inventory_from_netbox_matches_the_files(files: Path, env: NetBoxServer) -> None:
    assert push(files)["changes"] == 0
    register()
    runner_options = {"plugin": "threaded", "options": {"num_workers": 1}}
    quiet = {"enabled": False}
    from_netbox = InitNornir(inventory={"plugin": PLUGIN}, runner=runner_options, logging=quiet)
    inventory = files / "inventory"
    from_files = InitNornir(
        inventory={
            "plugin": "SimpleInventory",
            "options": {
                "host_file": str(inventory / "hosts.yaml"),
                "group_file": str(inventory / "groups.yaml"),
            },
        },
        runner=runner_options,
        logging=quiet,
    )

    def hosts(nornir: Any) -> dict[str, tuple[Any, ...]]:
        return {
            name: (h.hostname, h.platform, h.data.get("pop"))
            for name, h in nornir.inventory.hosts.items()
        }

    assert hosts(from_netbox) == hosts(from_files)
