"""IF-MIB ifAlias for a lab router's snmpd, from the kernel's interface aliases.

net-snmp 5.9 keeps ifAlias to itself (set by SNMP, saved in its state) and
never reads Linux's interface alias, while a router's agent reports each
interface's configured description there. The FRR driver writes the
descriptions to the kernel aliases after every change (``sync_aliases`` in
``napalm_frr/onrouter.py``); this script hands them to snmpd through its
``pass_persist`` protocol, so ifAlias follows the running config as on any
router. Standard library only: snmpd runs it in the router's namespace.

Protocol (one request per line group on stdin)::

    PING                 -> PONG
    get / getnext, OID   -> OID, "string", value   |  NONE
    set, OID, value      -> not-writable
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

IF_ALIAS = (1, 3, 6, 1, 2, 1, 31, 1, 1, 1, 18)
PREFIX = "." + ".".join(map(str, IF_ALIAS))
# snmpd asks once per row of a walk: list the interfaces at most this often
INDEX_TTL = 1.0


class Interfaces:
    """ifIndex -> interface name, refreshed at most every ``INDEX_TTL`` seconds."""

    def __init__(
        self, sys_net: Path = Path("/sys/class/net"), clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.sys_net = sys_net
        self.clock = clock
        self.read_at = float("-inf")
        self.by_index: dict[int, str] = {}
        self.indexes: list[int] = []

    def refresh(self) -> None:
        if self.clock() - self.read_at < INDEX_TTL:
            return
        found = {}
        for entry in os.scandir(self.sys_net):
            try:
                found[int((Path(entry.path) / "ifindex").read_text())] = entry.name
            except (OSError, ValueError):
                continue
        self.by_index = found
        self.indexes = sorted(found)
        self.read_at = self.clock()

    def alias(self, index: int) -> str:
        try:
            return (self.sys_net / self.by_index[index] / "ifalias").read_text().rstrip("\n")
        except (KeyError, OSError):
            return ""

    def after(self, index: int) -> int | None:
        for candidate in self.indexes:
            if candidate > index:
                return candidate
        return None


def answer(interfaces: Interfaces, command: str, oid: str) -> list[str]:
    """The reply lines to one get or getnext."""
    interfaces.refresh()
    parts = tuple(int(p) for p in oid.strip(".").split(".") if p)
    if command == "get":
        if len(parts) != len(IF_ALIAS) + 1 or parts[:-1] != IF_ALIAS:
            return ["NONE"]
        index: int | None = parts[-1] if parts[-1] in interfaces.by_index else None
    elif parts[: len(IF_ALIAS)] == IF_ALIAS and len(parts) > len(IF_ALIAS):
        index = interfaces.after(parts[len(IF_ALIAS)])
    elif parts <= IF_ALIAS:  # before the column, or the column itself
        index = interfaces.indexes[0] if interfaces.indexes else None
    else:
        index = None
    if index is None:
        return ["NONE"]
    return [f"{PREFIX}.{index}", "string", interfaces.alias(index).replace("\n", " ")]


def main() -> int:
    interfaces = Interfaces()
    lines = iter(sys.stdin.readline, "")
    for line in lines:
        command = line.strip()
        if command == "PING":
            reply = ["PONG"]
        elif command in ("get", "getnext"):
            reply = answer(interfaces, command, next(lines, "").strip())
        elif command == "set":
            next(lines, "")
            next(lines, "")
            reply = ["not-writable"]
        else:
            reply = ["NONE"]
        sys.stdout.write("\n".join(reply) + "\n")
        sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
