from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils import timezone

from attend.accounts.choices import STUDENT_RECORD_ROLES, Role
from attend.accounts.models import User
from attend.accounts.permissions import roles_required
from attend.attendance.queries import months, student_year
from attend.audit.actions import log_access
from attend.insights.queries import flag_counts, student_insights, with_latest_snapshot
from attend.lib.dates import school_year_label
from attend.roster.models import Enrollment, Student
from attend.roster.queries import schools_for_user

PAGE_SIZE = 50


def _today() -> dt.date:
    return timezone.localdate()


@roles_required(Role)
def home(request: HttpRequest) -> HttpResponse:
    """One home per kind of work: my students, my schools, or the district at a glance."""
    user: User = request.user  # type: ignore[assignment]
    context: dict[str, Any] = {"today": _today()}
    if user.role == Role.OFFICER:
        context["caseload"] = _caseload(user)
    if user.role == Role.TEACHER:
        context["taught"] = Student.objects.for_user(user)[:100]
    if user.sees_aggregates or user.role in STUDENT_RECORD_ROLES:
        context["schools"] = _school_rows(user)
    return render(request, "roster/home.html", context)


def _caseload(user: User) -> list[Student]:
    """The officer's students, most at risk first, with rate, tier, budget and flags."""
    year = user.district.current_school_year if user.district else 0
    mine = Student.objects.for_user(user).filter(caseload_assignments__officer=user)
    students = list(with_latest_snapshot(mine, year).order_by("rate", "last_name")[:200])
    flags = flag_counts([s.pk for s in students], year)
    for student in students:
        student.flag_labels = flags.get(student.pk, [])  # type: ignore[attr-defined]
    return students


def _school_rows(user: User) -> Any:
    year = user.district.current_school_year if user.district else 0
    current = Q(enrollments__school_year=year)
    return schools_for_user(user).annotate(
        students=Count("enrollments__student", filter=current, distinct=True)
    )


@roles_required(Role)
def school_list(request: HttpRequest) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    return render(request, "roster/school_list.html", {"schools": _school_rows(user)})


@roles_required(STUDENT_RECORD_ROLES)
def student_list(request: HttpRequest) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    students = _filtered_students(request, user)
    page = Paginator(students, PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "page": page,
        "schools": schools_for_user(user),
        "grades": _grades(user),
        "q": request.GET.get("q", ""),
        "school": request.GET.get("school", ""),
        "grade": request.GET.get("grade", ""),
    }
    template = "roster/student_list.html#results" if request.htmx else "roster/student_list.html"  # type: ignore[attr-defined]
    return render(request, template, context)


def _grades(user: User) -> list[str]:
    year = user.district.current_school_year if user.district else 0
    enrollments = Enrollment.objects.filter(
        school__in=schools_for_user(user), school_year=year
    ).exclude(grade="")
    return sorted(set(enrollments.values_list("grade", flat=True)))


def _filtered_students(request: HttpRequest, user: User) -> Any:
    students = Student.objects.for_user(user)
    q = request.GET.get("q", "").strip()
    if q:
        students = students.filter(
            Q(last_name__icontains=q) | Q(first_name__icontains=q) | Q(student_unique_id=q)
        )
    year = user.district.current_school_year if user.district else 0
    school = request.GET.get("school", "")
    if school.isdigit():
        students = students.filter(enrollments__school_id=school, enrollments__school_year=year)
    grade = request.GET.get("grade", "").strip()
    if grade:
        students = students.filter(enrollments__grade=grade, enrollments__school_year=year)
    return students.distinct().order_by("last_name", "first_name", "pk")


@roles_required(STUDENT_RECORD_ROLES)
def student_detail(request: HttpRequest, student_id: str) -> HttpResponse:
    """The student profile: every view is logged before anything is shown (FERPA)."""
    user: User = request.user  # type: ignore[assignment]
    student = get_object_or_404(Student.objects.for_user(user), student_unique_id=student_id)
    log_access(
        user=user, student=student, page=request.path, purpose=request.GET.get("purpose", "")
    )
    year = int(request.GET.get("year") or student.district.current_school_year)
    days, summary = student_year(student, year, _today())
    context = {
        **student_insights(student, year),
        "student": student,
        "year": year,
        "year_label": school_year_label(year),
        "months": months(days),
        "summary": summary,
        "enrollments": student.enrollments.select_related("school"),
        "guardians": student.guardian_links.select_related("guardian"),
    }
    return render(request, "roster/student_detail.html", context)
