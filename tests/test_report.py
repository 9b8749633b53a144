"""The dashboard: `megalis-net report` end to end (CliRunner), the page's content
read back with an HTML parser and checked against the model and the verify fixture."""

from __future__ import annotations

import json
import re
from collections import Counter
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from megalis_net.audit import run_audit
from megalis_net.cli.main import app
from megalis_net.fileio import WriteError, atomic_write_dir
from megalis_net.loader import load_network
from megalis_net.model import Network
from megalis_net.report.dashboard import SiteState, site_states
from megalis_net.report.mapview import link_css
from megalis_net.report.verify_result import LinkState, read_verify_result
from tests.conftest import FIXTURES, NetworkCopy

VERIFY = FIXTURES / "report" / "verify-ring-down.json"


class Elements(HTMLParser):
    """Every start tag's attributes, and the text of each table cell by its row."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, {name: value or "" for name, value in attrs}))

    def with_attr(self, name: str) -> list[dict[str, str]]:
        return [attrs for _, attrs in self.tags if name in attrs]


def parse(html: str) -> Elements:
    parser = Elements()
    parser.feed(html)
    return parser


@pytest.fixture(autouse=True)
def empty_state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Each test has its own state folder, so a real ./state/verify-last.json never leaks in."""
    state = tmp_path / "state"
    monkeypatch.setenv("MEGALIS_STATE", str(state))
    return state


def report(copy: NetworkCopy, out: Path, *args: str) -> Result:
    return CliRunner().invoke(
        app,
        ["--topology", str(copy.topology), "--inventory", str(copy.inventory),
         "report", "--out", str(out), *args],
    )  # fmt: skip


def written(copy: NetworkCopy, out: Path, *args: str) -> str:
    result = report(copy, out, *args)
    assert result.exit_code == 0, result.output
    return (out / "index.html").read_text(encoding="utf-8")


def model(copy: NetworkCopy) -> Network:
    return load_network(copy.topology, copy.inventory)


def fixture_links() -> dict[str, dict[str, Any]]:
    return {link["link"]: link for link in json.loads(VERIFY.read_text())["links"]}


def test_one_element_per_link_and_pop(network_copy: NetworkCopy, tmp_path: Path) -> None:
    page = parse(written(network_copy, tmp_path / "out"))
    network = model(network_copy)
    links = [a["data-link"] for a in page.with_attr("data-link")]
    pops = [a["data-pop"] for a in page.with_attr("data-pop")]
    assert sorted(links) == sorted(link.name for link in network.topology.backbone_links)
    assert sorted(pops) == sorted(pop.name for pop in network.topology.pops)


def test_without_a_verify_result_every_link_is_unknown(
    network_copy: NetworkCopy, tmp_path: Path
) -> None:
    html = written(network_copy, tmp_path / "out")
    links = parse(html).with_attr("data-link")
    assert links and {(a["data-state"], a["data-utilisation"]) for a in links} == {("unknown", "")}
    assert "no verify result yet" in html.lower()


def test_a_ring_link_down_is_down_and_only_it(network_copy: NetworkCopy, tmp_path: Path) -> None:
    html = written(network_copy, tmp_path / "out", "--verify", str(VERIFY))
    states = {a["data-link"]: a for a in parse(html).with_attr("data-link")}
    verified = fixture_links()
    for name, attrs in states.items():
        expected = verified[name]["state"] if name in verified else "unknown"
        assert attrs["data-state"] == expected, name
    down = [name for name, attrs in states.items() if attrs["data-state"] == "down"]
    assert down == ["ring-quimper-brest"]
    assert "down" in states["ring-quimper-brest"]["class"].split()


def expected_band(utilisation: float) -> str:
    """The colour rule of the brief, written out independently of mapview.BANDS."""
    if utilisation >= 0.8:
        return "util-high"
    return "util-mid" if utilisation >= 0.5 else "util-low"


@pytest.mark.parametrize(
    ("state", "utilisation", "css"),
    [
        (LinkState.UP, 0.0, "link up util-low"),
        (LinkState.UP, 0.4999, "link up util-low"),
        (LinkState.UP, 0.5, "link up util-mid"),
        (LinkState.UP, 0.7999, "link up util-mid"),
        (LinkState.UP, 0.8, "link up util-high"),
        (LinkState.UP, 1.3, "link up util-high"),
        (LinkState.UP, None, "link up util-none"),
        (LinkState.DOWN, None, "link down"),
        (LinkState.DOWN, 0.9, "link down"),
        (LinkState.UNKNOWN, None, "link unknown"),
    ],
    ids=["zero", "just-below-50", "50", "just-below-80", "80", "above-100", "up-unmeasured",
         "down", "down-with-stale-load", "unknown"],
)  # fmt: skip
def test_link_colour_classes(state: LinkState, utilisation: float | None, css: str) -> None:
    assert link_css(state, utilisation) == css


