"""What every importer shares: problem reports, counts, forgiving text decoding, dates, descriptors.

Importers are lenient about how bytes and dates are spelt and strict about what they mean: a
record that cannot be understood is a `Problem` naming its file, line, field and value, never a
crash and never a silent guess.
"""

from __future__ import annotations

import codecs
import datetime as dt
import functools
import itertools
import re
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# Problems kept in full on a report; the rest are only counted ("… and 4,213 more").
PROBLEM_CAP = 200

_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_ANY_CONTROL = re.compile("[\x00-\x1f\x7f]")
_SPAN = re.compile(r"\d{4}-\d{4}")
# US month-first first; day-first only when month-first cannot be (15/06/2023).
_DATE_FORMATS = (
    "%m/%d/%Y",
    "%m/%d/%y",
    "%d/%m/%Y",
    "%Y/%m/%d",
    "%m-%d-%Y",
    "%d.%m.%Y",
    "%d-%b-%Y",
    "%d %b %Y",
    "%b %d, %Y",
    "%B %d, %Y",
    "%Y%m%d",
)


class ImportFailed(Exception):
    """An all-or-nothing import found invalid records; nothing was written."""

    def __init__(self, result: Any) -> None:
        super().__init__(result.summary())
        self.result = result


@dataclass(frozen=True, slots=True)
class Problem:
    """One invalid record: where it is, which field, what value, and why it was refused."""

    file: str
    line: int | str
    field: str
    value: Any
    reason: str

    def __str__(self) -> str:
        # Control characters are shown escaped: a value like "\n" must not break the line.
        value = _ANY_CONTROL.sub(lambda m: repr(m.group())[1:-1], str(self.value))
        value = value if len(value) <= 60 else value[:57] + "..."
        where = f"{self.file}:{self.line}" if self.line != "" else self.file
        named = f" {self.field}={value}" if self.field else ""
        return f"{where}{named}: {self.reason}"


@dataclass
class Problems:
    """Collects problems (errors) and data-quality notes (kept, not refused)."""

    errors: list[Problem] = field(default_factory=list)
    quality: list[str] = field(default_factory=list)
    quality_total: int = 0
    quality_kinds: Counter[str] = field(default_factory=Counter)

    def add(self, file: str, line: int | str, fld: str, value: Any, reason: str) -> None:
        self.errors.append(Problem(file, line, fld, value, reason))

    def note(self, text: str, kind: str = "repaired") -> None:
        self.quality_total += 1
        self.quality_kinds[kind] += 1
        if len(self.quality) < PROBLEM_CAP:
            self.quality.append(text)

    def note_many(self, kind: str, total: int, texts: Iterable[str]) -> None:
        """`total` notes of one kind, of which `texts` (in order) are at least those that fit
        under the cap: a million notes are counted without being written out."""
        if not total:
            return
        self.quality.extend(itertools.islice(texts, self.room()))
        self.quality_total += total
        self.quality_kinds[kind] += total

    def room(self) -> int:
        """How many more notes the report keeps in full."""
        return max(0, PROBLEM_CAP - len(self.quality))

    def __len__(self) -> int:
        return len(self.errors)

    def lines(self, cap: int = PROBLEM_CAP) -> list[str]:
        return capped([str(p) for p in self.errors[:cap]], len(self.errors), cap)

    def quality_lines(self) -> list[str]:
        return capped(self.quality, self.quality_total, PROBLEM_CAP)


def capped(lines: list[str], total: int, cap: int) -> list[str]:
    if total <= cap:
        return list(lines)
    return [*lines[:cap], f"… and {total - cap:,} more"]


@dataclass
class Tally:
    """Created / updated / unchanged for one kind of record."""

    created: int = 0
    updated: int = 0
    unchanged: int = 0

    def add(self, other: Tally) -> None:
        self.created += other.created
        self.updated += other.updated
        self.unchanged += other.unchanged

    def as_dict(self) -> dict[str, int]:
        return {"created": self.created, "updated": self.updated, "unchanged": self.unchanged}


def summary_line(tally: Tally, errors: int) -> str:
    """The one line every import run prints."""
    return (
        f"created {tally.created}, updated {tally.updated}, "
        f"unchanged {tally.unchanged}, errors {errors}"
    )


# ---------------------------------------------------------------------------------------------
# Text


def decode(data: bytes) -> tuple[str, list[str]]:
    """Bytes to text whatever the exporter did, with notes on what had to be repaired.

    1. A UTF-8 or UTF-16 byte-order mark is honoured and dropped.
    2. Valid UTF-8 is taken as such; anything else is Windows-1252, whose undefined bytes
       fall back to Latin-1 (exports from older SIS versions are one or the other).
    3. Control characters other than tab and newlines are removed: XML and JSON parsers
       refuse them, and they never carry meaning in a roster.
    """
    notes: list[str] = []
    text = _decode_bytes(data, notes)
    if _CONTROL.search(text):
        count = len(_CONTROL.findall(text))
        text = _CONTROL.sub("", text)
        notes.append(f"removed {count} stray control character(s)")
    return text, notes


