"""A small reader of lake-mode Ed-Fi folders (docs/lake-format.md) for the rule replay.

It streams NDJSON line by line (JSON arrays are loaded whole; Parquet is read through pyarrow
when present) and keeps only what the truancy rules need: school days, enrolled ranges and each
day's resolved absence minutes per student and school. No Django: it runs anywhere.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from attend.cases.rules.history import DayRecord, History

# ATTENDANCE-RULES rule 1 and 2 (kept here too so the reader stays Django-free).
SCHOOL_DAY_EVENTS = frozenset(
    {"instructional day", "make-up day", "student late arrival/early dismissal"}
)
IGNORED_EXIT_TYPES = frozenset({"no show", "invalid enrollment"})
# Ed-Fi student characteristics that are Texas 25.0915(a-3) exemptions.
EXEMPTION_CODES = {
    "homeless": "homelessness",
    "homelessness": "homelessness",
    "foster care": "foster_care",
    "pregnant": "pregnancy",
    "pregnancy": "pregnancy",
    "principal income earner": "principal_earner",
}
SEVERITY = {"unexcused absence": 5, "excused absence": 4, "partial": 3}


def code(descriptor: Any) -> str:
    """`uri://ed-fi.org/…Descriptor#Unexcused Absence` → `unexcused absence`."""
    return str(descriptor or "").rsplit("#", 1)[-1].strip().lower()


def read_records(folder: Path, resource: str) -> Iterator[dict[str, Any]]:
    """Records of one resource, whichever of .ndjson, .json or .parquet the folder holds."""
    ndjson, array, parquet = (
        folder / f"{resource}{ext}" for ext in (".ndjson", ".json", ".parquet")
    )
    if ndjson.exists():
        with ndjson.open(encoding="utf-8") as handle:
            yield from (json.loads(line) for line in handle if line.strip())
    elif array.exists():
        with array.open(encoding="utf-8") as handle:
            yield from json.load(handle)
    elif parquet.exists():
        import pyarrow.parquet as pq  # optional: only lake folders written as Parquet need it

        for batch in pq.ParquetFile(parquet).iter_batches():
            yield from batch.to_pylist()


def _date(value: Any) -> dt.date | None:
    if value in (None, ""):
        return None
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value)[:10])


@dataclass
class _DayEvents:
    worst: str = ""
    fraction: float | None = None
    tardy_fraction: float = 0.0


@dataclass
class Lake:
    school_days: dict[str, list[dt.date]] = field(default_factory=dict)
    enrollments: dict[tuple[str, str], list[tuple[dt.date, dt.date]]] = field(
        default_factory=lambda: defaultdict(list)
    )
    grades: dict[tuple[str, str], str] = field(default_factory=dict)
    events: dict[tuple[str, str], dict[dt.date, _DayEvents]] = field(
        default_factory=lambda: defaultdict(dict)
    )
    last_event: dict[str, dt.date] = field(default_factory=dict)
    exemptions: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))


def _read_calendar(folder: Path, lake: Lake, start: dt.date, end: dt.date) -> None:
    days: dict[str, set[dt.date]] = defaultdict(set)
    for rec in read_records(folder, "calendarDates"):
        day = _date(rec.get("date"))
        events = {code(e.get("calendarEventDescriptor")) for e in rec.get("calendarEvents") or []}
        if day and start <= day <= end and events & SCHOOL_DAY_EVENTS:
            days[str(rec["calendarReference"]["schoolId"])].add(day)
    lake.school_days = {school: sorted(found) for school, found in days.items()}


def _read_enrollments(folder: Path, lake: Lake, start: dt.date, end: dt.date) -> None:
    for rec in read_records(folder, "studentSchoolAssociations"):
        entry, leave = _date(rec.get("entryDate")), _date(rec.get("exitWithdrawDate")) or end
        if entry is None or code(rec.get("exitWithdrawTypeDescriptor")) in IGNORED_EXIT_TYPES:
            continue
        if leave < entry or leave < start or entry > end:
            continue
        key = (rec["studentReference"]["studentUniqueId"], str(rec["schoolReference"]["schoolId"]))
        lake.enrollments[key].append((entry, leave))
        lake.grades[key] = code(rec.get("entryGradeLevelDescriptor"))


def _read_events(folder: Path, lake: Lake, start: dt.date, as_of: dt.date) -> None:
    """Resolve each day by severity (ATTENDANCE-RULES 7); tardies/early departures add minutes."""
    for rec in read_records(folder, "studentSchoolAttendanceEvents"):
        day = _date(rec.get("eventDate"))
        if day is None or not start <= day <= as_of:
            continue
        school = str(rec["schoolReference"]["schoolId"])
        lake.last_event[school] = max(day, lake.last_event.get(school, day))
        key = (rec["studentReference"]["studentUniqueId"], school)
        slot = lake.events[key].setdefault(day, _DayEvents())
        _apply(slot, code(rec.get("attendanceEventCategoryDescriptor")), rec.get("eventDuration"))


def _apply(slot: _DayEvents, category: str, duration: Any) -> None:
    fraction = None if duration is None else float(duration)
    if category in ("tardy", "early departure"):
        slot.tardy_fraction += fraction or 0.0
    elif SEVERITY.get(category, 0) > SEVERITY.get(slot.worst, 0):
        slot.worst, slot.fraction = category, fraction


def _read_exemptions(folder: Path, lake: Lake) -> None:
    for rec in read_records(folder, "studentEducationOrganizationAssociations"):
        for item in rec.get("studentCharacteristics") or []:
            found = EXEMPTION_CODES.get(code(item.get("studentCharacteristicDescriptor")))
            if found:
                lake.exemptions[rec["studentReference"]["studentUniqueId"]].add(found)


def read_lake(folder: Path, year_start: dt.date, year_end: dt.date, as_of: dt.date) -> Lake:
    lake = Lake()
    _read_calendar(folder, lake, year_start, year_end)
    _read_enrollments(folder, lake, year_start, year_end)
    _read_events(folder, lake, year_start, as_of)
    _read_exemptions(folder, lake)
    return lake


def _record(day: dt.date, slot: _DayEvents | None, day_minutes: int) -> DayRecord:
    if slot is None:
        return DayRecord(day)  # exception-only reporting: no event = present (rule 5)
    default = 0.0 if slot.worst == "partial" else 1.0
    absent = round(day_minutes * (slot.fraction if slot.fraction is not None else default))
    tardy = round(day_minutes * slot.tardy_fraction)
    if slot.worst == "unexcused absence":
        return DayRecord(day, unexcused_minutes=absent, tardy_minutes=tardy)
    # Excused and partial absences count only for `basis = "any"` rules.
    return DayRecord(day, excused_minutes=absent, tardy_minutes=tardy)


def histories(
    lake: Lake, year_start: dt.date, as_of: dt.date, day_minutes: int = 360
) -> Iterator[History]:
    """One History per student × school (ATTENDANCE-RULES 4), days up to as-of and never past
    the school's last reported attendance day (rule 3)."""
    for (student, school), ranges in sorted(lake.enrollments.items()):
        calendar = lake.school_days.get(school, [])
        cutoff = min(as_of, lake.last_event.get(school, as_of))
        by_day = lake.events.get((student, school), {})
        enrolled = [d for d in calendar if d <= cutoff and any(a <= d <= b for a, b in ranges)]
        yield History(
            student_id=student,
            school_id=school,
            year_start=year_start,
            enrolled_from=min(a for a, _ in ranges),
            days=tuple(_record(d, by_day.get(d), day_minutes) for d in enrolled),
            school_days=tuple(calendar),
            exemptions=frozenset(lake.exemptions.get(student, ())),
            grade=lake.grades.get((student, school), ""),
        )