def test_page_colours_links_by_utilisation(network_copy: NetworkCopy, tmp_path: Path) -> None:
    html = written(network_copy, tmp_path / "out", "--verify", str(VERIFY))
    drawn = {a["data-link"]: a for a in parse(html).with_attr("data-link")}
    measured = {
        name: link for name, link in fixture_links().items()
        if name in drawn and link["state"] == "up" and link["utilisation"] is not None
    }  # fmt: skip
    bands = {expected_band(link["utilisation"]) for link in measured.values()}
    assert bands == {"util-low", "util-mid", "util-high"}, "the fixture must cover every band"
    for name, link in measured.items():
        assert expected_band(link["utilisation"]) in drawn[name]["class"].split(), name
        assert float(drawn[name]["data-utilisation"]) == pytest.approx(link["utilisation"])


def expected_site_states(network: Network) -> dict[str, str]:
    """Site states from the fixture, by the brief's rule, computed without the report code."""
    data = json.loads(VERIFY.read_text())
    silent = {u["device"] for u in data["unreachable"]}  # nothing known there: not verified
    site_interfaces = [
        i for i in data["interfaces"] if i["kind"] == "site" and i["device"] not in silent
    ]
    seen = {i["site_id"] for i in site_interfaces}
    bad = {i["site_id"] for i in site_interfaces if i["state"] != "fine"}
    bad |= {
        d["link"]
        for d in data["discrepancies"]
        if d["kind"] == "site" and d["device"] not in silent
    }
    return {
        s.id: "down" if s.id in bad else "up" if s.id in seen else "not verified"
        for s in network.sites
    }


def test_sites_on_an_unreachable_router_are_not_verified(network_copy: NetworkCopy) -> None:
    """Its interfaces carry the problem "unreachable", yet the site itself may be fine."""
    network = model(network_copy)
    verify = read_verify_result(VERIFY)
    silent = {u.device for u in verify.unreachable}
    behind = {i.site_id for i in verify.interfaces if i.kind == "site" and i.device in silent}
    assert behind, "the fixture must have a site behind an unreachable router"
    states = site_states(network, verify)
    assert {states[site] for site in behind} == {SiteState.NOT_VERIFIED}


def table_counts(html: str, attr: str) -> dict[tuple[str, str], int]:
    """(PoP, key) -> number, from the cells of the sites-per-PoP table."""
    rows = re.findall(r'<tr data-pop-row="([^"]+)".*?</tr>', html, flags=re.S)
    bodies = re.findall(r'<tr data-pop-row="[^"]+".*?</tr>', html, flags=re.S)
    cells: dict[tuple[str, str], int] = {}
    for pop, body in zip(rows, bodies, strict=True):
        for key, value in re.findall(rf'{attr}="([^"]+)">(\d+)<', body):
            cells[pop, key] = int(value)
    return cells


def test_sites_per_pop_by_community_and_state(network_copy: NetworkCopy, tmp_path: Path) -> None:
    html = written(network_copy, tmp_path / "out", "--verify", str(VERIFY))
    network = model(network_copy)
    states = expected_site_states(network)
    assert set(states.values()) == {"up", "down", "not verified"}, "fixture covers every state"
    by_community = Counter((s.pop, s.community.value) for s in network.sites)
    by_state = Counter((s.pop, states[s.id]) for s in network.sites)
    shown_community = table_counts(html, "data-community")
    shown_state = table_counts(html, "data-site-state")
    for pop in network.topology.pops:
        for (where, community), count in shown_community.items():
            if where == pop.name:
                assert count == by_community[pop.name, community], (pop.name, community)
        for (where, state), count in shown_state.items():
            if where == pop.name:
                assert count == by_state[pop.name, state], (pop.name, state)
    assert shown_state["total", "down"] == sum(1 for v in states.values() if v == "down")
    assert sum(v for (p, _), v in shown_community.items() if p != "total") == len(network.sites)


def test_worst_scenarios_are_the_audits_worst(network_copy: NetworkCopy, tmp_path: Path) -> None:
    html = written(network_copy, tmp_path / "out", "--worst", "3")
    shown = [a["data-scenario"] for a in parse(html).with_attr("data-scenario")]
    worst = [r.scenario.name for r in run_audit(model(network_copy), 1).results[:3]]
    assert shown == worst


def test_verify_section_lists_discrepancies_escaped(
    network_copy: NetworkCopy, tmp_path: Path
) -> None:
    html = written(network_copy, tmp_path / "out", "--verify", str(VERIFY))
    data = json.loads(VERIFY.read_text())
    for problem in data["discrepancies"]:
        assert f"<td>{problem['device']}</td><td>{problem['interface']}</td>" in html
    for router in data["unreachable"]:
        assert router["device"] in html
    assert data["polled_at"] in html
    # A problem text holding markup is shown as text, never run (autoescape).
    assert "<script" not in html.lower() and "&lt;script&gt;" in html


