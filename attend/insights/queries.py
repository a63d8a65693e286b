"""Reads of engine results; always behind the caller's `for_user` student scope."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from django.db.models import Count, F, OuterRef, Q, Subquery
from django.utils import timezone

from attend.accounts.choices import Role
from attend.insights.choices import ModelStatus, RiskLabel
from attend.insights.models import (
    InsightsRun,
    ModelVersion,
    PatternFlag,
    RiskCapacity,
    StudentSnapshot,
)
from attend.roster.models import Enrollment, School, Student
from attend.roster.queries import schools_for_user

if TYPE_CHECKING:
    from attend.accounts.models import User
    from attend.insights.risk.capacity import Capacity
    from attend.roster.models import District

# `attend.insights.risk` pulls in pandas through its package: the capacity helpers are
# imported inside the functions below so that pages which never score stay light.

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


# --- early-warning risk: capacity, the watch list's k per school (RISK.md 5) --------------


def enrolled_counts(schools: Any, on: dt.date | None = None) -> dict[int, int]:
    """Students enrolled at each school (pk → count) in its district's current school year
    and not withdrawn before `on` (today): the page's stand-in for the scored students,
    which nightly scoring counts on its own as-of date."""
    on = on or timezone.localdate()
    rows = (
        Enrollment.objects.filter(
            school__in=schools, school_year=F("school__district__current_school_year")
        )
        .filter(Q(exit_date__isnull=True) | Q(exit_date__gte=on))
        .values_list("school")
        .annotate(n=Count("student", distinct=True))
    )
    return {int(school): int(n) for school, n in rows}


def default_share(district: District) -> float:
    """The share behind the default k: the active 30-day model's, else any active one's,
    else 5%."""
    from attend.insights.risk.capacity import DEFAULT_SHARE

    active = ModelVersion.objects.filter(district=district, status=ModelStatus.ACTIVE)
    version = active.filter(label=RiskLabel.WITHIN).first() or active.first()
    return version.share if version else DEFAULT_SHARE


def district_officers(district: District) -> list[User]:
    """Active officers of the district with their schools (prefetched)."""
    from attend.accounts.models import User

    officers = User.objects.filter(district=district, role=Role.OFFICER, is_active=True)
    return list(officers.prefetch_related("schools").order_by("last_name", "username"))


def district_capacity(district: District) -> Capacity:
    """The district's settings as plain data keyed by `School.school_id` (the lake id)."""
    settings = list(RiskCapacity.objects.filter(district=district))
    return _capacity(district, settings, district_officers(district))


def _capacity(district: District, settings: list[RiskCapacity], officers: list[User]) -> Capacity:
    """Only active officers' settings count, at the district's schools they are assigned to
    (`officers` holds no one else); a setting for someone no longer an officer has no
    effect but stays until cleared."""
    from attend.insights.risk.capacity import Capacity, OfficerCapacity

    by_pk = {user.pk: user for user in officers}
    lake_id = dict(School.objects.filter(district=district).values_list("pk", "school_id"))
    per_officer = [
        OfficerCapacity(
            row.students,
            tuple(lake_id[s.pk] for s in by_pk[row.officer_id].schools.all() if s.pk in lake_id),
        )
        for row in settings
        if row.officer_id in by_pk
    ]
    return Capacity(
        schools={lake_id[row.school_id]: row.students for row in settings if row.school_id},
        officers=per_officer,
    )


def capacity_page(user: User) -> dict[str, Any]:
    """The capacity page's rows, for the schools this user may look at.

    1. Each school: enrolled students, the default k, its own setting, the officers
       assigned there with theirs, and the k the rule gives (`school_k`).
    2. Each officer at those schools, with their setting.
    A fixed number of queries whatever the number of schools.
    """
    from attend.insights.risk.capacity import default_k, school_k

    district = user.district
    assert district is not None  # the view's roles are district staff
    share = default_share(district)
    schools = list(schools_for_user(user).order_by("name"))
    enrolled = enrolled_counts(schools)
    settings = list(RiskCapacity.objects.filter(district=district))
    everyone = district_officers(district)
    capacity = _capacity(district, settings, everyone)
    k = school_k({s.school_id: enrolled.get(s.pk, 0) for s in schools}, capacity, share)
    by_officer = {r.officer_id: r.students for r in settings if r.officer_id}
    officers = [o for o in everyone if set(o.schools.all()) & set(schools)]
    rows = []
    for school in schools:
        count = enrolled.get(school.pk, 0)
        rows.append(
            {
                "school": school,
                "enrolled": count,
                "default_k": default_k(count, share),
                "setting": capacity.schools.get(school.school_id),
                "officers": [
                    (o, by_officer.get(o.pk)) for o in officers if school in o.schools.all()
                ],
                "k": k[school.school_id],
            }
        )
    return {
        "share": share,
        "schools": rows,
        "officers": [
            {"officer": o, "schools": list(o.schools.all()), "setting": by_officer.get(o.pk)}
            for o in officers
        ],
    }
