"""Poll IF-MIB from many agents at once (pysnmp 7, asyncio).

Each agent's interface table is walked with multi-column GETBULK: first one
request for all the columns we need (``COLUMNS``), which is the whole table
of a CPE; then, for a longer table, the columns side by side in groups
(``PollSettings.columns_per_request``), so that a few requests are in flight
to the agent at once. Agents are polled concurrently, up to
``PollSettings.concurrency`` at a time; one agent that does not answer costs
its timeout and retries, and the others complete.

SNMPv2c goes through pysnmp's light ``v1arch`` dispatcher (no per-community
engine state: the ``v3arch`` API slows to a crawl once thousands of
communities are in play), with responses decoded by ``ber`` rather than
pyasn1 (12x faster on a 3000-interface table: see ``ber``); SNMPv3 needs the
USM engine of ``v3arch``. Values are read without MIB lookups (numeric OIDs).
"""

from __future__ import annotations

import asyncio
import ipaddress
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from enum import IntEnum
from typing import Any

from pyasn1.type import univ
from pysnmp.error import PySnmpError
from pysnmp.hlapi.v1arch import asyncio as v1
from pysnmp.hlapi.v3arch import asyncio as v3
from pysnmp.proto import errind
from pysnmp.proto.api import v2c as v2c_api
from pysnmp.proto.rfc1905 import EndOfMibView, NoSuchInstance, NoSuchObject, errorStatus

from megalis_net.snmp import ber
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
DEFAULT_MAX_REPETITIONS = 100  # rows per GETBULK, at most


