"""Any SIS's daily attendance export (CSV or XLSX), read through a profile (a small TOML file)
that names its columns and maps its codes to Attend's categories. See docs/import-profiles.md.

The export names students and schools by the ids Attend already holds (from an Ed-Fi or
OneRoster import): an unknown student is a problem, as in every other importer.
"""

from __future__ import annotations

import datetime as dt
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from attend.attendance.choices import Category, Source
from attend.roster.importers.batch import Batch
from attend.roster.importers.common import (
    in_school_year,
    parse_date,
    parse_fraction,
    school_year_of,
)
from attend.roster.importers.edfi_records import Invalid
from attend.roster.importers.ledger import Replace
from attend.roster.importers.tabular import Sheet, header_key, read_path
from attend.roster.models import ID_LENGTH, Enrollment

PROFILES = Path(__file__).with_name("profiles")
IGNORE = "ignore"
ROLES = ("student", "school", "date", "code", "reason", "duration", "section")
REQUIRED = ("student", "date", "code")
Progress = Callable[[str], None]


@dataclass
class Profile:
    """A column layout and code mapping; see docs/import-profiles.md for each key."""

    key: str  # the file's stem, used in messages
    name: str
    columns: dict[str, list[str]]
    codes: dict[str, str]
    only: dict[str, set[str]] = field(default_factory=dict)
    separator: str = ":"
    date_format: str = ""
    unknown_codes: str = "error"
    source: str = ""


def load_profile(name: str | Path) -> Profile:
    """A shipped profile by name (`powerschool`) or a TOML file by path; refuses bad ones."""
    path = Path(name)
    if not path.suffix:
        path = PROFILES / f"{name}.toml"
    if not path.is_file():
        shipped = ", ".join(sorted(p.stem for p in PROFILES.glob("*.toml")))
        raise FileNotFoundError(f"no profile {name} (shipped: {shipped}; or give a .toml path)")
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as bad:
        raise ValueError(f"{path.name}: not valid TOML: {bad}") from None
    return _profile(path.stem, data)


def _profile(name: str, data: dict[str, Any]) -> Profile:
    columns = {role: _names(value) for role, value in (data.get("columns") or {}).items()}
    unknown = set(columns) - set(ROLES)
    missing = [role for role in REQUIRED if not columns.get(role)]
    if unknown or missing:
        raise ValueError(
            f"profile {name}: columns needs {', '.join(REQUIRED)}; unknown: {sorted(unknown)}"
        )
    codes = {
        str(k).strip().upper(): str(v).strip().lower() for k, v in (data.get("codes") or {}).items()
    }
    bad = sorted({v for v in codes.values()} - set(Category.values) - {IGNORE})
    if bad or not codes:
        raise ValueError(
            f"profile {name}: codes must map to {', '.join(Category.values)} or ignore: {bad}"
        )
    only = {
        col: {str(v).strip().upper() for v in _names(vals)}
        for col, vals in (data.get("only") or {}).items()
    }
    options = data.get("options") or {}
    return Profile(
        key=name,
        name=str(data.get("name") or name),
        columns=columns,
        codes=codes,
        only=only,
        separator=str(options.get("separator", ":")),
        date_format=str(options.get("date_format", "")),
        unknown_codes=str(options.get("unknown_codes", "error")),
        source=str(data.get("source", "")),
    )


def _names(value: Any) -> list[str]:
    return [str(v) for v in value] if isinstance(value, list) else [str(value)] if value else []


# ---------------------------------------------------------------------------------------------
# Reading


@dataclass
class Row:
    where: int
    student: str
    school: str
    date: dt.date
    category: str
    reason: str
    duration: float | None
    section: str


def read_sis_csv(
    path: Path,
    profile: Profile,
    batch: Batch,
    progress: Progress | None = None,
    replace: Span | None = None,
) -> None:
    """Stage every row of the export as an attendance event.

    1. Read the sheet; every column the profile names must be there (matched leniently).
    2. Each row: keep it if it passes `only`, map its code, parse date and duration.
    3. Rows without a school column take the school the student was enrolled in that day.
    4. With `replace` the export is complete for its dates (`FILE`: the first to the last
       date it holds) at the schools it names: ledger rows there that it lacks were removed
       in the SIS, and become deletions with history.
    """
    batch.source = Source.SIS_CSV
    sheet = read_path(path, batch.problems)
    if sheet is None:
        return
    file_no = batch.file_number(path.name)
    columns = _columns(sheet, profile, batch)
    if columns is None:
        return
    rows = [
        r
        for r in (_row(batch, profile, columns, line, row, file_no) for line, row in sheet.rows)
        if r
    ]
    _stage(batch, rows)
    if replace is not None:
        batch.replace = _replace(batch, profile, replace)
    if progress:
        progress(f"read {path.name}: {len(rows):,} attendance rows with profile {profile.name}")


# A date range, or FILE: the export's own first and last date.
Span = tuple[dt.date, dt.date] | str
FILE = "file"


