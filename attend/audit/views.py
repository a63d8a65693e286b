from __future__ import annotations

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from attend.accounts.choices import Role
from attend.accounts.models import User
from attend.accounts.permissions import roles_required
from attend.audit.queries import access_logs_for, change_logs_for


@roles_required([Role.DISTRICT_ADMIN])
def access_log(request: HttpRequest) -> HttpResponse:
    return _log_page(request, "access")


@roles_required([Role.DISTRICT_ADMIN])
def change_log(request: HttpRequest) -> HttpResponse:
    return _log_page(request, "change")


def _log_page(request: HttpRequest, kind: str) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    student = request.GET.get("student", "").strip()
    username = request.GET.get("user", "").strip()
    query = access_logs_for if kind == "access" else change_logs_for
    rows = query(user, student=student, username=username)
    page = Paginator(rows, 100).get_page(request.GET.get("page"))
    context = {"page": page, "kind": kind, "student": student, "username": username}
    return render(request, "audit/log.html", context)
