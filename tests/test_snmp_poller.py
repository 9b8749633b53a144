"""The IF-MIB poller.

Fast tier: the walk logic against an in-memory agent that answers GETBULK as
RFC 3416 says (and caps its answers as snmpd and snmpsim do). Lab tier (root,
snmpd): a stand-in agent in a namespace of our own (``mgxb-test-<pid>``),
whose every row must equal what net-snmp's ``snmpbulkwalk`` reads, over v2c
and v3 authPriv; and faulty agents each fail alone, named.
"""

from __future__ import annotations

import bisect
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from megalis_net.lab.netsnmp import row_of, walk_table
from megalis_net.lab.standin import StandIn
from megalis_net.snmp import COLUMNS, V3, Agent, AgentPoll, PollSettings, V2c, ber, poll
from megalis_net.snmp import poller as poller_module

# -- fast tier: an in-memory agent ---------------------------------------------


class FakeAgent:
    """GETBULK over a sorted table of (oid, value), answering at most ``cap`` varbinds."""

    def __init__(self, rows: int, cap: int = 100, extra: int = 3) -> None:
        table: dict[tuple[int, ...], ber.Value] = {}
        for index in range(1, rows + 1):
            values = (f"if{index}".encode(), b"", 1, 1 + index % 2, 1000, index, 2 * index, 0, 0)
            for column, value in zip(COLUMNS, values, strict=True):
                table[(*column, index)] = value
        for n in range(extra):  # something after IF-MIB, as in a real agent
            table[(1, 3, 6, 1, 6, 3, n)] = n
        self.oids = sorted(table)
        self.table = table
        self.cap = cap
        self.requests = 0

    async def bulk(self, oids: list[tuple[int, ...]], repetitions: int) -> list[ber.VarBind]:
        self.requests += 1
        answer: list[ber.VarBind] = []
        cursors = list(oids)
        for _ in range(repetitions):
            for position, oid in enumerate(cursors):
                at = bisect.bisect_right(self.oids, oid)
                if at == len(self.oids):
                    answer.append((oid, ber.NoValue(ber.END_OF_MIB_VIEW)))
                else:
                    cursors[position] = self.oids[at]
                    answer.append((self.oids[at], self.table[self.oids[at]]))
        return answer[: self.cap]


def fake_poll(
    monkeypatch: pytest.MonkeyPatch, agent: Any, settings: PollSettings | None = None
) -> AgentPoll:
    async def requester(self: Any, _: Agent) -> Any:
        return agent.bulk

    monkeypatch.setattr(poller_module._Session, "_requester", requester)
    agents = [Agent("cpe-1", "198.18.200.99", V2c("x"))]
    return poll(agents, settings or PollSettings())["cpe-1"]


@pytest.mark.parametrize("rows", [0, 1, 4, 7, 8, 11, 250], ids=lambda n: f"{n}-rows")
@pytest.mark.parametrize("cap", [64, 100, 10_000], ids=lambda n: f"cap-{n}")
@pytest.mark.parametrize("columns_per_request", [1, 3, 9], ids=lambda n: f"{n}-cols")
def test_every_row_is_read_whatever_the_table_size_and_agent_cap(
    monkeypatch: pytest.MonkeyPatch, rows: int, cap: int, columns_per_request: int
) -> None:
    agent = FakeAgent(rows, cap)
    result = fake_poll(monkeypatch, agent, PollSettings(columns_per_request=columns_per_request))
    assert result.ok, result.error
    assert [(i.index, i.name, i.oper_status, i.out_octets) for i in result.interfaces] == [
        (n, f"if{n}", 1 + n % 2, 2 * n) for n in range(1, rows + 1)
    ]
    assert result.requests == agent.requests


def test_a_cpe_table_takes_one_request(monkeypatch: pytest.MonkeyPatch) -> None:
    agent = FakeAgent(rows=4, cap=64)
    assert fake_poll(monkeypatch, agent).requests == 1


class Looping(FakeAgent):
    """An agent that answers the same OIDs forever."""

    async def bulk(self, oids: list[tuple[int, ...]], repetitions: int) -> list[ber.VarBind]:
        return [(oid, b"x") for oid in oids] if self.requests else await super().bulk(oids, 2)


def test_an_agent_whose_oids_do_not_increase_fails_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    result = fake_poll(monkeypatch, Looping(rows=10))
    assert result.error is not None and "OIDs not increasing" in result.error
    assert "cpe-1 (198.18.200.99)" in result.error


class Failing(FakeAgent):
    """An agent that stops answering after a few requests."""

    async def bulk(self, oids: list[tuple[int, ...]], repetitions: int) -> list[ber.VarBind]:
        if self.requests >= 3:
            raise poller_module.AgentError("cpe-1 (198.18.200.99): no SNMP response")
        return await super().bulk(oids, repetitions)


