"""School days and enrolled days (ATTENDANCE-RULES rules 1-4) without a student × day table.

Enrolled days are counted from enrollment *ranges* mapped onto a per-school school-day index:
a range [start, end] holds `end_idx - start_idx + 1` school days, where `start_idx` is one more
than the number of school days before `start` and `end_idx` the number on or before `end`. Only
days that carry an event are ever materialised per student.
"""

from __future__ import annotations

from datetime import date

import ibis
import ibis.expr.types as ir

from .schema import IGNORED_EXIT_CODES
from .settings import Policy

__all__ = [
    "KEYS",
    "ROW_KEY_YEAR",
    "YEAR_KEYS",
    "apply_cut",
    "cut_index",
    "date_spine",
    "enrolled_day_rows",
    "enrollment_grades",
    "enrollment_intervals",
    "enrollment_ranges",
    "exits_before_entries",
    "school_day_index",
    "with_break_edges",
    "year_bounds",
    "year_numbers",
]

KEYS = ("student_id", "school_id", "school_year")
# `row_key // ROW_KEY_YEAR` is the school year's number (`year_numbers`).
ROW_KEY_YEAR = 2**32
YEAR_KEYS = ("school_id", "school_year")


def school_day_index(school_days: ir.Table) -> ir.Table:
    """One row per school day: `school_id, school_year, date, idx, prev_date, next_date`.

    `idx` numbers a school's days 1, 2, ... within the school year, so consecutive school days
    have consecutive numbers whatever the weekends and holidays between them.
    """
    sd = school_days.select("school_id", "school_year", "date").distinct()
    window = ibis.window(group_by=[sd.school_id, sd.school_year], order_by=sd.date)
    return sd.mutate(
        idx=ibis.row_number().over(window) + 1,
        prev_date=sd.date.lag().over(window),
        next_date=sd.date.lead().over(window),
    )


def with_break_edges(day_index: ir.Table, min_days: int) -> ir.Table:
    """Add `edge`: the school day just before or just after a break, that is a run of at least
    `min_days` calendar days without school between two school days."""
    gap_before = day_index.date.delta(day_index.prev_date, unit="day") - 1
    gap_after = day_index.next_date.delta(day_index.date, unit="day") - 1
    edge = (gap_before.fill_null(0) >= min_days) | (gap_after.fill_null(0) >= min_days)
    return day_index.mutate(edge=edge)


def year_bounds(day_index: ir.Table) -> ir.Table:
    """Per school and year: `first_day, last_day, n_days`."""
    return day_index.group_by(list(YEAR_KEYS)).aggregate(
        first_day=day_index.date.min(),
        last_day=day_index.date.max(),
        n_days=day_index.count(),
    )


def cut_index(
    day_index: ir.Table, reported_dates: ir.Table, *, as_of: date, policy: Policy
) -> ir.Table:
    """Per school and year, `cut_idx`: the last school day counted (rule 3).

    1. Days are counted up to `as_of`.
    2. In a year still running on `as_of` (its first school day ≤ as_of ≤ its last), days are
       also never counted past the last school day on which the school reported any event; a
       running year without any event counts no day at all.
    """
    as_of_lit = ibis.literal(as_of, type="date")
    bounds = year_bounds(day_index)
    if policy.cut_at_last_reported:
        # Every event probes the small calendar, then one max per school and year: cheaper
        # than first making the (school, date) pairs distinct, a grouping of millions of rows
        # into hundreds of thousands.
        dates = reported_dates.filter(reported_dates.date <= as_of_lit)
        reported = dates.join(day_index.select(*YEAR_KEYS, "date"), ["school_id", "date"])
        last = reported.group_by(list(YEAR_KEYS)).aggregate(last_reported=reported.date.max())
        joined = bounds.left_join(last, list(YEAR_KEYS))
        cut = joined.select(*YEAR_KEYS, cut_date=_cut_date(joined, as_of_lit))
    else:
        cut = bounds.select(*YEAR_KEYS, cut_date=as_of_lit)
    counted = day_index.join(cut, list(YEAR_KEYS))
    return counted.group_by(list(YEAR_KEYS)).aggregate(
        cut_idx=(counted.date <= counted.cut_date).ifelse(1, 0).sum()
    )


def _cut_date(bounds: ir.Table, as_of: ir.DateScalar) -> ir.DateValue:
    running = (bounds.first_day <= as_of) & (as_of <= bounds.last_day)
    # No event yet in a running year: cut before the first school day.
    last_reported = bounds.last_reported.fill_null(bounds.first_day - ibis.interval(days=1))
    return running.ifelse(ibis.least(as_of, last_reported), as_of)


def exits_before_entries(enrollments: ir.Table) -> ir.Table:
    """Associations whose exit date precedes their entry date (ignored, and reported)."""
    return enrollments.filter(enrollments.exit_date < enrollments.entry_date)


