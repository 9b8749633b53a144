"""Every command through typer's CliRunner: success, bad input, failure exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from megalis_net.cli.main import app
from megalis_net.graph import read_json_graph
from tests.conftest import FIXTURES, NetworkCopy

runner = CliRunner()


def run(copy: NetworkCopy, *args: str) -> Result:
    return runner.invoke(
        app, ["--topology", str(copy.topology), "--inventory", str(copy.inventory), *args]
    )


def assert_one_line_errors(result: Result, *fragments: str) -> None:
    """Exit 2, no traceback, every stderr line an 'error:' line, fragments present."""
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    lines = result.stderr.strip().splitlines()
    assert lines and all(line.startswith("error: ") for line in lines), lines
    for fragment in fragments:
        assert fragment in result.stderr, result.stderr


def test_validate_counts_everything(network_copy: NetworkCopy) -> None:
    result = run(network_copy, "topology", "validate", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {
        "valid": True, "pops": 8, "links": 13, "upstreams": 4, "devices": 8, "sites": 4,
    }  # fmt: skip


def test_validate_reports_bad_input_in_one_line_each(network_copy: NetworkCopy) -> None:
    network_copy.edit(
        "topology/links.yaml", "a: vannes,       b: lorient", "a: vanes,        b: lorient"
    )
    network_copy.edit("inventory/sites.csv", "brest,research,500,", "brest,research,10000,")
    result = run(network_copy, "topology", "validate")
    assert_one_line_errors(
        result,
        "links.yaml:20: links[1].a: link to a missing node: unknown PoP 'vanes'",
        "pops.yaml:7: ring[1]: no ring link between 'vannes' and 'lorient'",
        "sites.csv:4: rate_mbps: rate above 1 Gb/s, the highest access rate (Mb/s) (got '10000')",
    )
    assert len(result.stderr.strip().splitlines()) == 3


def test_show_counts_sites_per_pop_and_community(network_copy: NetworkCopy) -> None:
    result = run(network_copy, "topology", "show", "--json")
    assert result.exit_code == 0, result.output
    pops = {p["name"]: p for p in json.loads(result.stdout)["pops"]}
    assert pops["brest"]["sites_by_community"]["research"] == 1
    assert pops["saint-malo"]["sites_by_community"]["local-government"] == 1
    assert pops["rennes"]["upstreams"] == ["internet-ft", "renater"]
    assert sum(p["sites"] for p in pops.values()) == 4
    human = run(network_copy, "topology", "show")
    assert (
        human.exit_code == 0 and "saint-brieuc" in human.stdout and "Backbone links" in human.stdout
    )


def test_export_json_to_file(network_copy: NetworkCopy, tmp_path: Path) -> None:
    out = tmp_path / "graph.json"
    result = run(network_copy, "topology", "export", "--format", "json", "--out", str(out))
    assert result.exit_code == 0, result.output
    graph = read_json_graph(out.read_text())
    assert graph.nodes["T-0002"]["kind"] == "site"


def test_export_refuses_unknown_format(network_copy: NetworkCopy) -> None:
    assert_one_line_errors(run(network_copy, "topology", "export", "--format", "pdf"), "'--format'")


def test_sites_list_filters(network_copy: NetworkCopy) -> None:
    result = run(network_copy, "sites", "list", "--community", "research", "--json")
    assert result.exit_code == 0, result.output
    assert [row["id"] for row in json.loads(result.stdout)] == ["T-0003"]
    assert_one_line_errors(
        run(network_copy, "sites", "list", "--pop", "dinan"), "unknown PoP 'dinan'"
    )


def test_sites_generate_is_deterministic(network_copy: NetworkCopy, tmp_path: Path) -> None:
    first, second = tmp_path / "a.csv", tmp_path / "b.csv"
    for out in (first, second):
        result = run(
            network_copy, "sites", "generate", "--count", "40", "--seed", "7", "--out", str(out)
        )
        assert result.exit_code == 0, result.output
    assert first.read_bytes() == second.read_bytes()
    assert len(first.read_text().splitlines()) == 41


def test_sites_import_writes_the_site_file(network_copy: NetworkCopy, tmp_path: Path) -> None:
    export = _export_with(tmp_path, bad_rows=0)
    result = run(network_copy, "sites", "import", str(export), "--json")
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["imported"] == 3 and summary["rejected"] == 0
    listed = json.loads(run(network_copy, "sites", "list", "--json").stdout)
    assert [row["id"] for row in listed] == ["MEG1-00001", "MEG1-00002", "MEG1-00003"]


def test_sites_import_with_a_bad_row_writes_nothing(
    network_copy: NetworkCopy, tmp_path: Path
) -> None:
    before = (network_copy.inventory / "sites.csv").read_bytes()
    export = _export_with(tmp_path, bad_rows=1)
    result = run(network_copy, "sites", "import", str(export))
    assert_one_line_errors(result, f"{export}:5", "Département")
    assert (network_copy.inventory / "sites.csv").read_bytes() == before
    assert not list(tmp_path.glob("*.rejected.*"))


def test_sites_import_skip_bad_keeps_the_good_rows(
    network_copy: NetworkCopy, tmp_path: Path
) -> None:
    export = _export_with(tmp_path, bad_rows=1)
    rejects = tmp_path / "rejects.csv"
    result = run(
        network_copy, "sites", "import", str(export), "--skip-bad", "--rejects", str(rejects)
    )
    assert result.exit_code == 0, result.output
    listed = json.loads(run(network_copy, "sites", "list", "--json").stdout)
    assert len(listed) == 3
    rejected = rejects.read_bytes().decode("cp1252").splitlines()
    assert len(rejected) == 2 and rejected[1].startswith("MEG1-00099;")


def test_audit_passes_on_the_default_design(network_copy: NetworkCopy) -> None:
    result = run(network_copy, "audit", "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["violations"] == []
    assert report["scenarios"] == 13 + 8 + 8  # links (ring, extension, upstream), PoPs, SRLGs


def test_audit_fails_with_a_single_extension_link(network_copy: NetworkCopy) -> None:
    network_copy.edit(
        "topology/links.yaml",
        "  - {name: ext-rennes-saint-malo-b,",
        "  # - {name: ext-rennes-saint-malo-b,",
    )
    result = run(network_copy, "audit")
    assert result.exit_code == 1, result.output
    assert "ext-rennes-saint-malo-a" in result.stdout
    assert "FAIL" in result.stdout


@pytest.mark.parametrize("depth", ["0", "3", "two"])
def test_audit_refuses_bad_depth(network_copy: NetworkCopy, depth: str) -> None:
    assert_one_line_errors(
        run(network_copy, "audit", "--depth", depth), "Invalid value for '--depth'"
    )


def test_unwritable_output_is_one_line(network_copy: NetworkCopy, tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    result = run(network_copy, "topology", "export", "--out", str(blocker / "graph.json"))
    assert_one_line_errors(result, f"cannot write {blocker / 'graph.json'}")


def test_missing_topology_folder_is_one_line(tmp_path: Path, network_copy: NetworkCopy) -> None:
    result = runner.invoke(
        app,
        [
            "--topology",
            str(tmp_path / "nowhere"),
            "--inventory",
            str(network_copy.inventory),
            "audit",
        ],
    )
    assert_one_line_errors(result, "pops.yaml: file not found")


def _export_with(tmp_path: Path, bad_rows: int) -> Path:
    """A small Mégalis I export in its native format (cp1252, ';', CRLF)."""
    lines = (FIXTURES / "cli" / "export-head.csv").read_text(encoding="utf-8").splitlines()
    if bad_rows:
        lines.append(
            "MEG1-00099;Mairie de Laval;Mairie;Laval;53;48,07000;-0,77000;Collectivités;"
            "1024;3072;10.32.9.0/28;10.32.9.1;non"
        )
    path = tmp_path / "export.csv"
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode("cp1252"))
    return path


def test_paths_come_from_the_environment(network_copy: NetworkCopy) -> None:
    env = {
        "MEGALIS_TOPOLOGY": str(network_copy.topology),
        "MEGALIS_INVENTORY": str(network_copy.inventory),
    }
    result = runner.invoke(app, ["topology", "validate", "--json"], env=env)
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["sites"] == 4  # the copy's 4 sites, not the shipped 3000


@pytest.mark.parametrize("command", [["lab", "up"], ["lab", "down"], ["lab", "status"]])
def test_lab_without_root_says_so_in_one_line(
    network_copy: NetworkCopy, monkeypatch: pytest.MonkeyPatch, command: list[str]
) -> None:
    # A real unprivileged user would need read access to wherever the clone lives.
    monkeypatch.setattr("os.geteuid", lambda: 1000)
    result = run(network_copy, *command)
    assert_one_line_errors(result, "the lab needs root")


def test_deploy_refuses_an_unknown_router(network_copy: NetworkCopy) -> None:
    result = run(network_copy, "deploy", "--devices", "pe-rennes,pe-paris", "--dry-run")
    assert_one_line_errors(result, "--devices", "pe-paris")


def test_deploy_needs_credentials_outside_the_lab(
    network_copy: NetworkCopy, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("MEGALIS_USERNAME", raising=False)
    assert run(network_copy, "allocate").exit_code == 0
    result = run(network_copy, "deploy", "--dry-run")
    assert_one_line_errors(result, "MEGALIS_USERNAME is not set")


def test_deploy_check_timeout_must_be_shorter_than_the_confirm_timeout(
    network_copy: NetworkCopy,
) -> None:
    result = run(
        network_copy, "deploy", "--dry-run", "--confirm-timeout", "60", "--check-timeout", "90"
    )
    assert_one_line_errors(result, "--check-timeout")


def test_verify_needs_the_snmp_secret_it_names(
    network_copy: NetworkCopy, monkeypatch: pytest.MonkeyPatch
) -> None:
    # fails before any packet: production addresses are never polled from here
    monkeypatch.delenv("MEGALIS_SNMP_COMMUNITY", raising=False)
    assert run(network_copy, "allocate").exit_code == 0
    result = run(network_copy, "verify", "--devices", "pe-brest")
    assert_one_line_errors(result, "pe-brest", "MEGALIS_SNMP_COMMUNITY is not set")


def test_verify_refuses_bad_snmp_settings_naming_the_field(
    network_copy: NetworkCopy, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("MEGALIS_SNMP_COMMUNITY", raising=False)
    network_copy.edit("inventory/defaults.yaml", 'version: "2c"', 'version: "1"')
    assert run(network_copy, "allocate").exit_code == 0
    result = run(network_copy, "verify")
    assert_one_line_errors(result, "defaults.yaml", "snmp.version")


def test_verify_refuses_a_short_v3_key(
    network_copy: NetworkCopy, monkeypatch: pytest.MonkeyPatch
) -> None:
    network_copy.edit("inventory/defaults.yaml", 'version: "2c"', 'version: "3"')
    monkeypatch.setenv("MEGALIS_SNMP_USER", "megalis")
    monkeypatch.setenv("MEGALIS_SNMP_AUTH_KEY", "short")
    monkeypatch.setenv("MEGALIS_SNMP_PRIV_KEY", "long enough key")
    assert run(network_copy, "allocate").exit_code == 0
    result = run(network_copy, "verify", "--devices", "pe-vannes")
    assert_one_line_errors(result, "pe-vannes", "MEGALIS_SNMP_AUTH_KEY is shorter than 8")


def test_site_apply_and_dry_run_exclude_each_other(network_copy: NetworkCopy) -> None:
    assert run(network_copy, "allocate").exit_code == 0
    before = (network_copy.inventory / "sites.csv").read_bytes()
    result = run(
        network_copy, "site", "add", "--name", "Mairie de Plouaret", "--pop", "lannion",
        "--community", "local-government", "--rate", "10M", "--apply", "--dry-run",
    )  # fmt: skip
    assert_one_line_errors(result, "--dry-run", "--apply")
    assert (network_copy.inventory / "sites.csv").read_bytes() == before
