"""A handful of deliberately wrong events, so the data-quality report has something to find."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from attend.roster.generate import descriptors as d
from attend.roster.generate.calendar import SchoolCalendar
from attend.roster.generate.events import MORNING, Context, SchoolEvents

ISSUES = ("non_school_day", "outside_enrollment")
MAX_PLANTED = 50


@dataclass(frozen=True)
class Planted:
    events: SchoolEvents
    issue: np.ndarray  # index into ISSUES, one per event


def planted_count(students: int) -> int:
    """About six for the default district, never more than fifty."""
    return min(MAX_PLANTED, 5 + students // 2000)


def plant_errors(
    ctx: Context, calendar: SchoolCalendar, count: int, rng: np.random.Generator
) -> Planted:
    """Absences a data-quality report must list.

    1. Half fall on a school day just outside a student's enrollment: after a withdrawal or
       before a late entry.
    2. The rest fall on a weekend or holiday inside another student's enrollment.
    """
    st, days = ctx.stints, len(ctx.day_ordinals)
    active = ~st.no_show
    partial_year = active & (((st.school_b < 0) & (st.end_a < days - 1)) | (st.start_a > 5))
    half = min(count // 2, int(partial_year.sum()))
    outside_rows, outside_days = _outside(ctx, _pick(partial_year, half, rng), rng)
    rest = active.copy()
    rest[outside_rows] = False
    inside = _pick(rest, count - len(outside_rows), rng)
    inside_dates = _non_school_dates(ctx, calendar, inside, rng)
    rows = np.concatenate([inside, outside_rows])
    dates = np.concatenate([inside_dates, ctx.day_ordinals[outside_days]])
    issue = np.concatenate([np.zeros(len(inside), np.int8), np.ones(len(outside_rows), np.int8)])
    return Planted(_as_events(ctx, rows, dates, rng), issue)


def _pick(mask: np.ndarray, count: int, rng: np.random.Generator) -> np.ndarray:
    rows = np.flatnonzero(mask)
    return np.sort(rng.choice(rows, size=min(count, len(rows)), replace=False))


def _outside(
    ctx: Context, rows: np.ndarray, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """School days 1–5 days after a withdrawal or before a late entry, where there is one."""
    st, days = ctx.stints, len(ctx.day_ordinals)
    step = rng.integers(1, 6, size=len(rows))
    after = np.where(
        (st.school_b[rows] < 0) & (st.end_a[rows] < days - 1), st.end_a[rows] + step, -1
    )
    before = np.where(st.start_a[rows] >= step, st.start_a[rows] - step, -1)
    day = np.where(after >= 0, np.minimum(after, days - 1), before)
    return rows[day >= 0], day[day >= 0]


def _non_school_dates(
    ctx: Context, calendar: SchoolCalendar, rows: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    """A random weekend or holiday between each student's first and last enrolled day."""
    school = set(calendar.school_days)
    closed = np.array(
        [
            day.toordinal()
            for day in calendar.dates
            if calendar.first_day <= day <= calendar.last_day and day not in school
        ]
    )
    lo = np.searchsorted(closed, ctx.day_ordinals[ctx.stints.start_a[rows]])
    hi = np.searchsorted(closed, ctx.day_ordinals[ctx.stints.last_day()[rows]])
    pick = lo + (rng.random(len(rows)) * np.maximum(hi - lo, 1)).astype(np.int64)
    return np.asarray(closed[np.minimum(pick, len(closed) - 1)])


def _as_events(
    ctx: Context, rows: np.ndarray, dates: np.ndarray, rng: np.random.Generator
) -> SchoolEvents:
    st = ctx.stints
    moved = (st.school_b[rows] >= 0) & (dates > ctx.day_ordinals[np.maximum(st.end_a[rows], 0)])
    n = len(rows)
    zeros = np.zeros(n, np.int16)
    return SchoolEvents(
        row=rows,
        school=np.where(moved, st.school_b[rows], st.school_a[rows]),
        date=dates,
        category=np.full(n, d.CAT_UNEXCUSED, np.int8),
        duration=np.zeros(n, np.int8),
        reason=np.full(n, -1, np.int16),
        delay=zeros,
        modified=dates,
        minute=rng.integers(*MORNING, size=n).astype(np.int16),
        fix_minute=zeros,
    )
