from __future__ import annotations

from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render

from attend.accounts.choices import AGGREGATE_ROLES
from attend.accounts.models import User
from attend.accounts.permissions import roles_required
from attend.insights import dashboards
from attend.insights.models import PatternFlag
from attend.insights.queries import PATTERN_LABELS, latest_run
from attend.roster.models import Student
from attend.roster.queries import schools_for_user


def _user(request: HttpRequest) -> User:
    return request.user  # type: ignore[return-value]


@roles_required(AGGREGATE_ROLES)
def district_dashboard(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    return _dashboard(request, user, school=None)


@roles_required(AGGREGATE_ROLES)
def school_dashboard(request: HttpRequest, school_id: str) -> HttpResponse:
    user = _user(request)
    school = get_object_or_404(schools_for_user(user), school_id=school_id)
    return _dashboard(request, user, school=school)


def _dashboard(request: HttpRequest, user: User, school: Any) -> HttpResponse:
    year = user.district.current_school_year if user.district else 0
    run = latest_run(year)
    school_id = school.school_id if school else None
    rows = dashboards.cells(run, user, school_id=school_id) if run else []
    fmt = request.GET.get("format", "")
    if fmt in ("csv", "xlsx"):
        return dashboards.export(rows, fmt, f"attendance-{school_id or 'district'}-{year}")
    if fmt:
        raise Http404("unknown format")
    context = {
        "run": run,
        "school": school,
        "overall": dashboards.overall(rows),
        "groups": dashboards.by_dimension(rows),
        "tiers": dashboards.TIERS,
        "trend": dashboards.trend(run, user, school_id=school_id) if run else [],
        "schools": _school_cells(run, user) if run and not school else [],
        "flagged": _flagged(user, run, school) if run and school else [],
    }
    return render(request, "insights/dashboard.html", context)


def _school_cells(run: Any, user: User) -> list[dict[str, Any]]:
    visible = dict(schools_for_user(user).values_list("school_id", "name"))
    rows = [
        {**row, "name": visible[str(row["school_id"])]}
        for row in run.aggregates
        if row.get("scope") == "school"
        and row.get("dimension") == "all"
        and str(row.get("school_id")) in visible
    ]
    return sorted(rows, key=lambda r: r["name"])


def _flagged(user: User, run: Any, school: Any) -> list[dict[str, Any]]:
    """Warnings at this school, only for students this user may see (none for analysts)."""
    students = Student.objects.for_user(user)
    flags = PatternFlag.objects.filter(run=run, school=school, student__in=students)
    grouped: dict[int, dict[str, Any]] = {}
    for flag in flags.select_related("student").order_by("student__last_name")[:500]:
        entry = grouped.setdefault(flag.student_id, {"student": flag.student, "labels": []})
        entry["labels"].append(PATTERN_LABELS.get(flag.pattern, flag.pattern))
    return list(grouped.values())
