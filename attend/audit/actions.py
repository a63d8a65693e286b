"""Audit writes. Called by every other app's actions inside their own transaction."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.db import models

from attend.audit.models import AccessLog, ChangeLog

if TYPE_CHECKING:
    from attend.accounts.models import User
    from attend.roster.models import Student


def log_access(*, user: User, student: Student, page: str, purpose: str = "") -> AccessLog:
    """Record that `user` viewed `student`'s record on `page` (FERPA: every look is logged)."""
    return AccessLog.objects.create(user=user, student=student, page=page[:300], purpose=purpose)


def record_change(
    *,
    actor: User | None,
    action: str,
    target: models.Model,
    student: Student | None = None,
    data: dict[str, Any] | None = None,
) -> ChangeLog:
    """Write the ChangeLog row of an action; must run inside the action's transaction."""
    return ChangeLog.objects.create(
        actor=actor if actor is not None and actor.pk else None,
        action=action,
        target_type=target._meta.label_lower,
        target_id=str(target.pk),
        student=student,
        data=data or {},
    )
