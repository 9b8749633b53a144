"""Compare the intended links with what the routers report over SNMP.

Intended: every backbone port (ring, extension), every upstream port and
every routed site attachment of the devices' intent, each with the
description the templates give it. Reported: IF-MIB of each router, polled
twice ``interval`` seconds apart (``snmp.poll``).

An intended interface is fine when the router has an interface of that name
carrying that description, administratively and operationally up, at the
intended speed (backbone and upstream ports), with no error counter growing
between the two polls. Otherwise it is a discrepancy that says what differs:
missing, moved (its description is on another interface: mis-cabled or
renamed), description differs, admin down, oper down, speed, errors growing;
or the router was not polled at all (unreachable, wrong credentials).

Utilisation is the larger of in and out over the interval, as a fraction of
the intended speed. The library never prints: the CLI renders ``Verification``.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any

from megalis_net.deploy import nornir_from_files
from megalis_net.intent import DeviceIntent, PortRole
from megalis_net.intent.model import MANAGEMENT_DESCRIPTION
from megalis_net.lab import access_for as lab_access_for
from megalis_net.model import LinkRole, Network
from megalis_net.snmp import Agent, AgentPoll, Interface, PollSettings, V2c, poll
from megalis_net.snmp.credentials import CredentialsError, inventory_settings

UP = 1
DEFAULT_INTERVAL = 5.0


class Kind(StrEnum):
    RING = "ring"
    EXTENSION = "extension"
    UPSTREAM = "upstream"
    SITE = "site"


class LinkState(StrEnum):
    UP = "up"
    DOWN = "down"
    UNKNOWN = "unknown"  # no end of it was polled


FINE = "fine"
# the file every run leaves in the state folder, which ``report`` draws
VERIFY_FILE = "verify-last.json"


@dataclass(frozen=True, slots=True)
class Intended:
    """One interface the intent puts on a router."""

    device: str
    interface: str
    description: str
    kind: Kind
    link: str  # the model's link name, or the site id
    speed_mbps: int
    site_id: str | None = None

    @property
    def checks_speed(self) -> bool:
        # a site unit reports its parent port's speed, not the contracted rate
        return self.kind is not Kind.SITE


@dataclass(frozen=True, slots=True)
class Discrepancy:
    device: str
    interface: str
    kind: str
    link: str
    problem: str
    detail: str


@dataclass(frozen=True, slots=True)
class Checked:
    """One intended interface, as found."""

    intended: Intended
    problems: tuple[Discrepancy, ...]
    in_bps: float | None = None
    out_bps: float | None = None

    @property
    def fine(self) -> bool:
        return not self.problems

    @property
    def polled(self) -> bool:
        return not any(p.problem == "unreachable" for p in self.problems)

    @property
    def up(self) -> bool:
        """Carries traffic: present, up in both senses (other problems aside)."""
        blocking = {"missing", "moved", "admin down", "oper down", "unreachable"}
        return not any(p.problem in blocking for p in self.problems)

    @property
    def utilisation(self) -> float | None:
        if self.in_bps is None or self.out_bps is None:
            return None
        return max(self.in_bps, self.out_bps) / (self.intended.speed_mbps * 1e6)


@dataclass(frozen=True, slots=True)
class LinkStatus:
    link: str
    kind: Kind
    state: LinkState
    utilisation: float | None
    speed_mbps: int
    ends: tuple[Intended, ...]


@dataclass
class Verification:
    polled_at: datetime
    interval_s: float
    devices: tuple[str, ...]
    checked: list[Checked] = field(default_factory=list)
    unreachable: dict[str, str] = field(default_factory=dict)
    # described interfaces the intent does not know (a site left behind)
    unexpected: list[Discrepancy] = field(default_factory=list)

    @property
    def fine(self) -> int:
        return sum(1 for c in self.checked if c.fine)

    @property
    def discrepancies(self) -> list[Discrepancy]:
        found = [p for c in self.checked if c.polled for p in c.problems]
        found += self.unexpected
        # one line per unreachable router, not one per interface on it
        found += [
            Discrepancy(device, "", "device", device, "unreachable", error)
            for device, error in sorted(self.unreachable.items())
        ]
        return found

    @property
    def ok(self) -> bool:
        return not self.unreachable and not self.unexpected and all(c.fine for c in self.checked)

    def links(self) -> list[LinkStatus]:
        by_link: dict[str, list[Checked]] = {}
        for checked in self.checked:
            by_link.setdefault(checked.intended.link, []).append(checked)
        statuses = []
        for name, ends in by_link.items():
            polled = [end for end in ends if end.polled]
            if not polled:
                state = LinkState.UNKNOWN
            elif all(end.up for end in polled):
                state = LinkState.UP
            else:
                state = LinkState.DOWN
            measured = [u for end in polled if (u := end.utilisation) is not None]
            first = ends[0].intended
            statuses.append(
                LinkStatus(
                    name,
                    first.kind,
                    state,
                    max(measured) if measured else None,
                    first.speed_mbps,
                    tuple(end.intended for end in ends),
                )
            )
        return statuses

    def to_json(self) -> dict[str, Any]:
        """The form ``verify --json`` prints and ``report`` reads."""
        return {
            "polled_at": self.polled_at.isoformat(timespec="seconds"),
            "interval_s": self.interval_s,
            "devices": list(self.devices),
            "checked": len(self.checked),
            "fine": self.fine,
            "ok": self.ok,
            "links": [
                {
                    "link": link.link,
                    "kind": link.kind.value,
                    "state": link.state.value,
                    "utilisation": _rounded(link.utilisation),
                    "speed_mbps": link.speed_mbps,
                    "ends": [{"device": e.device, "interface": e.interface} for e in link.ends],
                }
                for link in self.links()
                if link.kind is not Kind.SITE
            ],
            "interfaces": [
                {
                    "device": c.intended.device,
                    "interface": c.intended.interface,
                    "kind": c.intended.kind.value,
                    "link": c.intended.link,
                    "site_id": c.intended.site_id,
                    "state": FINE if c.fine else "; ".join(p.problem for p in c.problems),
                    "in_bps": _rounded(c.in_bps),
                    "out_bps": _rounded(c.out_bps),
                    "utilisation": _rounded(c.utilisation),
                    "speed_mbps": c.intended.speed_mbps,
                }
                for c in self.checked
            ],
            "discrepancies": [
                {
                    "device": d.device,
                    "interface": d.interface,
                    "kind": d.kind,
                    "link": d.link,
                    "problem": d.problem,
                    "detail": d.detail,
                }
                for d in self.discrepancies
            ],
            "unreachable": [
                {"device": device, "error": error}
                for device, error in sorted(self.unreachable.items())
            ],
        }


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 6)


def intended_interfaces(network: Network, intents: Mapping[str, DeviceIntent]) -> list[Intended]:
    """What verification checks on each router: backbone, upstream, routed site units."""
    roles = {link.name: link.role for link in network.topology.links}
    intended = []
    for name in sorted(intents):
        intent = intents[name]
        for port in intent.ports:
            if port.link is not None and port.l3 is not None:
                kind = (
                    Kind.UPSTREAM
                    if port.role is PortRole.UPSTREAM
                    else Kind.EXTENSION
                    if roles.get(port.link) is LinkRole.EXTENSION
                    else Kind.RING
                )
                intended.append(
                    Intended(name, port.name, port.description, kind, port.link, port.speed_mbps)
                )
            for unit in port.subinterfaces:
                # L2 units carry a pseudowire, which SNMP IF-MIB alone cannot vouch for
                if unit.site_id is None or unit.l3 is None:
                    continue
                rate = next(s.rate_mbps for s in intent.sites if s.interface == unit.name)
                intended.append(
                    Intended(
                        name,
                        unit.name,
                        unit.description,
                        Kind.SITE,
                        unit.site_id,
                        rate,
                        unit.site_id,
                    )
                )
    return intended


def compare(
    intended: Sequence[Intended],
    first: Mapping[str, AgentPoll],
    second: Mapping[str, AgentPoll] | None,
    devices: Iterable[str],
    interval: float,
    known: Mapping[str, set[str]] | None = None,
) -> Verification:
    """The verification of ``intended`` against one poll, or two (``second``).

    With ``known`` (every description the intent gives, per router), an
    interface whose description is not among them is reported too: config
    the inventory does not account for."""
    last = second if second is not None else first
    result = Verification(datetime.now(UTC), interval if second else 0.0, tuple(sorted(devices)))
    for device in result.devices:
        answer = last.get(device)
        if answer is None:
            result.unreachable[device] = "not polled"
        elif answer.error is not None:
            result.unreachable[device] = answer.error
    by_device: dict[str, list[Intended]] = {}
    for item in intended:
        by_device.setdefault(item.device, []).append(item)
    for device, items in by_device.items():
        if device in result.unreachable:
            problem = Discrepancy(
                device, "", "device", device, "unreachable", result.unreachable[device]
            )
            result.checked += [Checked(item, (problem,)) for item in items]
            continue
        before = first[device] if second is not None else None
        result.checked += _check_device(items, last[device], before)
    for device, descriptions in (known or {}).items():
        if device in result.unreachable or device not in last:
            continue
        result.unexpected += [
            Discrepancy(
                device,
                row.name,
                "unknown",
                row.alias.split()[0],
                "not intended",
                f"ifAlias {row.alias!r}: no such link or site in the inventory",
            )
            for row in last[device].interfaces
            if row.alias and row.name and row.alias not in descriptions
        ]
    return result


def known_descriptions(intents: Mapping[str, DeviceIntent]) -> dict[str, set[str]]:
    """Every description the intent gives each router's interfaces and units."""
    return {
        name: {
            MANAGEMENT_DESCRIPTION,
            *(
                description
                for port in intent.ports
                for description in (port.description, *(u.description for u in port.subinterfaces))
            ),
        }
        for name, intent in intents.items()
    }


