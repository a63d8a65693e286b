from __future__ import annotations

from typing import TYPE_CHECKING, Any

from attend.accounts.choices import Role
from attend.audit.models import AccessLog, ChangeLog

if TYPE_CHECKING:
    from attend.accounts.models import User


def access_logs_for(user: User, *, student: str = "", username: str = "") -> Any:
    """Access logs a district admin may review, narrowed by student id or username."""
    if user.role != Role.DISTRICT_ADMIN or not user.district_id:
        return AccessLog.objects.none()
    logs = AccessLog.objects.filter(student__district_id=user.district_id)
    if student:
        logs = logs.filter(student__student_unique_id=student)
    if username:
        logs = logs.filter(user__username=username)
    return logs.select_related("user", "student")


def change_logs_for(user: User, *, student: str = "", username: str = "") -> Any:
    if user.role != Role.DISTRICT_ADMIN or not user.district_id:
        return ChangeLog.objects.none()
    logs = ChangeLog.objects.filter(actor__district_id=user.district_id) | ChangeLog.objects.filter(
        student__district_id=user.district_id
    )
    if student:
        logs = logs.filter(student__student_unique_id=student)
    if username:
        logs = logs.filter(actor__username=username)
    return logs.select_related("actor", "student")
