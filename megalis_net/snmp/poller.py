"""Poll IF-MIB from many agents at once (pysnmp 7, asyncio).

Each agent's interface table is walked with multi-column GETBULK: the columns
we need (``COLUMNS``) in every request, so a 3000-interface router costs about
``3000 / max_repetitions`` round trips. Agents are polled concurrently, up to
``PollSettings.concurrency`` at a time; one agent that does not answer costs
its timeout and retries, and the others complete.

SNMPv2c goes through pysnmp's light ``v1arch`` API (one ``SnmpDispatcher``,
no per-community engine state: the ``v3arch`` API slows to a crawl once
thousands of communities are in play); SNMPv3 needs the USM engine of
``v3arch``. Values are read without MIB lookups (numeric OIDs), which is
several times faster.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from enum import IntEnum
from typing import Any

from pysnmp.hlapi.v1arch import asyncio as v1
from pysnmp.hlapi.v3arch import asyncio as v3
from pysnmp.proto import errind
from pysnmp.proto.rfc1905 import EndOfMibView, NoSuchInstance, NoSuchObject

from megalis_net.snmp.credentials import V3, Credentials, V2c


class Column(IntEnum):
    """IF-MIB columns the poller reads, by their position in a request."""

    NAME = 0
    ALIAS = 1
    ADMIN_STATUS = 2
    OPER_STATUS = 3
    HIGH_SPEED = 4
    IN_OCTETS = 5
    OUT_OCTETS = 6
    IN_ERRORS = 7
    OUT_ERRORS = 8


# Numeric OIDs (no MIB files are needed, or loaded).
COLUMNS: tuple[tuple[int, ...], ...] = (
    (1, 3, 6, 1, 2, 1, 31, 1, 1, 1, 1),  # ifName
    (1, 3, 6, 1, 2, 1, 31, 1, 1, 1, 18),  # ifAlias
    (1, 3, 6, 1, 2, 1, 2, 2, 1, 7),  # ifAdminStatus
    (1, 3, 6, 1, 2, 1, 2, 2, 1, 8),  # ifOperStatus
    (1, 3, 6, 1, 2, 1, 31, 1, 1, 1, 15),  # ifHighSpeed
    (1, 3, 6, 1, 2, 1, 31, 1, 1, 1, 6),  # ifHCInOctets
    (1, 3, 6, 1, 2, 1, 31, 1, 1, 1, 10),  # ifHCOutOctets
    (1, 3, 6, 1, 2, 1, 2, 2, 1, 14),  # ifInErrors
    (1, 3, 6, 1, 2, 1, 2, 2, 1, 20),  # ifOutErrors
)
COLUMN_NAMES = (
    "ifName",
    "ifAlias",
    "ifAdminStatus",
    "ifOperStatus",
    "ifHighSpeed",
    "ifHCInOctets",
    "ifHCOutOctets",
    "ifInErrors",
    "ifOutErrors",
)

# ifAdminStatus / ifOperStatus values (RFC 2863)
STATUS_NAMES = {
    1: "up",
    2: "down",
    3: "testing",
    4: "unknown",
    5: "dormant",
    6: "notPresent",
    7: "lowerLayerDown",
}


@dataclass(frozen=True, slots=True)
class Agent:
    """One SNMP agent: the router it belongs to and how to reach it."""

    host: str
    address: str
    credentials: Credentials
    port: int = 161


DEFAULT_TIMEOUT = 1.0  # seconds per try
DEFAULT_RETRIES = 1
DEFAULT_CONCURRENCY = 64  # agents polled at once
DEFAULT_MAX_REPETITIONS = 25  # rows per GETBULK


@dataclass(frozen=True, slots=True)
class PollSettings:
    timeout: float = DEFAULT_TIMEOUT
    retries: int = DEFAULT_RETRIES
    concurrency: int = DEFAULT_CONCURRENCY
    max_repetitions: int = DEFAULT_MAX_REPETITIONS


@dataclass(frozen=True, slots=True)
class Interface:
    """One row of an agent's interface table."""

    index: int
    name: str
    alias: str
    admin_status: int
    oper_status: int
    high_speed: int  # Mb/s
    in_octets: int
    out_octets: int
    in_errors: int
    out_errors: int

    @property
    def admin(self) -> str:
        return STATUS_NAMES.get(self.admin_status, str(self.admin_status))

    @property
    def oper(self) -> str:
        return STATUS_NAMES.get(self.oper_status, str(self.oper_status))


@dataclass(frozen=True, slots=True)
class AgentPoll:
    """What one agent answered: its interfaces, or why it did not."""

    host: str
    address: str
    interfaces: tuple[Interface, ...] = ()
    error: str | None = None
    at: float = 0.0  # time.monotonic() when the walk finished
    seconds: float = 0.0
    requests: int = 0

    @property
    def ok(self) -> bool:
        return self.error is None


class AgentError(Exception):
    """One agent could not be polled; the message names it."""


Progress = Callable[[AgentPoll], None]


def poll(
    agents: Sequence[Agent],
    settings: PollSettings = PollSettings(),
    progress: Progress | None = None,
) -> dict[str, AgentPoll]:
    """Poll every agent once; one result per host, in the order given."""
    results = asyncio.run(poll_async(agents, settings, progress))
    return {result.host: result for result in results}


async def poll_async(
    agents: Sequence[Agent],
    settings: PollSettings = PollSettings(),
    progress: Progress | None = None,
) -> list[AgentPoll]:
    session = _Session(settings)
    limit = asyncio.Semaphore(max(1, settings.concurrency))

    async def one(agent: Agent) -> AgentPoll:
        async with limit:
            result = await session.walk(agent)
        if progress is not None:
            progress(result)
        return result

    try:
        return list(await asyncio.gather(*(one(agent) for agent in agents)))
    finally:
        session.close()


@dataclass
class _Session:
    """The pysnmp engines, created once per poll and only if needed."""

    settings: PollSettings
    _dispatcher: Any = None
    _engines: dict[str, Any] = field(default_factory=dict)

    async def walk(self, agent: Agent) -> AgentPoll:
        started = time.monotonic()
        requests = 0
        try:
            rows, requests = await self._walk(agent)
            interfaces = _interfaces(rows)
            error = None
        except AgentError as exc:
            interfaces, error = (), str(exc)
        except (OSError, ValueError) as exc:  # a bad address, a socket error
            interfaces, error = (), f"{agent.host} ({agent.address}): {exc}"
        done = time.monotonic()
        return AgentPoll(
            agent.host, agent.address, interfaces, error, done, done - started, requests
        )

    async def _walk(self, agent: Agent) -> tuple[dict[int, list[Any]], int]:
        request = await self._requester(agent)
        rows: dict[int, list[Any]] = {}
        # Per column, the OID to continue from; a column is done once the
        # agent answers with an OID outside it.
        cursors: dict[int, tuple[int, ...]] = dict(enumerate(COLUMNS))
        requests = 0
        while cursors:
            columns = list(cursors)
            answer = await request([cursors[c] for c in columns])
            requests += 1
            width = len(columns)
            finished: set[int] = set()
            for position, (oid, value) in enumerate(answer):
                column = columns[position % width]
                if column in finished:
                    continue
                prefix = COLUMNS[column]
                if (
                    isinstance(value, EndOfMibView | NoSuchObject | NoSuchInstance)
                    or oid[: len(prefix)] != prefix
                    or len(oid) != len(prefix) + 1
                ):
                    finished.add(column)
                    continue
                index = oid[-1]
                rows.setdefault(index, [None] * len(COLUMNS))[column] = value
                cursors[column] = oid
            if not answer:
                raise AgentError(f"{agent.host} ({agent.address}): empty GETBULK response")
            for column in finished:
                cursors.pop(column, None)
        return rows, requests

    async def _requester(self, agent: Agent) -> Callable[[list[tuple[int, ...]]], Any]:
        """A function sending one GETBULK to the agent, returning (oid, value) pairs."""
        settings = self.settings
        credentials = agent.credentials
        where = f"{agent.host} ({agent.address})"
        no_answer = (
            f"{where}: no SNMP response after {settings.retries + 1} tries of"
            f" {settings.timeout:g} s"
        )
        if isinstance(credentials, V2c):
            if self._dispatcher is None:
                self._dispatcher = v1.SnmpDispatcher()
            dispatcher = self._dispatcher
            auth = v1.CommunityData(credentials.community, mpModel=1)
            target = await v1.UdpTransportTarget.create(
                (agent.address, agent.port),
                timeout=settings.timeout,
                retries=settings.retries,
            )
            # v2c has no error for a wrong community: the agent stays silent
            silent = f"{no_answer} (agent down, unreachable, or wrong community)"

            async def v2c_request(oids: list[tuple[int, ...]]) -> list[tuple[Any, Any]]:
                indication, status, index, binds = await v1.bulk_cmd(
                    dispatcher,
                    auth,
                    target,
                    0,
                    settings.max_repetitions,
                    *[(oid, v1.Null("")) for oid in oids],
                    lookupMib=False,
                )
                _raise_on(where, silent, indication, status, index)
                return [(tuple(oid), value) for oid, value in binds]

            return v2c_request

        assert isinstance(credentials, V3)
        # pysnmp keeps one USM table per engine, keyed by user name: two key sets
        # for one name (a mistyped key on one router) need engines of their own
        engine = self._engines.get(credentials.fingerprint)
        if engine is None:
            engine = self._engines[credentials.fingerprint] = v3.SnmpEngine()
        user = v3.UsmUserData(
            credentials.user,
            authKey=credentials.auth_key,
            privKey=credentials.priv_key,
            authProtocol=_AUTH[credentials.auth_protocol],
            privProtocol=_PRIV[credentials.priv_protocol],
        )
        target3 = await v3.UdpTransportTarget.create(
            (agent.address, agent.port), timeout=settings.timeout, retries=settings.retries
        )
        context = v3.ContextData()
        silent3 = f"{no_answer} (agent down or unreachable)"

        async def v3_request(oids: list[tuple[int, ...]]) -> list[tuple[Any, Any]]:
            indication, status, index, binds = await v3.bulk_cmd(
                engine,
                user,
                target3,
                context,
                0,
                settings.max_repetitions,
                *[v3.ObjectType(v3.ObjectIdentity(oid)) for oid in oids],
                lookupMib=False,
            )
            _raise_on(where, silent3, indication, status, index)
            return [(tuple(bind[0]), bind[1]) for bind in binds]

        return v3_request

    def close(self) -> None:
        if self._dispatcher is not None:
            self._dispatcher.transport_dispatcher.close_dispatcher()
        for engine in self._engines.values():
            engine.close_dispatcher()