def _check_device(
    items: Sequence[Intended], now: AgentPoll, before: AgentPoll | None
) -> list[Checked]:
    by_name = {row.name: row for row in now.interfaces}
    by_alias: dict[str, Interface] = {}
    for entry in now.interfaces:
        # a row without ifName is one the agent has only half listed yet
        if entry.alias and entry.name:
            by_alias.setdefault(entry.alias, entry)
    earlier = {row.index: row for row in before.interfaces} if before else {}
    seconds = now.at - before.at if before else 0.0
    checked = []
    for item in items:
        problems = []

        def found(problem: str, detail: str, item: Intended = item) -> None:
            problems.append(  # noqa: B023 (used at once, in this iteration)
                Discrepancy(
                    item.device, item.interface, item.kind.value, item.link, problem, detail
                )
            )

        row = by_name.get(item.interface)
        elsewhere = by_alias.get(item.description)
        if elsewhere is not None and elsewhere.name != item.interface:
            found(
                "moved",
                f"its description {item.description!r} is on {elsewhere.name}, not on"
                f" {item.interface} (mis-cabled or renamed)",
            )
            checked.append(Checked(item, tuple(problems)))
            continue
        if row is None:
            found("missing", f"no interface {item.interface} on the router")
            checked.append(Checked(item, tuple(problems)))
            continue
        if row.alias != item.description:
            found(
                "description differs",
                f"ifAlias {row.alias!r}, intended {item.description!r}",
            )
        if row.admin_status != UP:
            found("admin down", f"ifAdminStatus {row.admin}")
        elif row.oper_status != UP:
            found("oper down", f"ifOperStatus {row.oper}, admin up")
        if item.checks_speed and row.high_speed != item.speed_mbps:
            found("speed", f"ifHighSpeed {row.high_speed} Mb/s, intended {item.speed_mbps}")
        in_bps = out_bps = None
        old = earlier.get(row.index)
        if old is not None and old.name == row.name and seconds > 0:
            errors = (row.in_errors - old.in_errors, row.out_errors - old.out_errors)
            if any(delta > 0 for delta in errors):
                found(
                    "errors growing",
                    f"+{errors[0]} in, +{errors[1]} out in {seconds:.1f} s",
                )
            # a counter that went back was reset (agent restart): no rate this time
            if row.in_octets >= old.in_octets and row.out_octets >= old.out_octets:
                in_bps = (row.in_octets - old.in_octets) * 8 / seconds
                out_bps = (row.out_octets - old.out_octets) * 8 / seconds
        checked.append(Checked(item, tuple(problems), in_bps, out_bps))
    return checked