def _decode_bytes(data: bytes, notes: list[str]) -> str:
    if data.startswith(codecs.BOM_UTF8):
        notes.append("UTF-8 byte-order mark removed")
        data = data[len(codecs.BOM_UTF8) :]
    elif data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        notes.append("decoded as UTF-16")
        return data.decode("utf-16", errors="replace")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        notes.append("not UTF-8: decoded as Windows-1252/Latin-1")
        return (
            data.decode("cp1252", errors="strict") if _is_cp1252(data) else data.decode("latin-1")
        )


def _is_cp1252(data: bytes) -> bool:
    try:
        data.decode("cp1252")
    except UnicodeDecodeError:
        return False
    return True


def decode_line(raw: bytes) -> str:
    """One line of a large file: the fast path for clean UTF-8, the careful one otherwise."""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("cp1252") if _is_cp1252(raw) else raw.decode("latin-1")


def strip_control(text: str) -> str:
    return _CONTROL.sub("", text)


def read_text(path: Path) -> tuple[str, list[str]]:
    return decode(path.read_bytes())


# ---------------------------------------------------------------------------------------------
# Values


def parse_date(value: Any) -> dt.date:
    """A date in ISO form or one of the spellings SIS exports use (US month-first)."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    text = str(value).strip()
    try:
        return dt.date.fromisoformat(text[:10])
    except ValueError:
        pass
    for fmt in _DATE_FORMATS:
        try:
            return dt.datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    raise ValueError(f"not a date: {text!r}")


def parse_datetime(value: Any) -> dt.datetime:
    """An ISO 8601 instant; a naive value is taken as UTC (Ed-Fi's `_lastModifiedDate` is)."""
    if isinstance(value, dt.datetime):
        moment = value
    else:
        text = str(value).strip().replace("Z", "+00:00")
        moment = dt.datetime.fromisoformat(text)
    if moment.tzinfo is None:
        return moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(dt.UTC)


def stored_instant(moment: dt.datetime) -> str:
    """An instant as the ledger stores it: naive UTC text, the form Django writes on SQLite
    and PostgreSQL reads in its UTC session (`2025-10-03 16:12:00`)."""
    return str(moment.astimezone(dt.UTC).replace(tzinfo=None))


def parse_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in {"true", "t", "yes", "y", "1"}:
        return True
    if text in {"false", "f", "no", "n", "0", ""}:
        return False
    raise ValueError(f"not true/false: {value!r}")


def parse_fraction(value: Any) -> float | None:
    """A fraction of a day, 0–1; empty means 'the category's default'."""
    if value is None or value == "":
        return None
    number = float(value)
    if not 0 <= number <= 1:
        raise ValueError("must be a fraction of a day between 0 and 1")
    return number


_CODE_CACHE: dict[str, str] = {}


def code_value(descriptor: Any) -> str:
    """`uri://ed-fi.org/XDescriptor#Code Value` → `code value` (Ed-Fi matches on the code)."""
    text = str(descriptor)
    code = _CODE_CACHE.get(text)
    if code is None:
        code = text.rsplit("#", 1)[-1].strip().lower()
        if len(_CODE_CACHE) < 10_000:
            _CODE_CACHE[text] = code
    return code


def school_year_of(day: dt.date) -> int:
    """The Ed-Fi school year (ending year) a date falls in; years turn on 1 July."""
    return day.year + 1 if day.month >= 7 else day.year


def parse_school_year(value: Any) -> int:
    """`2026`, `"2026"` or the XML spelling `"2025-2026"` → 2026."""
    if type(value) is int:  # the usual spelling, first
        year = value
    else:
        text = str(value).strip()
        if _SPAN.fullmatch(text):
            return int(text[5:])
        year = int(text)
    if not 1900 < year < 2200:
        raise ValueError(f"not a school year: {value!r}")
    return year


def in_school_year(day: dt.date, year: int) -> bool:
    start, end = _year_bounds(year)
    return start <= day <= end


@functools.lru_cache(maxsize=256)
def _year_bounds(year: int) -> tuple[dt.date, dt.date]:
    return dt.date(year - 1, 7, 1), dt.date(year, 6, 30)


def chunked(items: Iterable[Any], size: int) -> Iterator[list[Any]]:
    chunk: list[Any] = []
    for item in items:
        chunk.append(item)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk
