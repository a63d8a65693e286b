from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.db.models import Q

from attend.accounts.choices import Role
from attend.jobs.models import Job, Schedule
from attend.roster.models import District

if TYPE_CHECKING:
    from attend.accounts.models import User


def jobs_for(user: User) -> Any:
    """District admins see their district's jobs: those about it and those its staff started.
    Jobs about the whole installation (nightly insights, truancy rules over every district)
    only where the installation serves one district: elsewhere their counts span districts.
    Everyone else sees the jobs they started."""
    if not user.is_authenticated:
        return Job.objects.none()
    if user.role == Role.DISTRICT_ADMIN and user.district_id is not None:
        mine = Q(district_id=user.district_id) | Q(
            district__isnull=True, created_by__district_id=user.district_id
        )
        if not District.objects.exclude(pk=user.district_id).exists():
            mine |= Q(district__isnull=True, created_by__isnull=True)
        return Job.objects.filter(mine)
    return Job.objects.filter(created_by=user)


def schedules_for(user: User) -> Any:
    """District admins see the schedule (it runs for the whole installation); others do not."""
    if user.is_authenticated and user.role == Role.DISTRICT_ADMIN:
        return Schedule.objects.select_related("last_job").order_by("kind")
    return Schedule.objects.none()
