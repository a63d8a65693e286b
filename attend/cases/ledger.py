"""Build the rule engine's History for one student from the ledger and the school calendar."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from attend.attendance.choices import Category
from attend.attendance.models import AttendanceEvent
from attend.attendance.queries import resolve_day
from attend.cases.rules.history import DayRecord, History
from attend.lib.dates import school_year_bounds, school_year_of
from attend.roster.choices import IGNORED_EXIT_TYPES
from attend.roster.models import CalendarDate, Enrollment, School, Student

LATE = (Category.TARDY, Category.EARLY_DEPARTURE)


def _ranges(student: Student, school: School, year: int) -> list[tuple[dt.date, dt.date]]:
    _, year_end = school_year_bounds(year)
    rows = Enrollment.objects.filter(student=student, school=school, school_year=year)
    return [
        (e.entry_date, e.exit_date or year_end)
        for e in rows
        if e.exit_type.lower() not in IGNORED_EXIT_TYPES
        and (e.exit_date or year_end) >= e.entry_date
    ]


def _record(day: dt.date, events: list[tuple[str, Decimal | None]], minutes: int) -> DayRecord:
    status, fraction, _ = resolve_day(events)
    late = sum(float(d or 0) for c, d in events if c in LATE)
    absent, tardy = round(float(fraction) * minutes), round(late * minutes)
    if status == Category.UNEXCUSED:
        return DayRecord(day, unexcused_minutes=absent, tardy_minutes=tardy)
    return DayRecord(day, excused_minutes=absent, tardy_minutes=tardy)


def student_school(student: Student, year: int) -> School | None:
    """The school of the student's latest counted enrollment this year."""
    enrollment = (
        Enrollment.objects.filter(student=student, school_year=year)
        .exclude(exit_type__in=[t.title() for t in IGNORED_EXIT_TYPES])
        .select_related("school")
        .order_by("-entry_date")
        .first()
    )
    return enrollment.school if enrollment else None


def build_history(
    student: Student, school: School, as_of: dt.date, day_minutes: int = 360
) -> History:
    """1. Enrolled ranges this school year. 2. The school's calendar school days. 3. The
    student's daily ledger events up to as-of, resolved by severity (ATTENDANCE-RULES 7)."""
    year = school_year_of(as_of)
    year_start, _ = school_year_bounds(year)
    ranges = _ranges(student, school, year)
    calendar = list(
        CalendarDate.objects.filter(
            calendar__school=school, calendar__school_year=year, is_school_day=True
        )
        .values_list("date", flat=True)
        .order_by("date")
        .distinct()
    )
    events: dict[dt.date, list[tuple[str, Decimal | None]]] = {}
    for day, category, duration in AttendanceEvent.objects.filter(
        student=student,
        school=school,
        section_id="",
        deleted_at__isnull=True,
        event_date__range=(year_start, as_of),
    ).values_list("event_date", "category", "duration"):
        events.setdefault(day, []).append((category, duration))
    enrolled = [d for d in calendar if d <= as_of and any(a <= d <= b for a, b in ranges)]
    return History(
        student_id=student.student_unique_id,
        school_id=school.school_id,
        year_start=year_start,
        enrolled_from=min((a for a, _ in ranges), default=year_start),
        days=tuple(_record(d, events.get(d, []), day_minutes) for d in enrolled),
        school_days=tuple(calendar),
    )