def enrollment_intervals(
    enrollments: ir.Table, day_index: ir.Table, cut: ir.Table | None, *, policy: Policy
) -> ir.Table:
    """Merged enrollment ranges per student × school × school year, in school-day numbers,
    with the cut applied (`enrollment_ranges`, then `apply_cut`)."""
    return apply_cut(enrollment_ranges(enrollments, day_index, policy=policy), cut)


def enrollment_ranges(enrollments: ir.Table, day_index: ir.Table, *, policy: Policy) -> ir.Table:
    """Merged enrollment ranges per student × school × school year, in school-day numbers:
    `row_key`, the keys, `ranges`, `start_idx`, `end_idx` (no cut yet).

    1. Drop `No show` / `Invalid enrollment` associations and exits before entries; an
       exclusive exit date becomes an inclusive end the day before.
    2. Split ranges at school-year boundaries (a range may span years) and clamp them to the
       year's first and last school days; an open range runs to the year's last school day.
    3. Give each student × school × year an integer `row_key` (`year_numbers`); later stages
       group and join on it instead of three id strings.
    4. Merge overlapping ranges so a day is counted once (gaps and islands on dates); only
       the few rows with several ranges go through the window functions.
    5. Turn dates into school-day numbers (`start_idx`, `end_idx`) by equality joins to a
       calendar-date spine.
    """
    bounds = year_bounds(day_index)
    ranges = _clamped_ranges(_valid_ranges(enrollments, policy), bounds)
    keyed = _with_row_keys(ranges.select(*KEYS, "start", "end"), bounds)
    return _to_day_numbers(_merge_overlaps(keyed), day_index)


def apply_cut(ranges: ir.Table, cut: ir.Table | None) -> ir.Table:
    """Ranges (`enrollment_ranges`) with the counted days of each.

    `counted_end` is the last counted school-day number (the cut's `cut_idx` of the school
    and year; without a cut, the range's end), `days` the counted enrolled days, `planned`
    those of the whole year, and `offset` the counted enrolled days in earlier ranges, so an
    event on school day `idx` is the student's enrolled day `offset + idx - start_idx + 1`.

    The cut never falls before an event that counts (it is the last day with any event), so
    the enrolled-day numbers of counted events are the same with or without it: events can
    be placed on uncut ranges, and the cut taken from what they report.
    """
    if cut is None:
        counted_end = ranges.end_idx
        indexed = ranges
    else:
        indexed = ranges.join(cut, list(YEAR_KEYS), how="left")
        counted_end = ibis.least(indexed.end_idx, indexed.cut_idx.fill_null(0))
    with_days = indexed.select(
        *ranges.columns,
        days=ibis.greatest(counted_end - indexed.start_idx + 1, 0),
        planned=indexed.end_idx - indexed.start_idx + 1,
        counted_end=counted_end,
    )
    return _with_offsets(with_days)


def year_numbers(day_index: ir.Table) -> ir.Table:
    """`school_id, school_year, year_no`: the number in each `row_key`'s high bits (see
    `_with_row_keys`)."""
    bounds = year_bounds(day_index).select(*YEAR_KEYS)
    return _numbered_years(bounds)


def _numbered_years(bounds: ir.Table) -> ir.Table:
    return bounds.select(
        *YEAR_KEYS, year_no=ibis.row_number().over(order_by=[bounds.school_id, bounds.school_year])
    )


def _with_row_keys(ranges: ir.Table, bounds: ir.Table) -> ir.Table:
    """`row_key` = school-year number × 2^32 + student number within the school year (both
    from partitioned or small windows, so no global sort of a million rows); `ranges` counts
    the student's ranges there."""
    years = _numbered_years(bounds)
    counts = ranges.group_by(list(KEYS)).aggregate(ranges=ranges.count())
    keys = counts.join(years, list(YEAR_KEYS))
    within = ibis.window(group_by=[keys.school_id, keys.school_year], order_by=keys.student_id)
    keys = keys.mutate(row_key=keys.year_no * ROW_KEY_YEAR + ibis.row_number().over(within))
    return ranges.join(keys.select(*KEYS, "row_key", "ranges"), list(KEYS))


def _with_offsets(intervals: ir.Table) -> ir.Table:
    single = intervals.filter(intervals.ranges == 1).mutate(offset=ibis.literal(0, type="int64"))
    several = intervals.filter(intervals.ranges > 1)
    before = ibis.window(group_by=several.row_key, order_by=several.start_idx, rows=(None, -1))
    several = several.mutate(offset=several.days.sum().over(before).fill_null(0))
    return single.union(several)