Progress = Callable[[str, AgentPoll], None]


def verify(
    intended: Sequence[Intended],
    agents: Sequence[Agent],
    interval: float = DEFAULT_INTERVAL,
    settings: PollSettings | None = None,
    progress: Progress | None = None,
    known: Mapping[str, set[str]] | None = None,
) -> Verification:
    """Poll every agent (twice when ``interval`` > 0) and compare (see ``compare``)."""
    settings = settings or PollSettings()
    devices = [agent.host for agent in agents]

    def tell(phase: str) -> Callable[[AgentPoll], None] | None:
        return None if progress is None else (lambda answer: progress(phase, answer))

    first = poll(agents, settings, tell("first poll" if interval > 0 else "poll"))
    if interval <= 0:
        return compare(intended, first, None, devices, 0.0, known)
    # the interval runs from each agent's first answer, not from the slowest one's
    wait = interval - (time.monotonic() - min((p.at for p in first.values()), default=0.0))
    if wait > 0:
        time.sleep(wait)
    second = poll([a for a in agents if first[a.host].ok], settings, tell("second poll"))
    merged = {**first, **second}
    return compare(intended, first, merged, devices, interval, known)


def agents_for(inventory: Path, hosts: Sequence[str], in_lab: bool = False) -> list[Agent]:
    """SNMP agents of ``hosts``: the inventory says which SNMP version; the
    secrets come from the environment, or in the lab from the lab itself."""
    nr = nornir_from_files(inventory)
    missing = [host for host in hosts if host not in nr.inventory.hosts]
    if missing:
        raise CredentialsError(f"{missing[0]} is not in {inventory / 'hosts.yaml'}")
    settings = inventory_settings(
        {host: _snmp_data(inventory, nr.inventory.hosts[host]) for host in hosts}
    )
    if in_lab:
        routers = lab_access_for(list(hosts))
        return [
            Agent(
                host,
                routers[host].address,
                V2c(routers[host].snmp_community)
                if settings[host].version == "2c"
                else routers[host].snmp_v3,
            )
            for host in hosts
        ]
    return [
        Agent(
            host,
            str(nr.inventory.hosts[host].hostname),
            settings[host].resolve(os.environ, host),
        )
        for host in hosts
    ]


def _snmp_data(inventory: Path, host: Any) -> tuple[Any, str]:
    """A Nornir host's ``snmp`` data, and the file (and entry) it comes from."""
    if "snmp" in host.data:
        return host.data["snmp"], f"{inventory / 'hosts.yaml'}: {host.name}"
    for group in host.groups:
        if "snmp" in group.data:
            return group.data["snmp"], f"{inventory / 'groups.yaml'}: {group.name}"
    return host.defaults.data.get("snmp"), str(inventory / "defaults.yaml")
