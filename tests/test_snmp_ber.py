"""The fast Response decoder agrees with pyasn1 (which encodes the messages here)."""

from __future__ import annotations

import pytest
from pyasn1.codec.ber import encoder
from pysnmp.proto import rfc1902, rfc1905
from pysnmp.proto.api import v2c

from megalis_net.snmp import ber


def response(varbinds: list[tuple[tuple[int, ...], object]], **fields: int) -> bytes:
    pdu = v2c.ResponsePDU()
    v2c.apiPDU.set_defaults(pdu)
    v2c.apiPDU.set_request_id(pdu, fields.get("request_id", 42))
    v2c.apiPDU.set_error_status(pdu, fields.get("error_status", 0))
    v2c.apiPDU.set_error_index(pdu, fields.get("error_index", 0))
    v2c.apiPDU.set_varbinds(pdu, varbinds)
    message = v2c.Message()
    v2c.apiMessage.set_defaults(message)
    v2c.apiMessage.set_community(message, "s3cret")
    v2c.apiMessage.set_pdu(message, pdu)
    return bytes(encoder.encode(message))


IF_NAME = (1, 3, 6, 1, 2, 1, 31, 1, 1, 1, 1)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (rfc1902.OctetString(b"GigabitEthernet0/0/0/1"), b"GigabitEthernet0/0/0/1"),
        (rfc1902.OctetString(b""), b""),
        (rfc1902.OctetString(b"\x00\xff\x80"), b"\x00\xff\x80"),
        (rfc1902.OctetString(b"x" * 300), b"x" * 300),  # long-form length
        (rfc1902.Integer32(1), 1),
        (rfc1902.Integer32(-2), -2),
        (rfc1902.Integer32(2**31 - 1), 2**31 - 1),
        (rfc1902.Gauge32(4294967295), 4294967295),
        (rfc1902.Counter32(2**31), 2**31),
        (rfc1902.Counter64(2**64 - 1), 2**64 - 1),
        (rfc1902.Counter64(0), 0),
        (rfc1902.TimeTicks(123456), 123456),
        (rfc1902.IpAddress("198.18.200.2"), bytes([198, 18, 200, 2])),
        (rfc1902.ObjectIdentifier((1, 3, 6, 1, 4, 1, 9)), (1, 3, 6, 1, 4, 1, 9)),
        (rfc1902.Null(""), None),
    ],
    ids=lambda v: type(v).__name__ if not isinstance(v, bytes | int | tuple) else "",
)
def test_values_decode_as_plain_python(value: object, expected: object) -> None:
    decoded = ber.decode_response(response([((*IF_NAME, 7), value)]))
    assert decoded.varbinds == [((*IF_NAME, 7), expected)]


@pytest.mark.parametrize(
    "exception",
    [rfc1905.noSuchObject, rfc1905.noSuchInstance, rfc1905.endOfMibView],
    ids=["noSuchObject", "noSuchInstance", "endOfMibView"],
)
def test_varbind_exceptions_end_a_column(exception: object) -> None:
    ((_, value),) = ber.decode_response(response([(IF_NAME, exception)])).varbinds
    assert isinstance(value, ber.NoValue)


@pytest.mark.parametrize(
    "name",
    [(1, 3, 6, 1, 2, 1, 2, 2, 1, 8, 3002), (1, 3, 2**32 - 1, 128, 16383, 16384), (2, 999, 1)],
    ids=["ifOperStatus.3002", "large-arcs", "joint-iso-itu"],
)
def test_oids_decode_as_pyasn1_encodes_them(name: tuple[int, ...]) -> None:
    ((decoded, _),) = ber.decode_response(response([(name, rfc1902.Null(""))])).varbinds
    assert decoded == name


def test_header_fields_and_many_varbinds() -> None:
    varbinds = [((*IF_NAME, n), rfc1902.OctetString(f"s{n}a".encode())) for n in range(100)]
    decoded = ber.decode_response(response(varbinds, request_id=123456, error_status=5))
    assert (decoded.community, decoded.request_id, decoded.error_status) == (b"s3cret", 123456, 5)
    assert decoded.varbinds == [((*IF_NAME, n), f"s{n}a".encode()) for n in range(100)]


@pytest.mark.parametrize(
    "data",
    [b"", b"\x30", b"\x02\x01\x00", lambda: response([(IF_NAME, rfc1902.Integer32(1))])[:-1]],
    ids=["empty", "no-length", "not-a-sequence", "truncated"],
)
def test_garbage_is_a_ber_error(data: bytes | object) -> None:
    raw = data() if callable(data) else data
    with pytest.raises(ber.BerError):
        ber.decode_response(raw)  # type: ignore[arg-type]


def test_a_request_is_not_a_response() -> None:
    pdu = v2c.GetBulkRequestPDU()
    v2c.apiPDU.set_defaults(pdu)
    v2c.apiPDU.set_varbinds(pdu, [(IF_NAME, v2c.Null(""))])
    message = v2c.Message()
    v2c.apiMessage.set_defaults(message)
    v2c.apiMessage.set_community(message, "public")
    v2c.apiMessage.set_pdu(message, pdu)
    with pytest.raises(ber.BerError, match="not a Response-PDU"):
        ber.decode_response(bytes(encoder.encode(message)))