def _valid_ranges(enrollments: ir.Table, policy: Policy) -> ir.Table:
    exit_code = enrollments.exit_type.strip().lower()
    valid = enrollments.filter(
        exit_code.isnull() | ~exit_code.isin(IGNORED_EXIT_CODES),
        enrollments.exit_date.isnull() | (enrollments.exit_date >= enrollments.entry_date),
    )
    end = valid.exit_date
    if not policy.exit_inclusive:
        end = end - ibis.interval(days=1)
    return valid.select("student_id", "school_id", "entry_date", "grade", end_date=end)


def _clamped_ranges(ranges: ir.Table, bounds: ir.Table) -> ir.Table:
    joined = ranges.join(bounds, "school_id").filter(
        lambda t: (t.entry_date <= t.last_day) & (t.end_date.isnull() | (t.end_date >= t.first_day))
    )
    start = ibis.greatest(joined.entry_date, joined.first_day)
    end = ibis.least(joined.end_date.fill_null(joined.last_day), joined.last_day)
    clamped = joined.select(*KEYS, "entry_date", "grade", start=start, end=end)
    return clamped.filter(clamped.start <= clamped.end)


def enrollment_grades(enrollments: ir.Table, day_index: ir.Table, *, policy: Policy) -> ir.Table:
    """Per student × school × year, the grade of the latest enrollment (`grade`)."""
    ranges = _clamped_ranges(_valid_ranges(enrollments, policy), year_bounds(day_index))
    return ranges.group_by(list(KEYS)).aggregate(grade=ranges.grade.argmax(ranges.entry_date))


def _merge_overlaps(ranges: ir.Table) -> ir.Table:
    """One row per run of overlapping ranges (columns: keys, `row_key`, `ranges`, `start`,
    `end`); `ranges` becomes the number of runs."""
    single = ranges.filter(ranges.ranges == 1)
    several = ranges.filter(ranges.ranges > 1)
    order = [several.start, several.end]
    earlier = ibis.window(group_by=several.row_key, order_by=order, rows=(None, -1))
    reach = several.end.max().over(earlier)
    flagged = several.mutate(new=(reach.isnull() | (several.start > reach)).ifelse(1, 0))
    running = ibis.window(
        group_by=flagged.row_key, order_by=[flagged.start, flagged.end], rows=(None, 0)
    )
    grouped = flagged.mutate(run=flagged.new.sum().over(running))
    runs = grouped.group_by(["row_key", *KEYS, "run"]).aggregate(
        start=grouped.start.min(), end=grouped.end.max()
    )
    count = runs.group_by("row_key").aggregate(ranges=runs.count())
    merged = runs.join(count, "row_key").select("row_key", *KEYS, "ranges", "start", "end")
    return single.select("row_key", *KEYS, "ranges", "start", "end").union(merged)


def date_spine(day_index: ir.Table) -> ir.Table:
    """Every calendar date from the day before each school year's first school day to its
    last, with `before` (school days before the date) and `upto` (on or before it)."""
    bounds = year_bounds(day_index)
    span = bounds.last_day.delta(bounds.first_day, unit="day") + 2
    spine = bounds.mutate(k=ibis.range(0, span)).unnest("k")
    spine = spine.select(*YEAR_KEYS, date=spine.first_day + (spine.k - 1).as_interval("D"))
    marked = spine.left_join(day_index.select(*YEAR_KEYS, "date", "idx"), [*YEAR_KEYS, "date"])
    running = ibis.window(
        group_by=[marked.school_id, marked.school_year], order_by=marked.date, rows=(None, 0)
    )
    upto = marked.idx.max().over(running).fill_null(0)
    return marked.select(
        *YEAR_KEYS, "date", upto=upto, before=upto - marked.idx.notnull().ifelse(1, 0)
    )


def _to_day_numbers(ranges: ir.Table, day_index: ir.Table) -> ir.Table:
    """`start_idx` (one more than the school days before `start`) and `end_idx` (school days
    on or before `end`), by equality joins to the date spine: no date-range join."""
    spine = date_spine(day_index)
    starts = spine.select(*YEAR_KEYS, start="date", start_idx=spine.before + 1)
    ends = spine.select(*YEAR_KEYS, end="date", end_idx=spine.upto)
    numbered = ranges.join(starts, [*YEAR_KEYS, "start"]).join(ends, [*YEAR_KEYS, "end"])
    return numbered.filter(numbered.start_idx <= numbered.end_idx)


def enrolled_day_rows(intervals: ir.Table, day_index: ir.Table) -> ir.Table:
    """Every counted enrolled school day as a row: `student_id, school_id, school_year,
    row_key, date, idx, e_idx`. This is the student × day table the engine otherwise avoids;
    use it only for small selections (explanations, conformance, positive-reporting sources)."""
    joined = intervals.join(day_index, list(YEAR_KEYS)).filter(
        lambda t: (t.idx >= t.start_idx) & (t.idx <= t.counted_end)
    )
    return joined.select(
        *KEYS,
        "row_key",
        "date",
        "idx",
        e_idx=joined.offset + joined.idx - joined.start_idx + 1,
    )
