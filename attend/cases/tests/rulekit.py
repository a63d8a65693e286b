"""Hand-built school years for the golden rule tests (no Django, no database)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any

from attend.cases.rules.history import DayRecord, History

DAY = 360


def weekdays(start: dt.date, end: dt.date, holidays: Iterable[dt.date] = ()) -> list[dt.date]:
    skip = set(holidays)
    days, current = [], start
    while current <= end:
        if current.weekday() < 5 and current not in skip:
            days.append(current)
        current += dt.timedelta(days=1)
    return days


def record(day: dt.date, mark: Any) -> DayRecord:
    """ "U" unexcused day, "E" excused day, ("U", 40) unexcused minutes, ("T", 45) late."""
    kind, minutes = (mark, DAY) if isinstance(mark, str) else mark
    if kind == "U":
        return DayRecord(day, unexcused_minutes=minutes)
    if kind == "E":
        return DayRecord(day, excused_minutes=minutes)
    return DayRecord(day, tardy_minutes=minutes)


def history(
    marks: Mapping[dt.date, Any],
    *,
    start: dt.date = dt.date(2025, 9, 2),
    end: dt.date = dt.date(2026, 6, 12),
    enrolled_from: dt.date | None = None,
    exemptions: Iterable[str] = (),
) -> History:
    calendar = weekdays(start, end)
    first = enrolled_from or start
    year_start = dt.date(start.year if start.month >= 7 else start.year - 1, 7, 1)
    return History(
        student_id="S1",
        school_id="100001",
        year_start=year_start,
        enrolled_from=first,
        days=tuple(
            record(d, marks[d]) if d in marks else DayRecord(d) for d in calendar if d >= first
        ),
        school_days=tuple(calendar),
        exemptions=frozenset(exemptions),
    )


def d(text: str) -> dt.date:
    return dt.date.fromisoformat(text)
