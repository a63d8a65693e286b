from __future__ import annotations

from typing import TYPE_CHECKING, Any

from attend.accounts.choices import Role
from attend.jobs.models import Job, Schedule

if TYPE_CHECKING:
    from attend.accounts.models import User


def jobs_for(user: User) -> Any:
    """District admins see every job of their district's staff; others their own."""
    if not user.is_authenticated:
        return Job.objects.none()
    if user.role == Role.DISTRICT_ADMIN and user.district_id is not None:
        return Job.objects.filter(created_by__district_id=user.district_id) | Job.objects.filter(
            created_by__isnull=True
        )
    return Job.objects.filter(created_by=user)


def schedules_for(user: User) -> Any:
    """District admins see the schedule (it runs for the whole installation); others do not."""
    if user.is_authenticated and user.role == Role.DISTRICT_ADMIN:
        return Schedule.objects.select_related("last_job").order_by("kind")
    return Schedule.objects.none()
