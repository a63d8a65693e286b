"""Every meaningful write to accounts: atomic, keyword-only, audited in the same transaction."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from attend.accounts.choices import Role
from attend.accounts.models import CaseloadAssignment, User
from attend.audit.actions import record_change
from attend.lib import totp
from attend.roster.models import District, School, Student


@transaction.atomic
def create_user(
    *,
    username: str,
    password: str | None,
    role: Role,
    district: District | None,
    schools: Iterable[School] = (),
    created_by: User | None = None,
    first_name: str = "",
    last_name: str = "",
    email: str = "",
    staff_unique_id: str = "",
) -> User:
    user = User(
        username=username,
        role=role,
        district=district,
        first_name=first_name,
        last_name=last_name,
        email=email,
        staff_unique_id=staff_unique_id,
    )
    user.set_password(password) if password else user.set_unusable_password()
    user.save()
    user.schools.set(list(schools))
    record_change(actor=created_by, action="user.create", target=user, data={"role": role})
    return user


@transaction.atomic
def record_failed_login(*, user: User) -> bool:
    """Count a failed password; lock the account after too many. Returns True when locked."""
    user.failed_logins += 1
    locked = user.failed_logins >= settings.LOGIN_MAX_FAILURES
    if locked:
        user.locked_until = timezone.now() + dt.timedelta(seconds=settings.LOGIN_LOCKOUT_SECONDS)
    user.save(update_fields=["failed_logins", "locked_until"])
    record_change(actor=None, action="user.login_failed", target=user, data={"locked": locked})
    return locked


@transaction.atomic
def record_login(*, user: User) -> None:
    user.failed_logins = 0
    user.locked_until = None
    user.last_login = timezone.now()
    user.save(update_fields=["failed_logins", "locked_until", "last_login"])
    record_change(actor=user, action="user.login", target=user)


@transaction.atomic
def start_totp_enrolment(*, user: User) -> str:
    """Give the user a fresh secret to scan; it only protects them once confirmed."""
    user.totp_secret = totp.new_secret()
    user.totp_confirmed_at = None
    user.save(update_fields=["totp_secret", "totp_confirmed_at"])
    record_change(actor=user, action="user.totp_enrol_started", target=user)
    return user.totp_secret


@transaction.atomic
def confirm_totp(*, user: User, code: str) -> bool:
    if not user.totp_secret or not totp.verify(user.totp_secret, code):
        return False
    user.totp_confirmed_at = timezone.now()
    user.save(update_fields=["totp_confirmed_at"])
    record_change(actor=user, action="user.totp_confirmed", target=user)
    return True


@transaction.atomic
def enrol_totp_with_secret(*, user: User, secret: str, by: User | None = None) -> None:
    """Set a known, already-confirmed secret: used only to enrol demo users."""
    user.totp_secret = secret
    user.totp_confirmed_at = timezone.now()
    user.save(update_fields=["totp_secret", "totp_confirmed_at"])
    record_change(actor=by, action="user.totp_set", target=user)


@transaction.atomic
def assign_caseload(*, officer: User, students: Iterable[Student], assigned_by: User | None) -> int:
    """Add students to an officer's caseload; returns how many were new."""
    if officer.role != Role.OFFICER:
        raise ValueError(f"{officer.username} is not an attendance officer")
    existing = set(officer.caseload.values_list("student_id", flat=True))
    new = [s for s in students if s.pk not in existing]
    CaseloadAssignment.objects.bulk_create(
        CaseloadAssignment(officer=officer, student=s, assigned_by=assigned_by) for s in new
    )
    record_change(
        actor=assigned_by, action="caseload.assign", target=officer, data={"added": len(new)}
    )
    return len(new)
