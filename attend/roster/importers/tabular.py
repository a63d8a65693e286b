"""Rows from CSV and XLSX files, each with its line number, whatever the exporter did to them.

Headers are matched leniently (case, surrounding whitespace, a byte-order mark); rows that do
not fit the header (a truncated file, an unclosed quote) are problems, never crashes.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from attend.roster.importers.common import Problems, decode

csv.field_size_limit(1 << 20)


@dataclass
class Sheet:
    """A table read from one file: its header as written and rows as dicts by header."""

    name: str
    header: list[str]
    rows: list[tuple[int, dict[str, str]]] = field(default_factory=list)


def header_key(name: str) -> str:
    """How headers are compared: case, spaces, underscores and a stray BOM do not count."""
    return "".join(name.replace("\ufeff", "").split()).replace("_", "").lower()


def read_table(name: str, data: bytes, problems: Problems) -> Sheet | None:
    """A CSV or XLSX file as a Sheet; None (with a problem) when it has no header at all."""
    if name.lower().endswith((".xlsx", ".xlsm")):
        return _xlsx(name, data, problems)
    text, notes = decode(data)
    for note in notes:
        problems.note(f"{name}: {note}")
    return _csv(name, text, problems)


def _csv(name: str, text: str, problems: Problems) -> Sheet | None:
    reader = csv.reader(io.StringIO(text, newline=""), dialect=_dialect(text))
    try:
        header = next(reader, None)
    except csv.Error as bad:
        problems.add(name, 1, "", "", f"unreadable header: {bad}")
        return None
    if not header or not any(h.strip() for h in header):
        problems.add(name, 1, "", "", "the file is empty or has no header row")
        return None
    sheet = Sheet(name, [h.replace("\ufeff", "").strip() for h in header])
    for line, values in _lines(reader, name, problems):
        _add_row(sheet, line, values, problems)
    return sheet


def _dialect(text: str) -> type[csv.Dialect]:
    first = text.split("\n", 1)[0]
    if first.count(";") > first.count(",") and first.count(";") > first.count("\t"):
        return _Semicolon
    if first.count("\t") > first.count(","):
        return csv.excel_tab
    return csv.excel


class _Semicolon(csv.excel):
    delimiter = ";"


def _lines(reader: Any, name: str, problems: Problems) -> Iterator[tuple[int, list[str]]]:
    while True:
        try:
            values = next(reader)
        except StopIteration:
            return
        except csv.Error as bad:
            problems.add(name, reader.line_num, "", "", f"unreadable row: {bad}")
            return
        yield reader.line_num, values


def _add_row(sheet: Sheet, line: int, values: list[str], problems: Problems) -> None:
    if not any(v.strip() for v in values):
        return
    # Trailing empty header cells ("a,b,,") are exporter noise, not columns a row must fill.
    width = max((i + 1 for i, h in enumerate(sheet.header) if h), default=0)
    if len(values) < width:
        reason = f"row has {len(values)} fields, the header {width} (truncated?)"
        problems.add(sheet.name, line, "", "", reason)
        return
    row = {h: values[i].strip() for i, h in enumerate(sheet.header) if h and i < len(values)}
    sheet.rows.append((line, row))


def _xlsx(name: str, data: bytes, problems: Problems) -> Sheet | None:
    from openpyxl import load_workbook

    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as bad:  # openpyxl raises zipfile, KeyError and its own errors
        problems.add(name, "", "", "", f"not a readable XLSX workbook: {bad}")
        return None
    rows = book.worksheets[0].iter_rows(values_only=True)
    header = next(rows, None)
    if not header or not any(header):
        problems.add(name, 1, "", "", "the sheet is empty or has no header row")
        return None
    sheet = Sheet(name, [str(h or "").strip() for h in header])
    for line, values in enumerate(rows, start=2):
        cells = [_cell(v) for v in values]
        if any(cells):
            sheet.rows.append((line, dict(zip(sheet.header, cells, strict=False))))
    book.close()
    return sheet


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def read_path(path: Path, problems: Problems) -> Sheet | None:
    return read_table(path.name, path.read_bytes(), problems)
