from __future__ import annotations

from pathlib import Path
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_POST

from attend.accounts.choices import AGGREGATE_ROLES, Role
from attend.accounts.models import User
from attend.accounts.permissions import roles_required
from attend.insights import actions, dashboards, flags
from attend.insights.choices import MODEL_MOVES, ModelStatus
from attend.insights.forms import CapacityForm
from attend.insights.models import FlagReview, ModelVersion, PatternFlag
from attend.insights.queries import PATTERN_LABELS, capacity_page, latest_run
from attend.roster.models import District, Student
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


# --- early-warning risk: the model page and the officer's review of a flag -----------------

CASEWORKERS = (Role.OFFICER, Role.SUPERVISOR, Role.DISTRICT_ADMIN)
# Capacity is the district admin's to set; supervisors read it for their schools.
CAPACITY_READERS = (Role.DISTRICT_ADMIN, Role.SUPERVISOR)


@roles_required(AGGREGATE_ROLES)
def risk_models(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    versions = ModelVersion.objects.for_user(user).select_related("activated_by")
    context = {"versions": versions, "can_see_capacity": user.role in CAPACITY_READERS}
    return render(request, "insights/risk_models.html", context)


@roles_required(AGGREGATE_ROLES)
def risk_model(request: HttpRequest, pk: int) -> HttpResponse:
    """The model card and validation figures, beside the live misidentification rate of the
    flags this reader may count (an officer: their own watch list)."""
    user = _user(request)
    version = get_object_or_404(ModelVersion.objects.for_user(user), pk=pk)
    cells = flags.misidentification(version, user)
    context = {
        "version": version,
        "can_see_capacity": user.role in CAPACITY_READERS,
        "card": _card_html(version),
        "cells": cells,
        "total": flags.totals(cells, suppress=user.role == Role.ANALYST),
        "own_flags_only": user.role == Role.OFFICER,
        "transitions": version.transitions.select_related("by"),
        "can_change": user.role == Role.DISTRICT_ADMIN,
        "moves": sorted(MODEL_MOVES[ModelStatus(version.status)]),
    }
    return render(request, "insights/risk_model.html", context)


def _card_html(version: ModelVersion) -> str:
    """The run's card rendered from its run.json (empty when the folder is gone)."""
    from attend.insights.risk import card, store

    folder = Path(version.folder)
    if not (folder / "run.json").is_file():
        return ""
    # Our own renderer escapes every text it writes; the SVGs are drawn by card.py.
    return mark_safe(card.html_card(store.load(folder), folder))  # noqa: S308


@roles_required([Role.DISTRICT_ADMIN])
@require_POST
def risk_model_status(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    version = get_object_or_404(ModelVersion.objects.for_user(user), pk=pk)
    try:
        actions.change_model_status(
            version=version,
            to=request.POST.get("to", ""),
            by=user,
            note=request.POST.get("note", ""),
        )
    except (actions.RiskError, ValueError) as error:
        messages.error(request, str(error))
    else:
        messages.success(request, f"Model {version.run_id} is now {version.get_status_display()}.")
    return redirect("insights:risk_model", pk=version.pk)


def _review_for(request: HttpRequest, pk: int) -> FlagReview:
    queryset = FlagReview.objects.for_user(_user(request)).select_related("student")
    return get_object_or_404(queryset, pk=pk)


def _back(request: HttpRequest) -> HttpResponse:
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        target = reverse("cases:worklist") + "?list=watch"
    return redirect(target)


@roles_required(CASEWORKERS)
@require_POST
def confirm_flag(request: HttpRequest, pk: int) -> HttpResponse:
    review = _review_for(request, pk)
    try:
        actions.confirm_flag(review=review, by=_user(request), note=request.POST.get("note", ""))
    except actions.RiskError as error:
        messages.error(request, str(error))
        return _back(request)
    messages.success(request, f"Flag confirmed: {review.student} has case {review.case_id}.")
    return _back(request)


@roles_required(CASEWORKERS)
@require_POST
def dismiss_flag(request: HttpRequest, pk: int) -> HttpResponse:
    review = _review_for(request, pk)
    try:
        actions.dismiss_flag(
            review=review,
            by=_user(request),
            reason=request.POST.get("reason", ""),
            note=request.POST.get("note", ""),
        )
    except actions.RiskError as error:
        messages.error(request, str(error))
        return _back(request)
    messages.success(request, f"Flag on {review.student} dismissed.")
    return _back(request)


# --- capacity: how many students each school's watch list holds (RISK.md 5) --------------


@roles_required(CAPACITY_READERS)
def risk_capacity(request: HttpRequest) -> HttpResponse:
    """Each school's k with where it comes from; a district admin changes or clears a
    school's or an officer's number, one plain form per row."""
    user = _user(request)
    if user.district is None:
        raise PermissionDenied("Capacity is a district's setting.")
    can_edit = user.role == Role.DISTRICT_ADMIN
    if request.method == "POST":
        if not can_edit:
            raise PermissionDenied("Only a district admin sets capacities.")
        _save_capacity(request, user, user.district)
        return redirect("insights:risk_capacity")
    context = {**capacity_page(user), "can_edit": can_edit}
    return render(request, "insights/risk_capacity.html", context)


def _save_capacity(request: HttpRequest, user: User, district: District) -> None:
    form = CapacityForm(request.POST)
    if not form.is_valid():
        errors = [str(e) for field in form.errors.values() for e in field]
        messages.error(request, " ".join(errors) or "Enter a whole number of students.")
        return
    data = form.cleaned_data
    school = officer = None
    if data["school"] is not None:
        school = get_object_or_404(schools_for_user(user), pk=data["school"])
    else:
        mine = User.objects.filter(district=district, role=Role.OFFICER)
        officer = get_object_or_404(mine, pk=data["officer"])
    try:
        row = actions.set_risk_capacity(
            by=user, school=school, officer=officer, students=data["students"]
        )
    except actions.RiskError as error:
        messages.error(request, str(error))
        return
    name = school.name if school else str(officer)
    if row is None:
        messages.success(request, f"{name}: back to the default.")
    else:
        messages.success(request, f"{name}: capacity {row.students} students.")
