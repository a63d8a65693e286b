from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render

from attend.accounts.choices import Role
from attend.accounts.models import User
from attend.accounts.permissions import roles_required
from attend.jobs.queries import jobs_for, schedules_for

# Officers start letter jobs (and imports run rules for them); they follow their own.
JOB_ROLES = [Role.DISTRICT_ADMIN, Role.ANALYST, Role.SUPERVISOR, Role.OFFICER]


@roles_required(JOB_ROLES)
def job_list(request: HttpRequest) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    context = {
        "jobs": jobs_for(user)[:100],
        "schedules": schedules_for(user),
        "show_schedules": user.role == Role.DISTRICT_ADMIN,
    }
    return render(request, "jobs/job_list.html", context)


@roles_required(JOB_ROLES)
def job_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    job = get_object_or_404(jobs_for(user), pk=pk)
    template = "jobs/job_detail.html#status" if request.htmx else "jobs/job_detail.html"  # type: ignore[attr-defined]
    return render(request, template, {"job": job})
