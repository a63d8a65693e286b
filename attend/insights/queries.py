"""Reads of engine results; always behind the caller's `for_user` student scope."""

from __future__ import annotations

from typing import Any

from django.db.models import OuterRef, Subquery

from attend.insights.models import InsightsRun, PatternFlag, StudentSnapshot
from attend.roster.models import Student

PATTERN_LABELS = {
    "sudden_drop": "Sudden drop",
    "streak": "Absence streak",
    "weekday_concentration": "Mondays and Fridays",
    "around_breaks": "Around school breaks",
    "period_skipping": "Skipping periods",
    "growing_tardiness": "Growing tardiness",
    "on_track_to_chronic": "On track to become chronic",
}


def latest_run(school_year: int | None = None) -> InsightsRun | None:
    runs = InsightsRun.objects.all()
    if school_year is not None:
        runs = runs.filter(school_year=school_year)
    return runs.order_by("-as_of", "-computed_at").first()


def student_insights(student: Student, school_year: int) -> dict[str, Any]:
    """The newest snapshot(s) of a student this year and the flags of that run."""
    run = latest_run(school_year)
    if run is None:
        return {"run": None, "snapshots": [], "flags": [], "evidence": set()}
    snapshots = list(
        StudentSnapshot.objects.filter(run=run, student=student).select_related("school")
    )
    flags = list(PatternFlag.objects.filter(run=run, student=student))
    for flag in flags:
        flag.label = PATTERN_LABELS.get(flag.pattern, flag.pattern)  # type: ignore[attr-defined]
    evidence = {day for flag in flags for day in flag.evidence_dates}
    return {"run": run, "snapshots": snapshots, "flags": flags, "evidence": evidence}


def with_latest_snapshot(students: Any, school_year: int) -> Any:
    """Annotate each student with the newest run's rate, tier and budget (3 subqueries)."""
    run = latest_run(school_year)
    newest = StudentSnapshot.objects.filter(run=run, student=OuterRef("pk")).order_by(
        "-enrolled_days"
    )
    return students.annotate(
        rate=Subquery(newest.values("attendance_rate")[:1]),
        tier=Subquery(newest.values("tier")[:1]),
        budget=Subquery(newest.values("absence_budget")[:1]),
        absent=Subquery(newest.values("absent_days")[:1]),
    )


def flag_counts(student_ids: list[int], school_year: int) -> dict[int, list[str]]:
    run = latest_run(school_year)
    labels: dict[int, list[str]] = {}
    rows = PatternFlag.objects.filter(run=run, student_id__in=student_ids).values_list(
        "student_id", "pattern"
    )
    for student_id, pattern in rows:
        labels.setdefault(student_id, []).append(PATTERN_LABELS.get(pattern, pattern))
    return labels