def parse_span(text: str | None) -> Span | None:
    """`--replace-range` as given: absent, bare (the file's own dates) or `FROM:TO`."""
    if text is None:
        return None
    if text in ("", FILE):
        return FILE
    start, _, end = text.partition(":")
    try:
        span = (dt.date.fromisoformat(start.strip()), dt.date.fromisoformat(end.strip()))
    except ValueError:
        raise ValueError(f"replace range {text!r}: give FROM:TO as YYYY-MM-DD:YYYY-MM-DD") from None
    if span[0] > span[1]:
        raise ValueError(f"replace range {text!r}: FROM is after TO")
    return span


def _replace(batch: Batch, profile: Profile, span: Span) -> Replace | None:
    schools = frozenset(batch.events.distinct("school"))
    if not schools:
        return None
    if span == FILE:
        first, last = batch.events.rows("SELECT min(date), max(date) FROM ev")[0]
        span = (first, last)
    assert isinstance(span, tuple)
    return Replace(span[0], span[1], schools, sections=bool(profile.columns.get("section")))


def _columns(sheet: Sheet, profile: Profile, batch: Batch) -> dict[str, str] | None:
    """Profile column name → the header as written in this file."""
    written = {header_key(h): h for h in sheet.header if h}
    wanted = [c for names in profile.columns.values() for c in names] + list(profile.only)
    found: dict[str, str] = {}
    for column in wanted:
        if header_key(column) in written:
            found[column] = written[header_key(column)]
        else:
            batch.problems.add(
                sheet.name, 1, "column", column, f"not in this file (profile {profile.key})"
            )
    return None if len(found) < len(set(wanted)) else found


def _row(
    batch: Batch,
    profile: Profile,
    columns: dict[str, str],
    line: int,
    row: dict[str, str],
    file_no: int,
) -> Row | None:
    where = batch.at(file_no, line)

    def value(role: str) -> str:
        names = profile.columns.get(role, [])
        return profile.separator.join(row.get(columns[n], "").strip() for n in names)

    if any(
        row.get(columns[col], "").strip().upper() not in allowed
        for col, allowed in profile.only.items()
    ):
        return None
    try:
        return _parse(batch, profile, where, value)
    except Invalid as bad:
        batch.problem(where, bad.field, bad.value, bad.reason)
        return None


def _parse(batch: Batch, profile: Profile, where: int, value: Callable[[str], str]) -> Row | None:
    code = value("code").upper()
    category = profile.codes.get(code)
    if category is None:
        if profile.unknown_codes == IGNORE:
            return None
        raise Invalid("code", code or "(blank)", f"code not in profile {profile.key}")
    if category == IGNORE:
        return None
    student = value("student")
    if not student or len(student) > ID_LENGTH:
        raise Invalid(
            "student", student or "(missing)", f"student id must be 1–{ID_LENGTH} characters"
        )
    return Row(
        where,
        batch.intern(student),
        value("school"),
        _date(value("date"), profile),
        category,
        value("reason")[:200],
        _duration(value("duration")),
        value("section")[:64],
    )


def _date(text: str, profile: Profile) -> dt.date:
    try:
        if profile.date_format:
            return dt.datetime.strptime(text, profile.date_format).date()
        return parse_date(text)
    except ValueError:
        raise Invalid("date", text or "(missing)", "not a date") from None


def _duration(text: str) -> float | None:
    try:
        return parse_fraction(text)
    except ValueError:
        raise Invalid("duration", text, "must be a fraction of a day between 0 and 1") from None


def _stage(batch: Batch, rows: list[Row]) -> None:
    schools = _schools_by_enrollment(rows)
    for row in rows:
        school = row.school or schools(row.student, row.date)
        if not school:
            batch.problem(
                row.where, "student", row.student, f"not enrolled in any school on {row.date}"
            )
            continue
        year = school_year_of(row.date)
        batch.school_years.add(year)
        batch.events.append(
            row.student,
            batch.intern(school),
            row.section,
            row.date.isoformat(),
            row.category,
            row.duration,
            row.reason,
            None,
            row.where,
        )


def _schools_by_enrollment(rows: list[Row]) -> Callable[[str, dt.date], str]:
    """For exports without a school column: the school whose enrollment covers the day."""
    wanted = {r.student for r in rows if not r.school}
    stints: dict[str, list[tuple[dt.date, dt.date | None, str]]] = {}
    if wanted:
        found = Enrollment.objects.filter(student__student_unique_id__in=wanted).values_list(
            "student__student_unique_id", "entry_date", "exit_date", "school__school_id"
        )
        for student, entry, exit_date, school in found:
            stints.setdefault(student, []).append((entry, exit_date, school))

    def school_of(student: str, day: dt.date) -> str:
        for entry, exit_date, school in sorted(stints.get(student, []), reverse=True):
            if (
                entry <= day
                and (exit_date is None or day <= exit_date)
                and in_school_year(day, school_year_of(entry))
            ):
                return school
        return ""

    return school_of
