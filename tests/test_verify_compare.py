"""verify's comparison, on made-up SNMP answers (no agent needed); the lab
tests (test_verify.py) run the same against real snmpd."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from megalis_net.intent import build_intents
from megalis_net.ipam import Allocations
from megalis_net.lab.ifalias import Interfaces, answer
from megalis_net.model import Network
from megalis_net.napalm_frr.onrouter import descriptions, sync_aliases
from megalis_net.snmp import AgentPoll, Interface
from megalis_net.verify import Intended, Kind, compare, intended_interfaces

RING = Intended("pe-a", "bb0", "ring-a-b pe-b", Kind.RING, "ring-a-b", 2000)
FAR = Intended("pe-b", "bb1", "ring-a-b pe-a", Kind.RING, "ring-a-b", 2000)
SITE = Intended("pe-a", "acc0.100", "S-1 Mairie", Kind.SITE, "S-1", 10, "S-1")


def row(index: int, name: str, alias: str, **values: int) -> Interface:
    fields = dict(admin_status=1, oper_status=1, high_speed=2000, in_octets=0, out_octets=0,
                  in_errors=0, out_errors=0)  # fmt: skip
    fields.update(values)
    return Interface(index, name, alias, **fields)


def answer_of(host: str, *rows: Interface, at: float = 100.0) -> AgentPoll:
    return AgentPoll(host, "198.18.0.1", rows, at=at)


def healthy(at: float = 100.0, octets: int = 0) -> dict[str, AgentPoll]:
    return {
        "pe-a": answer_of(
            "pe-a",
            row(1, "bb0", RING.description, in_octets=octets, out_octets=octets // 2),
            row(2, "acc0.100", SITE.description, high_speed=10000),
            at=at,
        ),
        "pe-b": answer_of("pe-b", row(7, "bb1", FAR.description), at=at),
    }


def problems(result_polls: dict[str, AgentPoll]) -> list[tuple[str, str, str]]:
    result = compare([RING, FAR, SITE], result_polls, None, ["pe-a", "pe-b"], 0.0)
    return [(d.device, d.interface, d.problem) for d in result.discrepancies]


def test_all_as_intended_is_fine_and_site_speed_is_not_checked() -> None:
    result = compare([RING, FAR, SITE], healthy(), None, ["pe-a", "pe-b"], 0.0)
    assert result.ok and result.fine == 3
    assert [link.state.value for link in result.links()] == ["up", "up"]


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ({"oper_status": 2}, "oper down"),
        ({"admin_status": 2, "oper_status": 2}, "admin down"),
        ({"high_speed": 10000}, "speed"),
    ],
)
def test_one_fault_one_discrepancy(change: dict[str, int], problem: str) -> None:
    polls = healthy()
    broken = replace(polls["pe-a"].interfaces[0], **change)
    polls["pe-a"] = replace(polls["pe-a"], interfaces=(broken, polls["pe-a"].interfaces[1]))
    assert problems(polls) == [("pe-a", "bb0", problem)]


def test_description_on_another_interface_is_moved_not_missing() -> None:
    polls = healthy()
    polls["pe-b"] = answer_of("pe-b", row(7, "bb1", ""), row(9, "bb4", FAR.description))
    result = compare([RING, FAR, SITE], polls, None, ["pe-a", "pe-b"], 0.0)
    (found,) = result.discrepancies
    assert (found.interface, found.problem) == ("bb1", "moved")
    assert "bb4" in found.detail
    assert {link.link: link.state.value for link in result.links()}["ring-a-b"] == "down"


def test_missing_and_wrong_description() -> None:
    polls = healthy()
    polls["pe-b"] = answer_of("pe-b")
    polls["pe-a"] = answer_of(
        "pe-a", row(1, "bb0", "ring-x-y pe-z"), row(2, "acc0.100", SITE.description)
    )
    assert problems(polls) == [
        ("pe-a", "bb0", "description differs"),
        ("pe-b", "bb1", "missing"),
    ]


def test_unreachable_router_is_one_line_and_its_links_unknown() -> None:
    polls = healthy()
    polls["pe-b"] = AgentPoll("pe-b", "198.18.0.2", error="pe-b (198.18.0.2): no SNMP response")
    result = compare([RING, FAR, SITE], polls, None, ["pe-a", "pe-b"], 0.0)
    assert [(d.device, d.problem) for d in result.discrepancies] == [("pe-b", "unreachable")]
    assert not result.ok
    # the link's other end answered: it is judged on that end
    assert {link.link: link.state.value for link in result.links()}["ring-a-b"] == "up"


def test_two_polls_give_rates_and_growing_errors() -> None:
    first = healthy(at=100.0, octets=1_000)
    second = healthy(at=110.0, octets=1_000 + 250_000_000)  # 200 Mb/s in, 100 out, over 10 s
    grown = replace(second["pe-b"].interfaces[0], in_errors=3)
    second["pe-b"] = replace(second["pe-b"], interfaces=(grown,))
    result = compare([RING, FAR, SITE], first, second, ["pe-a", "pe-b"], 10.0)
    ring = next(c for c in result.checked if c.intended == RING)
    assert ring.in_bps == pytest.approx(200e6, rel=1e-6)
    assert ring.utilisation == pytest.approx(0.1, rel=1e-6)
    assert [(d.device, d.problem) for d in result.discrepancies] == [("pe-b", "errors growing")]
    link = next(link for link in result.links() if link.link == "ring-a-b")
    assert link.utilisation == pytest.approx(0.1, rel=1e-6)


def test_a_counter_reset_gives_no_rate() -> None:
    first = healthy(at=100.0, octets=5_000_000)
    second = healthy(at=105.0, octets=10)
    result = compare([RING, FAR, SITE], first, second, ["pe-a", "pe-b"], 5.0)
    assert next(c for c in result.checked if c.intended == RING).utilisation is None


def test_intended_interfaces_cover_every_link_end_and_site(
    render_network: tuple[Network, Allocations],
) -> None:
    network, allocations = render_network
    intents = build_intents(network, allocations)
    intended = intended_interfaces(network, intents)
    kinds = [item.kind for item in intended]
    topology = network.topology
    rings = sum(1 for link in topology.links if link.role.value == "ring")
    assert kinds.count(Kind.RING) == 2 * rings
    assert kinds.count(Kind.EXTENSION) == 2 * (len(topology.links) - rings)
    assert kinds.count(Kind.UPSTREAM) == len(topology.upstreams)
    assert sorted(i.site_id for i in intended if i.kind is Kind.SITE) == sorted(
        s.id for s in network.sites
    )
    descriptions_ = {i.description for i in intended}
    assert len(descriptions_) == len(intended)  # matching by description is unambiguous


# -- how the lab's agent learns descriptions -----------------------------------


def test_descriptions_and_alias_sync(tmp_path: Path) -> None:
    config = "interface bb0\n description ring a\nexit\n!\ninterface acc0.1\nexit\n!\n"
    assert descriptions(config) == {"bb0": "ring a", "acc0.1": ""}
    for name, alias in (("bb0", ""), ("acc0.1", "S-1 old"), ("acc0.2", "S-2 removed")):
        (tmp_path / name).mkdir()
        (tmp_path / name / "ifalias").write_text(alias + "\n")
    assert sync_aliases(config, tmp_path) == 3
    assert {p.name: (p / "ifalias").read_text() for p in tmp_path.iterdir()} == {
        "bb0": "ring a\n", "acc0.1": "\n", "acc0.2": "\n",
    }  # fmt: skip
    assert sync_aliases(config, tmp_path) == 0  # nothing to write the second time


def test_pass_persist_answers_walk_the_alias_column(tmp_path: Path) -> None:
    for index, name, alias in ((1, "lo", ""), (3, "bb0", "ring a"), (7, "acc0.1", "S-1 x")):
        (tmp_path / name).mkdir()
        (tmp_path / name / "ifindex").write_text(f"{index}\n")
        (tmp_path / name / "ifalias").write_text(alias + "\n")
    interfaces = Interfaces(tmp_path)
    column = ".1.3.6.1.2.1.31.1.1.1.18"
    walked, oid = [], column
    while True:
        reply = answer(interfaces, "getnext", oid)
        if reply == ["NONE"]:
            break
        oid = reply[0]
        walked.append((oid.rsplit(".", 1)[1], reply[2]))
    assert walked == [("1", ""), ("3", "ring a"), ("7", "S-1 x")]
    assert answer(interfaces, "get", f"{column}.3") == [f"{column}.3", "string", "ring a"]
    assert answer(interfaces, "get", f"{column}.4") == ["NONE"]
    assert answer(interfaces, "getnext", ".1.3.6.1.2.1.31.1.1.1.19") == ["NONE"]


def test_a_described_interface_the_intent_does_not_know_is_reported() -> None:
    polls = healthy()
    leftover = row(5, "acc0.300", "S-9 Site removed from the inventory")
    polls["pe-a"] = replace(polls["pe-a"], interfaces=(*polls["pe-a"].interfaces, leftover))
    known = {"pe-a": {RING.description, SITE.description}, "pe-b": {FAR.description}}
    result = compare([RING, FAR, SITE], polls, None, ["pe-a", "pe-b"], 0.0, known)
    assert [(d.interface, d.problem, d.link) for d in result.discrepancies] == [
        ("acc0.300", "not intended", "S-9")
    ]
    assert not result.ok and result.fine == 3
    # without the list of known descriptions (site add --apply's check), not judged
    assert compare([RING, FAR, SITE], polls, None, ["pe-a", "pe-b"], 0.0).ok
