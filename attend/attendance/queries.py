"""Reads of the ledger: one student's school year, day by day, as ATTENDANCE-RULES counts it."""

from __future__ import annotations

import calendar as pycal
import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from attend.attendance.choices import SEVERITY, Category
from attend.attendance.models import AttendanceEvent
from attend.lib.dates import school_year_bounds
from attend.roster.choices import IGNORED_EXIT_TYPES
from attend.roster.models import CalendarDate, Enrollment, Student

ABSENCES = (Category.UNEXCUSED, Category.EXCUSED, Category.PARTIAL)


@dataclass
class Day:
    date: dt.date
    status: str  # present | unexcused | excused | partial | non_school | not_enrolled | future
    tardy: bool = False
    absent_fraction: Decimal = Decimal(0)
    events: list[str] = field(default_factory=list)

    @property
    def iso(self) -> str:
        return self.date.isoformat()


@dataclass
class YearSummary:
    enrolled_days: int = 0
    absent_days: Decimal = Decimal(0)
    tardy_days: int = 0

    @property
    def attendance_rate(self) -> float | None:
        if not self.enrolled_days:
            return None
        return float((self.enrolled_days - self.absent_days) / self.enrolled_days)


def _enrolled_ranges(student: Student, school_year: int) -> list[tuple[int, dt.date, dt.date]]:
    """(school pk, entry, exit) per counted enrollment; open enrollments run to year end."""
    _, year_end = school_year_bounds(school_year)
    ranges = []
    for e in Enrollment.objects.filter(student=student, school_year=school_year):
        if e.exit_type.lower() in IGNORED_EXIT_TYPES:
            continue
        exit_date = e.exit_date or year_end
        if exit_date >= e.entry_date:
            ranges.append((e.school_id, e.entry_date, exit_date))
    return ranges


def _school_days(school_ids: set[int], school_year: int) -> dict[dt.date, set[int]]:
    days: dict[dt.date, set[int]] = {}
    rows = CalendarDate.objects.filter(
        calendar__school_id__in=school_ids, calendar__school_year=school_year, is_school_day=True
    ).values_list("date", "calendar__school_id")
    for day, school_id in rows:
        days.setdefault(day, set()).add(school_id)
    return days


Event = tuple[str, Decimal | None]  # (category, duration)


def _events_by_day(student: Student, start: dt.date, end: dt.date) -> dict[dt.date, list[Event]]:
    rows = AttendanceEvent.objects.filter(
        student=student,
        section_id="",
        deleted_at__isnull=True,
        event_date__range=(start, end),
    ).values_list("event_date", "category", "duration")
    by_day: dict[dt.date, list[Event]] = {}
    for day, category, duration in rows:
        by_day.setdefault(day, []).append((category, duration))
    return by_day


def resolve_day(events: list[Event]) -> tuple[str, Decimal, bool]:
    """Most severe event wins (rule 7); tardy and early departure still count as tardy."""
    categories = [c for c, _ in events]
    tardy = Category.TARDY in categories or Category.EARLY_DEPARTURE in categories
    worst = max(events, key=lambda e: SEVERITY[Category(e[0])], default=(Category.PRESENT, None))
    if worst[0] not in ABSENCES:
        return "present", Decimal(0), tardy
    default = Decimal(0) if worst[0] == Category.PARTIAL else Decimal(1)
    return str(worst[0]), worst[1] if worst[1] is not None else default, tardy


def student_year(
    student: Student, school_year: int, as_of: dt.date
) -> tuple[list[Day], YearSummary]:
    """Every calendar date of the school year with its attendance status, and the totals."""
    start, end = school_year_bounds(school_year)
    ranges = _enrolled_ranges(student, school_year)
    school_days = _school_days({r[0] for r in ranges}, school_year)
    events = _events_by_day(student, start, min(end, as_of))
    days, summary = [], YearSummary()
    for offset in range((end - start).days + 1):
        day = start + dt.timedelta(days=offset)
        days.append(_day(day, ranges, school_days, events, as_of, summary))
    return days, summary


def _day(
    day: dt.date,
    ranges: list[tuple[int, dt.date, dt.date]],
    school_days: dict[dt.date, set[int]],
    events: dict[dt.date, list[Event]],
    as_of: dt.date,
    summary: YearSummary,
) -> Day:
    open_at = school_days.get(day, set())
    if not open_at:
        return Day(day, "non_school")
    if not any(school in open_at and entry <= day <= exit for school, entry, exit in ranges):
        return Day(day, "not_enrolled")
    if day > as_of:
        return Day(day, "future")
    status, fraction, tardy = resolve_day(events.get(day, []))
    summary.enrolled_days += 1
    summary.absent_days += fraction
    summary.tardy_days += int(tardy)
    return Day(day, status, tardy, fraction, [c for c, _ in events.get(day, [])])


def months(days: list[Day]) -> list[dict[str, object]]:
    """Month grids (weeks start on Monday) for the calendar template; school-free months skipped."""
    grids: list[dict[str, object]] = []
    by_month: dict[tuple[int, int], dict[int, Day]] = {}
    for d in days:
        by_month.setdefault((d.date.year, d.date.month), {})[d.date.day] = d
    for (year, month), lookup in by_month.items():
        if all(d.status == "non_school" for d in lookup.values()):
            continue  # summer months: nothing to show
        weeks = [
            [lookup.get(n) if n else None for n in week]
            for week in pycal.Calendar(firstweekday=0).monthdayscalendar(year, month)
        ]
        grids.append({"label": dt.date(year, month, 1).strftime("%B %Y"), "weeks": weeks})
    return grids
