"""The Mégalis I export importer: every error kind located, formats, rejects file.

Fixtures are in tests/fixtures/import/, written byte-exact by make_fixtures.py
there (Windows-1252, CRLF, UTF-8 with BOM...).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from megalis_net.errors import InputError
from megalis_net.importer import (
    COMMUNE,
    COMMUNITY,
    CURRENT_RATE,
    DEPARTEMENT,
    GATEWAY,
    ID,
    L2_RENATER,
    LAN,
    LATITUDE,
    NAME,
    TYPE,
    WANTED_RATE,
    ExportDialect,
    ImportResult,
    accepted_sites,
    import_export,
    rate_for_kbps,
    write_rejected,
)
from megalis_net.loader import load_topology
from megalis_net.model import Topology
from megalis_net.sites import format_sites
from megalis_net.validate import check_sites

FIXTURES = Path(__file__).parent / "fixtures" / "import"
ROOT = Path(__file__).resolve().parents[1]
# shared/ lies beside the repository (in a session and in CI alike).
REAL_EXPORT = ROOT.parent / "shared" / "data" / "megalis1-export.csv"


@pytest.fixture(scope="module")
def topology() -> Topology:
    return load_topology(ROOT / "topology").topology


def _import(name: str, topology: Topology) -> ImportResult:
    return import_export(FIXTURES / name, topology)


# Each file: one good row (line 2, or lines 2-3), then the bad row.
# (fixture, line, column, exact message)
ERROR_KINDS = [
    pytest.param(
        "unknown-commune",
        3,
        COMMUNE,
        "unknown commune 'Plourivo' in département 29; it is in 22",
        id="unknown-commune",
    ),
    pytest.param(
        "departement-outside",
        3,
        DEPARTEMENT,
        "département outside Brittany (got '44'; expected 22, 29, 35 or 56)",
        id="departement-outside-brittany",
    ),
    pytest.param(
        "rate-above-1g",
        3,
        WANTED_RATE,
        "rate above 1 Gb/s (got 2000000 kb/s)",
        id="rate-above-1g",
    ),
    pytest.param(
        "prefix-host-bits",
        3,
        LAN,
        "malformed prefix '10.32.0.20/28': 10.32.0.20/28 has host bits set",
        id="malformed-prefix-host-bits",
    ),
    pytest.param(
        "prefix-garbage",
        3,
        LAN,
        "malformed prefix '10.32.0/28x': Expected 4 octets in '10.32.0'",
        id="malformed-prefix-garbage",
    ),
    pytest.param(
        "gateway-outside-lan",
        3,
        GATEWAY,
        "gateway 10.32.0.33 is outside the LAN 10.32.0.16/28",
        id="gateway-outside-lan",
    ),
    pytest.param("empty-name", 3, NAME, "empty name", id="empty-name"),
    pytest.param(
        "duplicate-site",
        4,
        ID,
        "duplicate site 'MEG1-00001' (first on line 2)",
        id="duplicate-site",
    ),
    pytest.param(
        "lan-overlap",
        3,
        LAN,
        "LAN 10.32.0.0/24 overlaps LAN 10.32.0.0/28 of site 'MEG1-00001' on line 2",
        id="lan-overlap",
    ),
    pytest.param(
        "non-numeric-rate",
        3,
        CURRENT_RATE,
        "not a whole number of kb/s (got 'beaucoup')",
        id="non-numeric-rate",
    ),
    pytest.param(
        "non-numeric-coordinate",
        3,
        LATITUDE,
        "not a number (got '48,3x')",
        id="non-numeric-coordinate",
    ),
    pytest.param(
        "unknown-type",
        3,
        TYPE,
        "unknown type 'Piscine' (expected École primaire, Collège, Lycée, Université, ...)",
        id="unknown-type",
    ),
    pytest.param(
        "l2-without-service",
        3,
        L2_RENATER,
        "no L2 Renater service for community 'Collectivités'",
        id="l2-renater-outside-research",
    ),
    pytest.param("short-row", 3, "", "expected 13 values, found 5", id="short-row"),
]


@pytest.mark.parametrize(("fixture", "line", "column", "message"), ERROR_KINDS)
def test_error_kind_is_located(
    topology: Topology, fixture: str, line: int, column: str, message: str
) -> None:
    result = _import(f"{fixture}.csv", topology)
    assert [(p.line, p.field, p.message) for p in result.problems] == [(line, column, message)]
    assert result.problems[0].file == str(FIXTURES / f"{fixture}.csv")
    assert [r.line for r in result.rejected] == [line]
    assert "MEG1-00001" in {s.id for s in result.sites}


def test_missing_column_fails_the_whole_file(topology: Topology) -> None:
    with pytest.raises(InputError) as caught:
        _import("missing-column.csv", topology)
    assert [(p.line, p.field, p.message) for p in caught.value.problems] == [
        (1, GATEWAY, "missing column")
    ]


def test_all_bad_rows_are_reported_together(topology: Topology) -> None:
    result = _import("several-bad.csv", topology)
    assert [(p.line, p.field, p.message) for p in result.problems] == [
        (3, COMMUNE, "unknown commune 'Atlantis' in département 22"),
        (4, WANTED_RATE, "rate above 1 Gb/s (got 2000000 kb/s)"),  # a quoted name on lines 4-5
        (7, NAME, "empty name"),
        (
            7,
            COMMUNITY,
            "unknown community 'Sport' (expected Éducation, Santé, Recherche or Collectivités)",
        ),
        (9, LAN, "malformed prefix '10.32.1.50/28': 10.32.1.50/28 has host bits set"),
        (10, ID, "duplicate site 'MEG1-00002' (first on line 6)"),
    ]
    assert [r.line for r in result.rejected] == [3, 4, 7, 9, 10]
    assert [s.id for s in result.sites] == ["MEG1-00001", "MEG1-00002", "MEG1-00003"]


def test_good_rows_map_onto_sites(topology: Topology) -> None:
    result = _import("good.csv", topology)
    assert result.problems == ()
    school, hospital, _, epci, university = result.sites
    assert (school.kind.value, school.community.value, school.pop) == (
        "ecole",
        "education",
        "lannion",
    )
    assert (school.rate_mbps, school.latitude, school.longitude) == (4, 48.74561, -3.07112)
    assert school.legacy is not None
    assert (str(school.legacy.lan_prefix), str(school.legacy.gateway)) == (
        "10.32.0.0/28",
        "10.32.0.1",
    )
    assert school.legacy.rate_kbps == 1024
    assert (hospital.kind.value, hospital.community.value, hospital.rate_mbps) == (
        "hopital",
        "health",
        100,
    )
    assert (epci.kind.value, epci.commune) == ("epci", "Plœuc-sur-Lié")
    assert (university.l2_renater, university.rate_mbps, university.pop) == (True, 1000, "rennes")
    assert check_sites(topology, list(result.sites)) == []


@pytest.mark.parametrize(
    ("fixture", "dialect"),
    [
        pytest.param(
            "good-utf8-comma.csv", ExportDialect("utf-8", ",", "\n"), id="utf8-comma-point"
        ),
        pytest.param(
            "good-utf8-bom-comma.csv",
            ExportDialect("utf-8-sig", ",", "\r\n"),
            id="utf8-bom-comma-comma",
        ),
    ],
)
def test_utf8_comma_variants_give_the_same_sites(
    topology: Topology, fixture: str, dialect: ExportDialect
) -> None:
    reference = _import("good.csv", topology)
    assert reference.dialect == ExportDialect("cp1252", ";", "\r\n")
    variant = _import(fixture, topology)
    assert variant.dialect == dialect
    assert variant.problems == ()
    assert variant.sites == reference.sites


@pytest.mark.parametrize(
    ("fixture", "keep", "encoding", "ending"),
    [
        pytest.param(
            "several-bad.csv", [0, 2, 3, 4, 6, 8, 9], "cp1252", b"\r\n", id="cp1252-semicolon-crlf"
        ),
        pytest.param("bad-utf8-bom-comma.csv", [0, 2], "utf-8-sig", b"\n", id="utf8-bom-comma-lf"),
    ],
)
def test_rejected_rows_are_written_in_the_input_format(
    topology: Topology, tmp_path: Path, fixture: str, keep: list[int], encoding: str, ending: bytes
) -> None:
    source = (FIXTURES / fixture).read_bytes()
    result = import_export(FIXTURES / fixture, topology)
    target = tmp_path / "rejected.csv"
    write_rejected(result, target)
    # Physical lines of the input (header + bad rows, incl. both lines of a quoted name).
    physical = source.split(ending)
    assert target.read_bytes() == b"".join(physical[i] + ending for i in keep)
    assert target.read_bytes().startswith(
        b"\xef\xbb\xbf" if encoding == "utf-8-sig" else b"Identifiant"
    )
    # It reads back in the same format, every row again (the duplicate alone is no longer one).
    again = import_export(target, topology)
    assert again.dialect == result.dialect
    assert len(again.rejected) + len(again.sites) == len(result.rejected)


def test_rejected_file_is_cp1252_bytes(topology: Topology, tmp_path: Path) -> None:
    target = tmp_path / "rejected.csv"
    write_rejected(_import("several-bad.csv", topology), target)
    data = target.read_bytes()
    assert "Nom établissement;".encode("cp1252") in data
    assert "Nom établissement".encode() not in data
    assert data.count(b"\r\n") == 7 and data.count(b"\n") == 7


@pytest.mark.parametrize(
    ("kbps", "mbps"),
    [
        (1536, 2),
        (3072, 4),
        (6144, 8),
        (12288, 20),
        (24576, 30),
        (30720, 50),
        (61440, 100),
        (103104, 200),
        (307200, 500),
        (614400, 1000),
        (1_000_000, 1000),
        (1_000_001, None),
    ],
    ids=lambda value: str(value),
)
def test_rate_mapping(topology: Topology, kbps: int, mbps: int | None) -> None:
    assert rate_for_kbps(topology.traffic.offered_rates_mbps, kbps) == mbps


def test_without_skip_bad_any_problem_stops_the_import(topology: Topology) -> None:
    result = _import("several-bad.csv", topology)
    with pytest.raises(InputError) as caught:
        accepted_sites(result)
    assert len(caught.value.problems) == len(result.problems)
    assert accepted_sites(result, skip_bad=True) == result.sites


def test_unreadable_file_is_an_input_error(topology: Topology, tmp_path: Path) -> None:
    with pytest.raises(InputError, match="cannot read export"):
        import_export(tmp_path / "absent.csv", topology)
    garbage = tmp_path / "garbage.csv"
    garbage.write_bytes(b"\x81\x8d\x8f\x90\x9d\xff\xfe")
    with pytest.raises(InputError, match="cannot decode"):
        import_export(garbage, topology)


@pytest.mark.skipif(not REAL_EXPORT.exists(), reason=f"the real export is not at {REAL_EXPORT}")
def test_real_export_imports_3000_sites(topology: Topology) -> None:
    result = import_export(REAL_EXPORT, topology)
    assert result.problems == ()
    assert len(result.sites) == 3000
    assert check_sites(topology, list(result.sites)) == []


@pytest.mark.skipif(not REAL_EXPORT.exists(), reason=f"the real export is not at {REAL_EXPORT}")
def test_shipped_sites_are_the_export_imported(topology: Topology) -> None:
    """inventory/sites.csv is exactly what `sites import` makes of the export."""
    imported = format_sites(import_export(REAL_EXPORT, topology).sites)
    assert (ROOT / "inventory" / "sites.csv").read_text(encoding="utf-8") == imported