_AUTH = {
    "sha": v3.usmHMACSHAAuthProtocol,
    "sha256": v3.usmHMAC192SHA256AuthProtocol,
    "md5": v3.usmHMACMD5AuthProtocol,
}
_PRIV = {
    "aes": v3.usmAesCfb128Protocol,
    "aes256": v3.usmAesCfb256Protocol,
    "des": v3.usmDESPrivProtocol,
}


def _raise_on(where: str, silent: str, indication: Any, status: Any, index: Any) -> None:
    if isinstance(indication, errind.RequestTimedOut):
        raise AgentError(silent)
    if indication:
        # USM reports name the fault: unknownUserName, wrongDigest, decryptionError
        raise AgentError(f"{where}: {indication}")
    if status and int(status):
        raise AgentError(f"{where}: SNMP error {status.prettyPrint()} at varbind {index}")


def _interfaces(rows: dict[int, list[Any]]) -> tuple[Interface, ...]:
    return tuple(
        Interface(
            index=index,
            name=_text(values[Column.NAME]),
            alias=_text(values[Column.ALIAS]),
            admin_status=_number(values[Column.ADMIN_STATUS]),
            oper_status=_number(values[Column.OPER_STATUS]),
            high_speed=_number(values[Column.HIGH_SPEED]),
            in_octets=_number(values[Column.IN_OCTETS]),
            out_octets=_number(values[Column.OUT_OCTETS]),
            in_errors=_number(values[Column.IN_ERRORS]),
            out_errors=_number(values[Column.OUT_ERRORS]),
        )
        for index, values in sorted(rows.items())
    )


def _text(value: Any) -> str:
    return "" if value is None else bytes(value).decode("utf-8", "replace")


def _number(value: Any) -> int:
    return 0 if value is None else int(value)


def agents_with(
    hosts: Iterable[tuple[str, str]], credentials: Callable[[str], Credentials]
) -> list[Agent]:
    """Agents for (host, address) pairs, with each host's credentials."""
    return [Agent(host, address, credentials(host)) for host, address in hosts]
