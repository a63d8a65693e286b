"""The data-quality report: what the engine ignored or found contradictory, and why.

One row per finding: `kind, student_id, school_id, date, detail`; identical events (same
student, school, day, kind and detail) make one finding. The event findings come out of the
same grouping that resolves the days (`resolve.resolve_days`), so the report costs no extra
pass over the events. Kinds:

- `unknown_descriptor`: an attendance category the rules do not know (school or section event);
- `after_as_of`: an event dated after the as-of date (rule 8);
- `recorded_after_as_of`: recorded after the as-of date (only with that policy switch);
- `non_school_day`: an event on a date that is not a school day of its school;
- `school_year_mismatch`: an event whose school year differs from its calendar day's;
- `not_enrolled`: an event on a school day the student was not (counted as) enrolled;
- `conflict`: an absence and "In Attendance"/"Present" on the same enrolled day (rule 7);
- `duration_out_of_range`: an `eventDuration` outside 0-1 day (clamped);
- `exit_before_entry`: an enrollment whose exit precedes its entry (ignored);
- `unknown_day`: an enrolled day without any event at a positive-reporting source (rule 5).
"""

from __future__ import annotations

import ibis
import ibis.expr.types as ir

from .days import enrolled_day_rows, exits_before_entries
from .prepare import Prepared
from .resolve import DAY_KEYS, positive_reporting

__all__ = ["QUALITY_COLUMNS", "quality_report"]

QUALITY_COLUMNS = ("kind", "student_id", "school_id", "date", "detail")


def quality_report(prep: Prepared) -> ir.Table:
    """All findings, ordered by kind, school, student and date."""
    parts = [
        prep.findings.select(*QUALITY_COLUMNS),
        prep.section_findings.select(*QUALITY_COLUMNS),
        _conflicts(prep),
        _durations(prep),
        _exits_before_entries(prep),
    ]
    policy = prep.policy
    if policy.positive_reporting_default or policy.positive_reporting_schools:
        parts.append(_unknown_days(prep))
    return ibis.union(*parts).order_by(["kind", "school_id", "student_id", "date", "detail"])


def _row(table: ir.Table, kind: str, detail: ir.StringValue, day: ir.DateValue) -> ir.Table:
    return table.select(
        kind=ibis.literal(kind, type="string"),
        student_id=table.student_id,
        school_id=table.school_id,
        date=day,
        detail=detail,
    )


def _conflicts(prep: Prepared) -> ir.Table:
    both = prep.days.filter(prep.days.conflict).join(prep.totals, "row_key")
    detail = ibis.literal("an absence and In Attendance/Present on the same day")
    return _row(both, "conflict", detail, both.date)


def _durations(prep: Prepared) -> ir.Table:
    events = prep.inputs.table("events")
    bad = events.filter((events.duration < 0) | (events.duration > 1))
    detail = "eventDuration " + bad.duration.cast("string") + " is outside 0-1 day"
    return _row(bad, "duration_out_of_range", detail, bad.date)


def _exits_before_entries(prep: Prepared) -> ir.Table:
    bad = exits_before_entries(prep.inputs.table("enrollments"))
    detail = (
        "exit " + bad.exit_date.cast("string") + " before entry " + bad.entry_date.cast("string")
    )
    return _row(bad, "exit_before_entry", detail, bad.entry_date)


def _unknown_days(prep: Prepared) -> ir.Table:
    intervals = prep.intervals.filter(positive_reporting(prep.intervals.school_id, prep.policy))
    enrolled = enrolled_day_rows(intervals, prep.day_index)
    missing = enrolled.join(prep.days.select(*DAY_KEYS), list(DAY_KEYS), how="anti")
    detail = ibis.literal("no attendance reported (positive reporting)")
    return _row(missing, "unknown_day", detail, missing.date)
