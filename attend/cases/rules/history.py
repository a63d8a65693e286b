"""A student's school year, day by day, as the rule engine needs it (no Django)."""

from __future__ import annotations

import bisect
import datetime as dt
from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class DayRecord:
    """One enrolled school day. Minutes are the day's resolved attendance (the latest version
    of each record, so an absence excused later arrives here as excused)."""

    date: dt.date
    unexcused_minutes: int = 0
    excused_minutes: int = 0
    tardy_minutes: int = 0  # unexcused late arrival or early departure
    unexcused_periods: int = 0


@dataclass(frozen=True)
class History:
    student_id: str
    school_id: str
    year_start: dt.date
    enrolled_from: dt.date
    # Every enrolled school day up to the last known day, in date order.
    days: tuple[DayRecord, ...]
    # Every school day of the school's calendar (deadlines count these), in date order.
    school_days: tuple[dt.date, ...] = ()
    exemptions: frozenset[str] = field(default_factory=frozenset)
    grade: str = ""

    def add_school_days(self, day: dt.date, n: int) -> dt.date:
        """The n-th school day after `day`; past the calendar's end, weekdays stand in."""
        calendar = self.school_days or tuple(d.date for d in self.days)
        index = bisect.bisect_right(calendar, day)
        if index + n - 1 < len(calendar):
            return calendar[index + n - 1]
        current, left = (calendar[-1] if calendar else day), index + n - len(calendar)
        while left > 0:
            current += dt.timedelta(days=1)
            left -= current.weekday() < 5
        return current
