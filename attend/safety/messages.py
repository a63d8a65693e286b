"""Who a step notifies and what the message says. Safety facts only, never education records."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.conf import settings
from django.urls import reverse

from attend.accounts.choices import Role
from attend.accounts.models import User
from attend.notify.actions import enqueue, enqueue_role
from attend.notify.choices import TargetRole
from attend.safety.choices import StepAction

if TYPE_CHECKING:
    from attend.notify.models import Outbox
    from attend.safety.models import Alarm, SafetyProfile, Visit


def _profile(user: User) -> SafetyProfile | None:
    from attend.safety.models import SafetyProfile

    return SafetyProfile.objects.filter(user=user).first()


def alarm_text(alarm: Alarm) -> tuple[str, str]:
    officer = alarm.officer.get_full_name() or alarm.officer.username
    title = f"{alarm.get_kind_display().upper()}: {officer}"
    lines = [title]
    if alarm.visit_id:
        visit = alarm.visit
        assert visit is not None
        lines.append(f"Visit: {visit.address}")
        if visit.hazards:
            lines.append("Hazards: " + ", ".join(visit.hazards))
    if alarm.lat is not None:
        lines.append(f"Location: {alarm.lat:.5f},{alarm.lon:.5f}")
    base = getattr(settings, "ATTEND_PUBLIC_URL", "").rstrip("/")
    lines.append(f"Console: {base}{reverse('safety:console')}?alarm={alarm.pk}")
    return title, "\n".join(lines)


def _personal(alarm: Alarm, key: str, users: list[User], field: str) -> list[Outbox]:
    title, body = alarm_text(alarm)
    rows = []
    for user in users:
        profile = _profile(user)
        url = getattr(profile, field, "") if profile else ""
        if url:
            rows.append(
                enqueue(
                    key=f"{key}:u{user.pk}",
                    url=url,
                    title=title,
                    body=body,
                    district_id=alarm.district_id,
                    alarm_id=alarm.pk,
                )
            )
    return rows


def colleagues_of(officer: User) -> list[User]:
    schools = officer.schools.all()
    return list(
        User.objects.filter(role=Role.OFFICER, schools__in=schools, is_active=True)
        .exclude(pk=officer.pk)
        .distinct()
    )


def supervisors_of(officer: User) -> list[User]:
    return list(
        User.objects.filter(
            role=Role.SUPERVISOR, schools__in=officer.schools.all(), is_active=True
        ).distinct()
    )


def notify_for_step(alarm: Alarm, action: str, key: str) -> int:
    """Write the outbox rows for one step; return how many. Silent alarms never alert the
    officer's own phone (an onlooker would see it)."""
    title, body = alarm_text(alarm)
    role_rows = {
        StepAction.NOTIFY_OPERATORS: TargetRole.OPERATORS,
        StepAction.DISPATCH: TargetRole.DISPATCH,
        StepAction.NOTIFY_SUPERVISORS: TargetRole.SUPERVISORS,
        StepAction.NOTIFY_COLLEAGUES: TargetRole.COLLEAGUES,
    }
    rows: list[Outbox] = []
    if action in role_rows:
        rows += enqueue_role(
            district_id=alarm.district_id,
            role=role_rows[StepAction(action)],
            key=key,
            title=title,
            body=body,
            alarm_id=alarm.pk,
        )
    if action == StepAction.NOTIFY_SUPERVISORS:
        rows += _personal(alarm, key, supervisors_of(alarm.officer), "notify_url")
    if action == StepAction.NOTIFY_COLLEAGUES:
        rows += _personal(alarm, key, colleagues_of(alarm.officer), "notify_url")
    if action == StepAction.NOTIFY_OFFICER and not alarm.silent:
        rows += _personal(alarm, key, [alarm.officer], "notify_url")
    if action == StepAction.NOTIFY_EMERGENCY_CONTACT:
        rows += _personal(alarm, key, [alarm.officer], "emergency_contact_url")
    return len(rows)


def notify_officer_overdue(visit: Visit, key: str) -> int:
    profile = _profile(visit.officer)
    if not profile or not profile.notify_url:
        return 0
    enqueue(
        key=key,
        url=profile.notify_url,
        title="Your visit is overdue",
        body=f"Your visit at {visit.address} is overdue. Check in or extend now.",
        district_id=visit.district_id,
    )
    return 1