def test_a_failure_in_one_column_ends_the_agents_poll(monkeypatch: pytest.MonkeyPatch) -> None:
    agent = Failing(rows=1000)
    result = fake_poll(monkeypatch, agent)
    assert result.error == "cpe-1 (198.18.200.99): no SNMP response"
    assert result.interfaces == ()
    assert agent.requests == 3  # the other columns' walks were cancelled


# -- lab tier: a stand-in snmpd ------------------------------------------------

COMMUNITY = "t3st-community"
USER = V3("megalis-test", "authpass-test", "privpass-test")


@pytest.fixture(scope="module")
def standin(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StandIn]:
    if os.geteuid() != 0 or not Path("/usr/sbin/snmpd").exists():
        pytest.fail("SNMP lab tests need root and snmpd, snmp (scripts/install-system)")
    agent = StandIn(
        f"mgxb-test-{os.getpid()}",
        "198.18.200.4/30",
        pairs=150,
        community=COMMUNITY,
        v3=USER,
        directory=tmp_path_factory.mktemp("standin"),
    )
    agent.up()
    try:
        yield agent
    finally:
        agent.down()


STABLE = range(5)  # ifName, ifAlias, ifAdminStatus, ifOperStatus, ifHighSpeed
COUNTERS = range(5, 9)  # octets and errors: may only have grown between the two reads


def assert_same_as_snmpbulkwalk(result: AgentPoll, standin: StandIn, agent: Agent) -> None:
    assert result.ok, result.error
    theirs = walk_table(standin.address, agent.credentials)
    ours = {i.index: row_of(i) for i in result.interfaces}
    assert len(ours) == 2 * standin.pairs + 2  # the veths, lo and the uplink
    aliases = [i.alias for i in result.interfaces if i.alias]
    assert len(aliases) == standin.pairs and "Mairie de Plérin - site 149" in aliases[-1]
    assert sorted(ours) == sorted(theirs)
    for index, values in ours.items():
        assert [values[c] for c in STABLE] == [theirs[index][c] for c in STABLE], index
        for c in COUNTERS:
            grown = int(theirs[index][c] or 0) - int(values[c] or 0)
            assert 0 <= grown < 10_000_000, (index, c)


@pytest.mark.lab
def test_v2c_rows_equal_snmpbulkwalk(standin: StandIn) -> None:
    agent = Agent("standin", standin.address, V2c(COMMUNITY))
    assert_same_as_snmpbulkwalk(poll([agent])["standin"], standin, agent)


@pytest.mark.lab
def test_v3_authpriv_rows_equal_snmpbulkwalk(standin: StandIn) -> None:
    agent = Agent("standin", standin.address, USER)
    assert_same_as_snmpbulkwalk(poll([agent])["standin"], standin, agent)


@pytest.mark.lab
def test_faulty_agents_fail_alone_and_named(standin: StandIn) -> None:
    address = standin.address
    agents = [
        Agent("good-v2c", address, V2c(COMMUNITY)),
        Agent("good-v3", address, USER),
        Agent("wrong-community", address, V2c("not-the-community")),
        Agent("wrong-auth-key", address, V3(USER.user, "wrong-authpass", USER.priv_key)),
        Agent("wrong-priv-key", address, V3(USER.user, USER.auth_key, "wrong-privpass")),
        Agent("unknown-user", address, V3("nobody", USER.auth_key, USER.priv_key)),
        Agent("no-agent", address, V2c(COMMUNITY), port=1161),  # nothing listens there
    ]
    results = poll(agents, PollSettings(timeout=0.5, retries=1))
    assert results["good-v2c"].ok and results["good-v3"].ok
    assert len(results["good-v2c"].interfaces) == 2 * standin.pairs + 2
    names = [[i.name for i in results[h].interfaces] for h in ("good-v2c", "good-v3")]
    assert names[0] == names[1]
    for host in ("wrong-community", "wrong-auth-key", "wrong-priv-key", "unknown-user", "no-agent"):
        error = results[host].error
        assert error is not None and error.startswith(f"{host} ({address}):"), (host, error)
    assert "wrong community" in str(results["wrong-community"].error)
    assert "wrong privacy key" in str(results["wrong-priv-key"].error)  # snmpd stays silent


def test_v3_values_in_pyasn1_base_types_are_read() -> None:
    """v3arch may hand back pyasn1's base types (seen past the end of a column
    on the lab's snmpd: an OBJECT IDENTIFIER value), not SNMP's subclasses."""
    from pyasn1.type import univ

    from megalis_net.snmp.poller import _plain

    assert _plain(univ.ObjectIdentifier("1.3.6.1.2")) == (1, 3, 6, 1, 2)
    assert _plain(univ.OctetString(b"ring-a-b pe-b")) == b"ring-a-b pe-b"
    assert _plain(univ.Integer(7)) == 7
