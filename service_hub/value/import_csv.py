"""Reading an import's CSV file: encoding, delimiter, header, and rows with their line numbers.

The whole file is checked before any row is imported (UTF-8 with or without BOM, else GB18030;
comma, semicolon or tab; header names case-insensitive, spaces and hyphens read as underscores;
the required columns present; at least one row). Blank lines are skipped; a quoted field may span
lines, and a row's line is the one it starts on, the header being line 1.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

RAW_CHARS = 200  # how much of a refused row the report keeps


class ImportFileError(Exception):
    """The file as a whole cannot be imported (not CSV text, no rows, a required column missing)."""

    def __init__(self, message: str, line: int | None = None) -> None:
        super().__init__(message)
        self.line = line


@dataclass
class CsvRow:
    line: int
    values: dict[str, str]  # by normalised column name
    raw: str  # the row as written, at most RAW_CHARS
    problem: str | None = None  # set when the row cannot be read as the header's columns


def _column(name: str) -> str:
    return re.sub(r"[\s\-]+", "_", name.strip().lstrip("\ufeff").strip().lower())


class _LineTap:
    """Hands lines to csv.reader and keeps them, so a refused row is reported as written."""

    def __init__(self, lines: Iterator[str]) -> None:
        self.lines = lines
        self.taken: list[str] = []

    def __iter__(self) -> _LineTap:
        return self

    def __next__(self) -> str:
        line = next(self.lines)
        self.taken.append(line)
        return line

    def pop(self) -> str:
        raw = "".join(self.taken).rstrip("\r\n")
        self.taken.clear()
        return raw[:RAW_CHARS]


@dataclass
class CsvSource:
    """A checked CSV file: its encoding, delimiter, header columns and number of data rows."""

    path: Path
    required: tuple[str, ...]  # every one of these columns
    one_of: tuple[str, ...]  # and at least one of these
    encoding: str
    delimiter: str
    columns: list[str] = field(default_factory=list)
    total: int = 0

    def _records(self) -> Iterator[tuple[int, list[str], str]]:
        """(first line, fields, raw text) of every non-blank record, the header included."""
        with self.path.open(encoding=self.encoding, newline="") as stream:
            tap = _LineTap(stream)
            reader = csv.reader(tap, delimiter=self.delimiter)
            last = 0  # the line the previous record ended on
            try:
                for fields in reader:
                    line, last = last + 1, reader.line_num
                    raw = tap.pop()
                    if any(f.strip() for f in fields):
                        yield line, fields, raw
            except csv.Error as exc:
                raise ImportFileError(f"Line {reader.line_num} is not valid CSV: {exc}.", reader.line_num) from None

    def scan(self) -> None:
        """Read the header, count the rows; raises ImportFileError or UnicodeDecodeError."""
        records = self._records()
        header = next(records, None)
        if header is None:
            raise ImportFileError("The file is empty.")
        line, names, _ = header
        self.columns = [_column(n) for n in names]
        repeated = sorted({c for c in self.columns if c and self.columns.count(c) > 1})
        if repeated:
            raise ImportFileError(f"The header names {', '.join(repeated)} more than once.", line)
        missing = [c for c in self.required if c not in self.columns]
        if self.one_of and not any(c in self.columns for c in self.one_of):
            missing.insert(0, f"{self.one_of[0]} (or {', '.join(self.one_of[1:])})")
        if missing:
            found = ", ".join(c for c in self.columns if c) or "nothing"
            raise ImportFileError(f"Missing column(s): {', '.join(missing)}. The header has: {found}.", line)
        self.total = sum(1 for _ in records)
        if self.total == 0:
            raise ImportFileError("The file has a header but no rows.", line)

    def rows(self) -> Iterator[CsvRow]:
        """The data rows by column name; a row whose field count is off carries its problem."""
        records = self._records()
        next(records)
        width = len(self.columns)
        for line, fields, raw in records:
            if len(fields) < width or any(f.strip() for f in fields[width:]):
                yield CsvRow(line, {}, raw, f"the row has {len(fields)} fields; the header has {width}")
            else:
                yield CsvRow(line, dict(zip(self.columns, fields, strict=False)), raw)


def open_csv(path: Path, required: tuple[str, ...], one_of: tuple[str, ...] = ()) -> CsvSource:
    """Check the whole file (text, header, required columns) before any row is imported."""
    try:
        with path.open("rb") as stream:
            head = stream.read(64 * 1024)
    except FileNotFoundError:
        raise ImportFileError("The file is no longer stored; upload it again.") from None
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise ImportFileError("The file is UTF-16 text; save it as CSV in UTF-8.")
    if head.startswith(b"PK\x03\x04") or b"\x00" in head:
        raise ImportFileError("This is a binary file (a spreadsheet or an archive?), not CSV text; save it as CSV.")
    first = head.split(b"\n", 1)[0]
    delimiter = max((",", ";", "\t"), key=lambda d: first.count(d.encode()))
    for encoding in ("utf-8-sig", "gb18030"):
        source = CsvSource(path, required, one_of, encoding, delimiter if first.count(delimiter.encode()) else ",")
        try:
            source.scan()
            return source
        except UnicodeDecodeError:
            continue
    raise ImportFileError("The file is neither UTF-8 nor GB18030 text.")