@dataclass(frozen=True, slots=True)
class PollSettings:
    timeout: float = DEFAULT_TIMEOUT
    retries: int = DEFAULT_RETRIES
    concurrency: int = DEFAULT_CONCURRENCY
    max_repetitions: int = DEFAULT_MAX_REPETITIONS
    # net-snmp's snmpd answers at most 100 varbinds to a GETBULK
    # (maxGetbulkResponses): asking for more rows only costs a truncated answer
    max_varbinds: int = 100
    # The first request asks for this many rows of every column: a CPE's table
    # (a handful of interfaces) and the end of each column fit in one answer.
    # More is wasted work for the agent (snmpsim's cost grows with the varbinds
    # it answers: 3000 CPEs of 4 interfaces, 11 rows asked → 25.5 s, 5 → 18.6 s).
    first_repetitions: int = 8
    # Past the first request, columns are walked in groups of this many, side by
    # side (one agent, 3000 interfaces, best of 15: 1 → 98 ms, 2 → 106 ms,
    # 3 → 112 ms; all 9 in one walk → 195 ms)
    columns_per_request: int = 1
    # Requests in flight at once, all agents together: the answers share one
    # client socket, whose receive buffer (212 KB by default) overflows when
    # 8 routers x 9 columns of ~5 KB answers land together, and a lost answer
    # costs a whole timeout (lab, 8 agents: 72 in flight 1.15 s, 18 0.20 s)
    max_in_flight: int = 24


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
_Rows = dict[int, list[Any]]
# Sends one GETBULK (start OIDs, max-repetitions); answers the varbinds.
_Request = Callable[[list[tuple[int, ...]], int], Awaitable[list[ber.VarBind]]]


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
    _dispatcher: _Dispatcher | None = None
    _engines: dict[str, Any] = field(default_factory=dict)
    _in_flight: asyncio.Semaphore | None = None

    @property
    def in_flight(self) -> asyncio.Semaphore:
        if self._in_flight is None:  # made in the running loop
            self._in_flight = asyncio.Semaphore(max(1, self.settings.max_in_flight))
        return self._in_flight

    async def walk(self, agent: Agent) -> AgentPoll:
        started = time.monotonic()
        requests = 0
        try:
            rows, requests = await self._walk(agent)
            interfaces = _interfaces(rows)
            error = None
        except AgentError as exc:
            interfaces, error = (), str(exc)
        except (OSError, ValueError, PySnmpError) as exc:  # a bad address, a socket error
            interfaces, error = (), f"{agent.host} ({agent.address}): {exc}"
        except Exception as exc:
            error = (
                f"{agent.host} ({agent.address}): unreadable answer ({type(exc).__name__}: {exc})"
            )
            interfaces = ()
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
        # First every column in one request: a CPE's whole table fits in it.
        await self._step(agent, request, cursors, rows, self.settings.first_repetitions)
        # A longer table: groups of columns walked side by side, so that a few
        # requests are in flight to the agent (one at a time is latency-bound).
        left = sorted(cursors)
        size = max(1, self.settings.columns_per_request)
        groups = [{c: cursors[c] for c in left[n : n + size]} for n in range(0, len(left), size)]
        walks = [asyncio.ensure_future(self._walk_group(agent, request, g, rows)) for g in groups]
        try:
            counts = await asyncio.gather(*walks)
        except BaseException:
            for walk in walks:  # one group failed: the agent's poll is over
                walk.cancel()
            raise
        return rows, 1 + sum(counts)

    async def _walk_group(
        self, agent: Agent, request: _Request, cursors: dict[int, tuple[int, ...]], rows: _Rows
    ) -> int:
        requests = 0
        while cursors:
            await self._step(agent, request, cursors, rows)
            requests += 1
        return requests

    async def _step(
        self,
        agent: Agent,
        request: _Request,
        cursors: dict[int, tuple[int, ...]],
        rows: _Rows,
        repetitions: int | None = None,
    ) -> None:
        """One GETBULK for the columns in ``cursors``: store the rows, move the cursors."""
        columns = list(cursors)
        width = len(columns)
        if repetitions is None:
            settings = self.settings
            repetitions = min(settings.max_repetitions, max(1, settings.max_varbinds // width))
        async with self.in_flight:
            answer = await request([cursors[c] for c in columns], repetitions)
        if not answer:
            raise AgentError(f"{agent.host} ({agent.address}): empty GETBULK response")
        finished: set[int] = set()
        for position, (oid, value) in enumerate(answer):
            column = columns[position % width]
            if column in finished:
                continue
            prefix = COLUMNS[column]
            if (
                value.__class__ is ber.NoValue
                or oid[: len(prefix)] != prefix
                or len(oid) != len(prefix) + 1
            ):
                finished.add(column)
                continue
            if oid <= cursors[column]:  # a broken agent would loop us forever
                raise AgentError(f"{agent.host} ({agent.address}): OIDs not increasing at {oid}")
            index = oid[-1]
            row = rows.get(index)
            if row is None:
                row = rows[index] = [None] * len(COLUMNS)
            row[column] = value
            cursors[column] = oid
        for column in finished:
            del cursors[column]

    async def _requester(self, agent: Agent) -> _Request:
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
                self._dispatcher = _Dispatcher()
            dispatcher = self._dispatcher
            auth = v1.CommunityData(credentials.community, mpModel=1)
            target = await _UdpTarget.create(
                (agent.address, agent.port),
                timeout=settings.timeout,
                retries=settings.retries,
            )
            # v2c has no error for a wrong community: the agent stays silent
            silent = f"{no_answer} (agent down, unreachable, or wrong community)"

            async def v2c_request(
                oids: list[tuple[int, ...]], repetitions: int
            ) -> list[ber.VarBind]:
                response = await dispatcher.bulk(auth, target, repetitions, oids)
                if isinstance(response, errind.ErrorIndication):
                    _raise_on(where, silent, response, None, None)
                    return []
                _raise_on(where, silent, None, response.error_status, response.error_index)
                return response.varbinds

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
        silent3 = f"{no_answer} (agent down, unreachable, or wrong privacy key)"

        async def v3_request(oids: list[tuple[int, ...]], repetitions: int) -> list[ber.VarBind]:
            indication, status, index, binds = await v3.bulk_cmd(
                engine,
                user,
                target3,
                context,
                0,
                repetitions,
                *[v3.ObjectType(v3.ObjectIdentity(oid)) for oid in oids],
                lookupMib=False,
            )
            _raise_on(where, silent3, indication, status, index)
            return [(tuple(bind[0]), _plain(bind[1])) for bind in binds]

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


class _Dispatcher(v1.SnmpDispatcher):  # type: ignore[misc]
    """pysnmp's v1arch dispatcher (transport, request ids, timeouts and retries),
    with responses decoded by ``ber`` instead of pyasn1 (see ``ber`` for why)."""

    async def bulk(
        self, auth: Any, target: Any, max_repetitions: int, oids: list[tuple[int, ...]]
    ) -> ber.Response | errind.ErrorIndication:
        pdu = v2c_api.GetBulkRequestPDU()
        v2c_api.apiPDU.set_defaults(pdu)
        v2c_api.apiBulkPDU.set_non_repeaters(pdu, 0)
        v2c_api.apiBulkPDU.set_max_repetitions(pdu, max_repetitions)
        v2c_api.apiPDU.set_varbinds(pdu, [(oid, _NULL) for oid in oids])
        future: asyncio.Future[ber.Response | errind.ErrorIndication] = (
            asyncio.get_running_loop().create_future()
        )
        self.send_pdu(auth, target, pdu, cbFun=_resolve, cbCtx=future)
        return await future

    # Overrides pysnmp's private receive hook (pysnmp is pinned < 8): same
    # bookkeeping as the original, minus the pyasn1 decoding.
    def _recv_callback(self, engine: Any, domain: Any, address: Any, message: bytes) -> bytes:
        try:
            response = ber.decode_response(message)
        except ber.BerError:
            return b""  # not a Response we asked for: dropped, like pysnmp does
        state = self._pendingReqs.pop(response.request_id, None)
        if state is None:
            return b""  # a late answer to a request already retried or timed out
        self.transport_dispatcher.job_finished(id(self))
        state["cbFun"](self, response.request_id, None, response, state["cbCtx"])
        return b""


class _UdpTarget(v1.UdpTransportTarget):  # type: ignore[misc]
    """A numeric address needs no resolver (pysnmp's goes through a thread)."""

    async def _resolve_address(self, address: tuple[str, int]) -> tuple[str, int]:
        try:
            return str(ipaddress.IPv4Address(address[0])), address[1]
        except ValueError:
            return await super()._resolve_address(address)  # type: ignore[no-any-return]


_NULL = v2c_api.Null("")


def _resolve(dispatcher: Any, request_id: int, indication: Any, response: Any, future: Any) -> None:
    if not future.done():
        future.set_result(indication if indication else response)


def _plain(value: Any) -> ber.Value:
    """A pyasn1 value (from the v3 path) as the plain value ``ber`` gives."""
    if isinstance(value, EndOfMibView | NoSuchObject | NoSuchInstance):
        return ber.NoValue(ber.END_OF_MIB_VIEW)
    # pyasn1's base types: v3arch may decode to them rather than to SNMP's subclasses
    if isinstance(value, univ.OctetString):
        return bytes(value)
    if isinstance(value, univ.ObjectIdentifier):
        return tuple(value)
    return int(value) if value is not None and value.isValue else None


def _raise_on(where: str, silent: str, indication: Any, status: Any, index: Any) -> None:
    if isinstance(indication, errind.RequestTimedOut):
        raise AgentError(silent)
    if indication:
        # USM reports name the fault: unknownUserName, wrongDigest, decryptionError
        raise AgentError(f"{where}: {indication}")
    if status and int(status):
        name = errorStatus.clone(int(status)).prettyPrint()
        raise AgentError(f"{where}: SNMP error {name} at varbind {index}")


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
