"""Decode SNMPv1/v2c Response messages fast: the poller's hot path.

Why not pyasn1: profiling a 3000-interface walk (``benchmarks/snmp.py
--profile``) showed pyasn1's generic BER decoder taking ~85 % of the poller's
CPU (~60 µs per varbind: every INTEGER, OID and OCTET STRING becomes a
schema-checked pyasn1 object), which capped the poller at ~11,000 rows/s,
a tenth of net-snmp's ``snmpbulkwalk``. A Response has one fixed shape, so
this reads it in one pass into plain ``int``/``bytes``/``tuple`` values.

Only responses are decoded here; requests are still built and encoded by
pysnmp, and SNMPv3 (USM security) stays entirely with pysnmp.
"""

from __future__ import annotations

import re
from typing import Final

INTEGER: Final = 0x02
OCTET_STRING: Final = 0x04
NULL: Final = 0x05
OBJECT_IDENTIFIER: Final = 0x06
SEQUENCE: Final = 0x30
RESPONSE_PDU: Final = 0xA2
# Application types (RFC 2578): IpAddress is bytes, the others unsigned numbers.
IP_ADDRESS: Final = 0x40
UNSIGNED: Final = frozenset((0x41, 0x42, 0x43, 0x46))  # Counter32, Gauge32, TimeTicks, Counter64
OPAQUE: Final = 0x44
# Exceptions in a varbind (RFC 3416): the walk of that column is over.
NO_SUCH_OBJECT: Final = 0x80
NO_SUCH_INSTANCE: Final = 0x81
END_OF_MIB_VIEW: Final = 0x82
EXCEPTIONS: Final = frozenset((NO_SUCH_OBJECT, NO_SUCH_INSTANCE, END_OF_MIB_VIEW))


class BerError(ValueError):
    """The bytes are not an SNMP Response this module understands."""


class NoValue:
    """noSuchObject, noSuchInstance or endOfMibView, as a varbind's value."""

    __slots__ = ("tag",)

    def __init__(self, tag: int) -> None:
        self.tag = tag

    def __repr__(self) -> str:
        names = {NO_SUCH_OBJECT: "noSuchObject", NO_SUCH_INSTANCE: "noSuchInstance"}
        return names.get(self.tag, "endOfMibView")


Value = int | bytes | tuple[int, ...] | None | NoValue
VarBind = tuple[tuple[int, ...], Value]


class Response:
    """One decoded Response-PDU."""

    __slots__ = ("community", "error_index", "error_status", "request_id", "varbinds")

    def __init__(
        self,
        community: bytes,
        request_id: int,
        error_status: int,
        error_index: int,
        varbinds: list[VarBind],
    ) -> None:
        self.community = community
        self.request_id = request_id
        self.error_status = error_status
        self.error_index = error_index
        self.varbinds = varbinds


def _header(data: bytes, at: int) -> tuple[int, int, int]:
    """(tag, start of contents, end of contents) of the element at ``at``."""
    try:
        tag = data[at]
        length = data[at + 1]
        at += 2
        if length & 0x80:  # long form: the next (length & 0x7F) bytes
            size = length & 0x7F
            length = int.from_bytes(data[at : at + size], "big")
            at += size
    except IndexError:
        raise BerError("truncated message") from None
    end = at + length
    if end > len(data):
        raise BerError("truncated message")
    return tag, at, end


