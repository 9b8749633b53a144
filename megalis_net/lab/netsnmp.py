"""net-snmp's own tools as the reference the poller is checked and timed against.

``snmpbulkwalk`` 5.9 walks only the first OID it is given, so reading the
poller's 9 columns takes one process per column. Output is ``-On -Oq -Ox``:
numeric OIDs, no type names, every string in hex (so that any byte
compares exactly); ``MIBS=`` because no MIB files are installed and none is
needed.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Sequence

from megalis_net.snmp.credentials import V3, Credentials, V2c
from megalis_net.snmp.poller import COLUMNS, Interface

Table = dict[int, list[str | int | None]]
"""ifIndex → the 9 columns in ``COLUMNS`` order (strings decoded, numbers as int)."""


def credential_args(credentials: Credentials) -> list[str]:
    if isinstance(credentials, V2c):
        return ["-v2c", "-c", credentials.community]
    assert isinstance(credentials, V3)
    return [
        "-v3", "-l", "authPriv", "-u", credentials.user,
        "-a", credentials.auth_protocol.upper(), "-A", credentials.auth_key,
        "-x", credentials.priv_protocol.upper(), "-X", credentials.priv_key,
    ]  # fmt: skip


def walk_column(
    address: str,
    credentials: Credentials,
    column: Sequence[int],
    max_repetitions: int = 50,
    timeout: float = 1.0,
    retries: int = 1,
) -> str:
    """One ``snmpbulkwalk`` of one column; its raw output (raises on failure)."""
    command = [
        "snmpbulkwalk", *credential_args(credentials),
        f"-Cr{max_repetitions}", "-On", "-Oq", "-Ox", "-t", f"{timeout:g}", "-r", str(retries),
        address, "." + ".".join(map(str, column)),
    ]  # fmt: skip
    environ = {**os.environ, "MIBS": ""}
    result = subprocess.run(command, capture_output=True, text=True, env=environ, check=False)
    if result.returncode != 0:
        said = (result.stderr.strip() or f"exit {result.returncode}").splitlines()[0]
        raise RuntimeError(f"snmpbulkwalk {address}: {said}")
    return result.stdout


def walk_table(address: str, credentials: Credentials, max_repetitions: int = 50) -> Table:
    """Every column of ``COLUMNS``, one ``snmpbulkwalk`` after the other."""
    table: Table = {}
    for position, column in enumerate(COLUMNS):
        output = walk_column(address, credentials, column, max_repetitions)
        for index, value in parse(output, column):
            table.setdefault(index, [None] * len(COLUMNS))[position] = value
    return table


def row_of(interface: Interface) -> list[str | int | None]:
    """The poller's interface as a ``Table`` row, to compare with net-snmp's."""
    i = interface
    return [
        i.name, i.alias, i.admin_status, i.oper_status, i.high_speed,
        i.in_octets, i.out_octets, i.in_errors, i.out_errors,
    ]  # fmt: skip


def parse(output: str, column: Sequence[int]) -> list[tuple[int, str | int]]:
    r"""(ifIndex, value) pairs of ``-On -Oq -Ox`` output for one column.

    A string's hex dump wraps every 16 bytes: its value runs on until the
    closing quote.

    Examples:
        >>> parse('.1.3.6.1.2.1.31.1.1.1.1.7 "65 74 68 30 "\n', (1, 3, 6, 1, 2, 1, 31, 1, 1, 1, 1))
        [(7, 'eth0')]
        >>> parse('.1.3.6.1.2.1.2.2.1.8.2 2\n.1.3.6.1.2.1.2.2.1.8.3 1\n', (1, 3, 6, 1, 2, 1, 2, 2, 1, 8))
        [(2, 2), (3, 1)]
        >>> wrapped = '.1.3.6.1.2.1.31.1.1.1.18.1 "' + "41 " * 16 + '\n42 43 "\n'
        >>> parse(wrapped, (1, 3, 6, 1, 2, 1, 31, 1, 1, 1, 18))
        [(1, 'AAAAAAAAAAAAAAAABC')]
    """
    prefix = "." + ".".join(map(str, column)) + "."
    pairs: list[tuple[int, str | int]] = []
    lines = iter(output.splitlines())
    for line in lines:
        if not line.startswith(prefix):
            continue  # "No more variables left in this MIB View" and the like
        oid, _, value = line.partition(" ")
        index = int(oid[len(prefix) :])
        if not value.startswith('"'):
            pairs.append((index, int(value)))
            continue
        while len(value) < 2 or not value.endswith('"'):
            value += " " + next(lines)
        pairs.append((index, bytes.fromhex(value.strip('"')).decode("utf-8", "replace")))
    return pairs
