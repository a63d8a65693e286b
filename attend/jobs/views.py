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
    visible = jobs_for(user)
    schedules = list(schedules_for(user))
    last_jobs = [s.last_job_id for s in schedules if s.last_job_id]
    context = {
        "jobs": visible[:100],
        "schedules": schedules,
        # A schedule's last run is linked only for those who may open it.
        "linked": set(visible.filter(pk__in=last_jobs).values_list("pk", flat=True))
        if last_jobs
        else set(),
        "show_schedules": user.role == Role.DISTRICT_ADMIN,
    }
    return render(request, "jobs/job_list.html", context)


@roles_required(JOB_ROLES)
def job_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    job = get_object_or_404(jobs_for(user), pk=pk)
    template = "jobs/job_detail.html#status" if request.htmx else "jobs/job_detail.html"  # type: ignore[attr-defined]
    return render(request, template, {"job": job})