def test_no_fetchable_url(network_copy: NetworkCopy, tmp_path: Path) -> None:
    html = written(network_copy, tmp_path / "out", "--verify", str(VERIFY))
    fetching = [
        (tag, name, value)
        for tag, attrs in parse(html).tags
        for name, value in attrs.items()
        if name in {"src", "href", "xlink:href", "action", "srcset", "poster", "data"}
    ]
    assert fetching == []
    for pattern in ("http://", "https://", "url(", "@import", '="//'):
        assert pattern not in html, pattern


def test_json_summary(network_copy: NetworkCopy, tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = report(network_copy, out, "--verify", str(VERIFY), "--json")
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert Path(summary["path"]) == out / "index.html" and (out / "index.html").is_file()
    network = model(network_copy)
    verified = fixture_links()
    states = Counter(
        verified[link.name]["state"] if link.name in verified else "unknown"
        for link in network.topology.backbone_links
    )
    assert summary["links"] == {state: states[state] for state in ("up", "down", "unknown")}
    assert summary["sites"] == len(network.sites)
    by_state = Counter(expected_site_states(network).values())
    assert summary["sites_by_state"] == {state.value: by_state[state.value] for state in SiteState}
    assert summary["discrepancies"] == len(json.loads(VERIFY.read_text())["discrepancies"])


def test_default_verify_file_is_in_the_state_folder(
    network_copy: NetworkCopy, tmp_path: Path, empty_state: Path
) -> None:
    empty_state.mkdir()
    (empty_state / "verify-last.json").write_bytes(VERIFY.read_bytes())
    result = report(network_copy, tmp_path / "out", "--json")
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["verify"] == str(empty_state / "verify-last.json")
    assert summary["links"]["down"] == 1


@pytest.mark.parametrize(
    ("edit", "fragment"),
    [
        (lambda t: t.replace('"state": "down"', '"state": "sideways"', 1), "links[3].state"),
        (lambda t: re.sub(r'"checked": \d+', '"checked": "many"', t), "checked"),
        (lambda t: t.replace('"polled_at"', '"polled"', 1), "polled_at: is required"),
        (lambda t: t[: len(t) // 2], "not JSON"),
    ],
    ids=["bad-link-state", "bad-count", "missing-field", "truncated"],
)
def test_malformed_verify_file_is_one_line_and_writes_nothing(
    network_copy: NetworkCopy, tmp_path: Path, edit: Any, fragment: str
) -> None:
    bad = tmp_path / "verify.json"
    bad.write_text(edit(VERIFY.read_text()))
    out = tmp_path / "out"
    result = report(network_copy, out, "--verify", str(bad))
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"error: {bad}"), lines
    assert fragment in lines[0]
    assert not out.exists()


def test_an_explicit_verify_file_must_exist(network_copy: NetworkCopy, tmp_path: Path) -> None:
    missing = tmp_path / "nowhere.json"
    result = report(network_copy, tmp_path / "out", "--verify", str(missing))
    assert result.exit_code == 2 and str(missing) in result.stderr


def test_rewriting_replaces_the_previous_report(network_copy: NetworkCopy, tmp_path: Path) -> None:
    out = tmp_path / "out"
    first = written(network_copy, out)
    second = written(network_copy, out, "--verify", str(VERIFY))
    assert first != second and (out / "index.html").read_text() == second
    assert not list(tmp_path.glob(".out.*"))  # no temporary or old folder left behind


def test_a_folder_with_other_files_is_not_replaced(
    network_copy: NetworkCopy, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    result = report(network_copy, out)
    assert result.exit_code == 2 and "notes.txt" in result.stderr
    assert sorted(p.name for p in out.iterdir()) == ["notes.txt"]


def test_a_failed_write_leaves_the_old_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "out"
    atomic_write_dir(out, {"index.html": b"old"})
    calls = 0

    def fail_second(path: Path, data: bytes) -> None:
        nonlocal calls
        calls += 1
        if calls == 2:
            raise OSError(28, "No space left on device")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)

    monkeypatch.setattr("megalis_net.fileio.atomic_write_bytes", fail_second)
    with pytest.raises(WriteError, match="No space left"):
        atomic_write_dir(out, {"index.html": b"new", "style.css": b"x"})
    assert (out / "index.html").read_bytes() == b"old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]  # the temporary one is gone


def test_shipped_network_report_counts(tmp_path: Path) -> None:
    """The real 3000 sites: every site counted once, whatever PoP it hangs on."""
    root = Path(__file__).resolve().parents[1]
    result = CliRunner().invoke(
        app,
        ["--topology", str(root / "topology"), "--inventory", str(root / "inventory"),
         "report", "--out", str(tmp_path / "out"), "--json"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    network = load_network(root / "topology", root / "inventory")
    assert summary["sites"] == len(network.sites)
    # the shipped sites wait on Mégalis I for their waves
    assert summary["sites_by_state"]["legacy"] == len(network.sites)
    assert summary["links"]["unknown"] == len(network.topology.backbone_links)
