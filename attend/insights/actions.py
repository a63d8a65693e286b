"""Storing engine results: one atomic, audited write per run."""

from __future__ import annotations

import datetime as dt
import math
from typing import TYPE_CHECKING, Any

import pyarrow as pa
from django.db import transaction

from attend.audit.actions import record_change
from attend.insights.engine import EngineResult
from attend.insights.models import InsightsRun, PatternFlag, StudentSnapshot
from attend.roster.models import School, Student

if TYPE_CHECKING:
    from attend.accounts.models import User
    from attend.jobs.models import Job

METRIC_FIELDS = (
    "enrolled_days",
    "absent_days",
    "excused_absent_days",
    "unexcused_absent_days",
    "tardy_days",
    "present_days",
    "attendance_rate",
    "eligible",
    "chronic",
    "tier",
    "longest_absence_streak",
    "current_absence_streak",
    "absence_budget",
)


def _rows(table: pa.Table) -> list[dict[str, Any]]:
    return [{k: _plain(v) for k, v in row.items()} for row in table.to_pylist()]


def _plain(value: Any) -> Any:
    """JSON-safe values: dates as ISO strings, NaN as null."""
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


@transaction.atomic
def store_results(
    *, result: EngineResult, as_of: dt.date, school_year: int, by: User | None, job: Job | None
) -> InsightsRun:
    """1. One InsightsRun with the roll-ups. 2. A snapshot per metric row. 3. The flags."""
    run = InsightsRun.objects.create(
        as_of=as_of,
        school_year=school_year,
        job=job,
        students=result.metrics.num_rows,
        aggregates=_rows(result.aggregates),
        trend=_rows(result.trend),
        quality=_rows(result.quality)[:1000],
    )
    students = dict(Student.objects.values_list("student_unique_id", "pk"))
    schools = dict(School.objects.values_list("school_id", "pk"))
    StudentSnapshot.objects.bulk_create(
        (_snapshot(run, row, students, schools) for row in result.metrics.to_pylist()),
        batch_size=2000,
    )
    PatternFlag.objects.bulk_create(
        (_flag(run, row, students, schools) for row in result.flags.to_pylist()),
        batch_size=2000,
    )
    record_change(
        actor=by,
        action="insights.run",
        target=run,
        data={"as_of": as_of.isoformat(), "students": run.students},
    )
    return run


def _snapshot(
    run: InsightsRun, row: dict[str, Any], students: dict[str, int], schools: dict[str, int]
) -> StudentSnapshot:
    values = {name: row[name] for name in METRIC_FIELDS}
    values["tier"] = values["tier"] or ""
    return StudentSnapshot(
        run=run,
        student_id=students[row["student_id"]],
        school_id=schools[row["school_id"]],
        school_year=row["school_year"],
        as_of=run.as_of,
        **values,
    )


def _flag(
    run: InsightsRun, row: dict[str, Any], students: dict[str, int], schools: dict[str, int]
) -> PatternFlag:
    return PatternFlag(
        run=run,
        student_id=students[row["student_id"]],
        school_id=schools[row["school_id"]],
        as_of=run.as_of,
        pattern=row["pattern"],
        detail=(row.get("detail") or "")[:300],
        evidence_dates=_plain(list(row.get("evidence_dates") or [])),
        projected_crossing_date=row.get("projected_crossing_date"),
    )