def oid(data: bytes) -> tuple[int, ...]:
    """The sub-identifiers of an encoded OBJECT IDENTIFIER's contents.

    Examples:
        >>> oid(bytes.fromhex("2b06010201021f01010101810f"))
        (1, 3, 6, 1, 2, 1, 2, 31, 1, 1, 1, 1, 143)
        >>> oid(bytes.fromhex("2b06010201020201087f"))
        (1, 3, 6, 1, 2, 1, 2, 2, 1, 8, 127)
    """
    if not data or data[-1] & 0x80:
        raise BerError("truncated OBJECT IDENTIFIER")
    first = data[0]
    if first >= 80:  # joint-iso-itu-t(2): the first arc may take several bytes
        return _oid_slowly(data)
    # Arcs below 128 take one byte each: read them at C speed, and only the
    # tail (an ifIndex of 128 or more) byte by byte.
    simple = _SIMPLE_ARCS.match(data, 1).end()  # type: ignore[union-attr]
    return (first // 40, first % 40, *data[1:simple], *_arcs(data[simple:]))


def _arcs(data: bytes) -> list[int]:
    arcs: list[int] = []
    value = 0
    for byte in data:
        value = (value << 7) | (byte & 0x7F)
        if not byte & 0x80:
            arcs.append(value)
            value = 0
    return arcs


def _oid_slowly(data: bytes) -> tuple[int, ...]:
    arcs = _arcs(data)
    return (2, arcs[0] - 80, *arcs[1:])


_SIMPLE_ARCS = re.compile(rb"[\x00-\x7f]*")


def _integer(data: bytes, at: int, tag: int) -> int:
    tag_, start, end = _header(data, at)
    if tag_ != tag:
        raise BerError(f"expected tag 0x{tag:02x} at byte {at}, got 0x{tag_:02x}")
    return int.from_bytes(data[start:end], "big", signed=True)


def _value(tag: int, contents: bytes) -> Value:
    if tag == INTEGER:
        return int.from_bytes(contents, "big", signed=True)
    if tag in UNSIGNED:
        return int.from_bytes(contents, "big")
    if tag in (OCTET_STRING, IP_ADDRESS, OPAQUE):
        return contents
    if tag in EXCEPTIONS:
        return NoValue(tag)
    if tag == NULL:
        return None
    if tag == OBJECT_IDENTIFIER:
        return oid(contents)
    raise BerError(f"unknown value type 0x{tag:02x}")


def decode_response(data: bytes) -> Response:
    """Decode one SNMPv1/v2c message carrying a Response-PDU.

    Examples:
        >>> r = decode_response(bytes.fromhex(
        ...     "302d0201010406733363726574a22002010702010002010030153013060b2b06"
        ...     "0102011f0101010102040465746830"))
        >>> r.community, r.request_id, r.error_status, r.varbinds
        (b's3cret', 7, 0, [((1, 3, 6, 1, 2, 1, 31, 1, 1, 1, 1, 2), b'eth0')])
    """
    data = bytes(data)
    tag, at, _ = _header(data, 0)
    if tag != SEQUENCE:
        raise BerError("not an SNMP message")
    _, start, at = _header(data, at)  # version: the dispatcher checked it
    tag, start, at = _header(data, at)
    if tag != OCTET_STRING:
        raise BerError("no community")
    community = data[start:at]
    tag, at, end = _header(data, at)
    if tag != RESPONSE_PDU:
        raise BerError(f"not a Response-PDU (tag 0x{tag:02x})")
    request_id = _integer(data, at, INTEGER)
    _, _, at = _header(data, at)
    error_status = _integer(data, at, INTEGER)
    _, _, at = _header(data, at)
    error_index = _integer(data, at, INTEGER)
    _, _, at = _header(data, at)
    tag, at, end = _header(data, at)
    if tag != SEQUENCE:
        raise BerError("no varbind list")
    return Response(community, request_id, error_status, error_index, _varbinds(data, at, end))


def _varbinds(data: bytes, at: int, end: int) -> list[VarBind]:
    varbinds: list[VarBind] = []
    header = _header
    while at < end:
        tag, at, bind_end = header(data, at)
        tag, start, at = header(data, at)
        if tag != OBJECT_IDENTIFIER:
            raise BerError(f"varbind without an OID at byte {start}")
        name = oid(data[start:at])
        tag, start, at = header(data, at)
        varbinds.append((name, _value(tag, data[start:at])))
        if at != bind_end:
            raise BerError(f"varbind of the wrong length at byte {start}")
    return varbinds
