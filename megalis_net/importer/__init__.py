"""Import the old network's site export (Mégalis I) into ``Site`` objects.

The export is what the old tools write: French Excel CSV (semicolon,
Windows-1252, CRLF, decimal commas), one row per establishment. UTF-8 (with or
without BOM) and comma-separated copies, as a spreadsheet saves them, are
accepted too. Every row is checked and every problem reported at once, located
by physical line and French column name. The rows that fail are kept verbatim
so that ``write_rejected`` can hand them back, in the input's own format, to
whoever fixes them.

``import_export`` reads; the caller decides (``accepted_sites``): without
``--skip-bad`` any problem stops the import, with it the good sites go on and
the bad rows go to the rejects file.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from megalis_net.errors import InputError, Problem
from megalis_net.fileio import atomic_write_bytes
from megalis_net.importer.rows import (
    Ledger,
    Row,
    check_row,
)
from megalis_net.importer.vocabulary import (  # re-exported: the export's column names
    COMMUNE,
    COMMUNITY,
    CURRENT_RATE,
    DEPARTEMENT,
    EXPORT_COLUMNS,
    GATEWAY,
    ID,
    L2_RENATER,
    LAN,
    LATITUDE,
    LONGITUDE,
    NAME,
    TYPE,
    UTF8_BOM,
    WANTED_RATE,
    rate_for_kbps,
)
from megalis_net.model import Site, Topology

__all__ = [
    "COMMUNE", "COMMUNITY", "CURRENT_RATE", "DEPARTEMENT", "EXPORT_COLUMNS", "GATEWAY", "ID",
    "L2_RENATER", "LAN", "LATITUDE", "LONGITUDE", "NAME", "TYPE", "WANTED_RATE",
    "ExportDialect", "ImportResult", "RejectedRow",
    "accepted_sites", "import_export", "rate_for_kbps", "rejects_path", "write_rejected",
]  # fmt: skip


@dataclass(frozen=True)
class ExportDialect:
    """How the input was written, so that rejected rows go back the same way."""

    encoding: str  # "cp1252", "utf-8", or "utf-8-sig" (UTF-8 with a BOM)
    delimiter: str  # ";" or ","
    lineterminator: str  # "\r\n", "\n" or "\r", as on the header line


@dataclass(frozen=True)
class RejectedRow:
    """A bad row as it stands in the file (without its line ending)."""

    line: int
    text: str


@dataclass(frozen=True)
class ImportResult:
    """Good sites, every problem, and the bad rows verbatim."""

    sites: tuple[Site, ...]
    problems: tuple[Problem, ...]
    rejected: tuple[RejectedRow, ...]
    dialect: ExportDialect
    header: str


# --- file ------------------------------------------------------------------------


def _decode(path: Path) -> tuple[str, str]:
    """The file's text and encoding: UTF-8 (BOM or not) if it decodes, else Windows-1252."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputError([Problem(str(path), None, "", f"cannot read export: {exc}")]) from exc
    encodings = ("utf-8-sig",) if data.startswith(UTF8_BOM) else ("utf-8", "cp1252")
    for encoding in encodings:
        try:
            return data.decode(encoding), encoding
        except UnicodeDecodeError:
            continue
    message = "cannot decode: neither UTF-8 nor Windows-1252 text"
    raise InputError([Problem(str(path), None, "", message)])


def _dialect(header_line: str, encoding: str) -> ExportDialect:
    """Delimiter and line ending as the header line shows them."""
    delimiter = ";" if header_line.count(";") >= header_line.count(",") else ","
    ending = header_line[len(header_line.rstrip("\r\n")) :]
    return ExportDialect(encoding, delimiter, ending or "\r\n")


def _records(path: Path, lines: list[str], delimiter: str) -> Iterator[tuple[int, str, list[str]]]:
    """(first physical line, verbatim text, cells) of each CSV record.

    A quoted cell may span lines, so a record's text is every physical line
    the reader consumed for it, minus the final line ending.
    """
    reader = csv.reader(lines, delimiter=delimiter)
    consumed = 0
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise InputError(
                [Problem(str(path), consumed + 1, "", f"unreadable CSV: {exc}")]
            ) from exc
        first, consumed = consumed + 1, reader.line_num
        yield first, "".join(lines[first - 1 : consumed]).rstrip("\r\n"), cells


def _column_index(path: Path, header: list[str]) -> dict[str, int]:
    """Position of each export column; a missing one fails the whole file."""
    names = [name.strip() for name in header]
    missing = [column for column in EXPORT_COLUMNS if column not in names]
    if missing:
        raise InputError([Problem(str(path), 1, column, "missing column") for column in missing])
    return {column: names.index(column) for column in EXPORT_COLUMNS}


def import_export(path: Path, topology: Topology) -> ImportResult:
    """Read and check every row of a Mégalis I export.

    Raises InputError if the file cannot be read or lacks a column; every
    other problem is collected, row by row, in the result, with the bad rows
    verbatim. Sites get their PoP (the nearest) and an offered rate here.
    """
    text, encoding = _decode(path)
    lines = list(io.StringIO(text, newline=""))
    if not lines:
        raise InputError([Problem(str(path), None, "", "empty file: expected a header line")])
    dialect = _dialect(lines[0], encoding)
    records = _records(path, lines, dialect.delimiter)
    _, header, header_cells = next(records)
    columns = _column_index(path, header_cells)
    ledger = Ledger(topology)
    sites: list[Site] = []
    problems: list[Problem] = []
    rejected: list[RejectedRow] = []
    for line, raw, cells in records:
        if not any(cell.strip() for cell in cells):
            continue  # blank lines and Excel's ';;;;' padding rows carry nothing
        row = Row(line, {column: cells[i] for column, i in columns.items() if i < len(cells)})
        if len(cells) != len(header_cells):
            row.problems.append(("", f"expected {len(header_cells)} values, found {len(cells)}"))
        site = check_row(row, topology, ledger) if not row.problems else None
        if site is None:
            rejected.append(RejectedRow(line, raw))
            problems += [Problem(str(path), line, column, msg) for column, msg in row.problems]
        else:
            sites.append(site)
    return ImportResult(tuple(sites), tuple(problems), tuple(rejected), dialect, header)


def accepted_sites(result: ImportResult, skip_bad: bool = False) -> tuple[Site, ...]:
    """The sites to keep: all or nothing, unless bad rows may be skipped.

    Without ``skip_bad`` any problem raises InputError listing them all, so
    the caller writes nothing; with it, the good sites come back and the
    caller writes ``result.rejected`` with ``write_rejected``.
    """
    if result.problems and not skip_bad:
        raise InputError(list(result.problems))
    return result.sites


def rejects_path(path: Path) -> Path:
    """Where the bad rows of ``path`` go by default: ``export.csv`` -> ``export.rejected.csv``.

    Examples:
        >>> rejects_path(Path("data/megalis1-export.csv")).as_posix()
        'data/megalis1-export.rejected.csv'
    """
    return path.with_name(f"{path.stem}.rejected{path.suffix}")


def write_rejected(result: ImportResult, path: Path) -> None:
    """Write the header and the bad rows, verbatim, in the input's own format.

    Same encoding (BOM included), delimiter and line ending as the input, so
    the file opens in the same spreadsheet, gets fixed, and imports again.
    """
    dialect = result.dialect
    texts = [result.header, *(row.text for row in result.rejected)]
    data = "".join(text + dialect.lineterminator for text in texts)
    atomic_write_bytes(path, data.encode(dialect.encoding))
