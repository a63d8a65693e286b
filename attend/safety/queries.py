"""Reads for the console, the supervisor board and the officer app, scoped per user."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from django.db.models import QuerySet
from django.utils import timezone

from attend.accounts.choices import Role
from attend.safety.choices import OPEN_ALARM, VisitStatus
from attend.safety.models import Alarm, Incident, Position, SafetydHeartbeat, Visit

if TYPE_CHECKING:
    from attend.accounts.models import User

HEARTBEAT_STALE = dt.timedelta(seconds=10)


def alarms_for_user(user: User) -> QuerySet[Alarm]:
    """Operators and district admins: their district; supervisors: officers at their schools."""
    alarms = Alarm.objects.select_related("officer", "visit", "device")
    if user.role in (Role.OPERATOR, Role.DISTRICT_ADMIN):
        return alarms.filter(district_id=user.district_id or 0)
    if user.role == Role.SUPERVISOR:
        return alarms.filter(officer__schools__in=user.schools.all()).distinct()
    return alarms.none()


def visits_for_user(user: User) -> QuerySet[Visit]:
    visits = Visit.objects.select_related("officer")
    if user.role == Role.DISTRICT_ADMIN:
        return visits.filter(district_id=user.district_id or 0)
    if user.role == Role.SUPERVISOR:
        return visits.filter(officer__schools__in=user.schools.all()).distinct()
    if user.role == Role.OFFICER:
        return visits.filter(officer=user)
    return visits.none()


def queue(user: User) -> list[Alarm]:
    """Open alarms: most severe first, then oldest first."""
    return list(
        alarms_for_user(user).filter(status__in=OPEN_ALARM).order_by("priority", "raised_at")[:200]
    )


def trail(alarm: Alarm, limit: int = 30) -> list[Position]:
    since = alarm.raised_at - dt.timedelta(minutes=30)
    return list(
        Position.objects.filter(officer_id=alarm.officer_id, at__gte=since).order_by("-at")[:limit]
    )


def heartbeat() -> dict[str, Any]:
    beat = SafetydHeartbeat.objects.order_by("-beat_at").first()
    if beat is None:
        return {"alive": False, "age": None, "beat": None}
    age = (timezone.now() - beat.beat_at).total_seconds()
    return {"alive": age < HEARTBEAT_STALE.total_seconds(), "age": age, "beat": beat}


def board(user: User) -> dict[str, Any]:
    from attend.devices.models import Device

    visits = visits_for_user(user)
    open_alarms = (
        alarms_for_user(user).filter(status__in=OPEN_ALARM).order_by("priority", "raised_at")
    )
    officers = visits.values("officer_id")
    return {
        "in_field": visits.filter(status=VisitStatus.ACTIVE).order_by("expected_end_at"),
        "overdue": visits.filter(status__in=[VisitStatus.OVERDUE, VisitStatus.ESCALATED]),
        "alarms": open_alarms[:50],
        "incidents": Incident.objects.filter(alarm__in=alarms_for_user(user)).select_related(
            "alarm", "author"
        )[:20],
        "low_battery": Device.objects.filter(
            low_battery=True, revoked_at=None, officer_id__in=_team(user, officers)
        ),
    }


def _team(user: User, fallback: Any) -> Any:
    from attend.accounts.models import User as UserModel

    if user.role == Role.SUPERVISOR:
        return UserModel.objects.filter(schools__in=user.schools.all(), role=Role.OFFICER).values(
            "pk"
        )
    if user.role == Role.DISTRICT_ADMIN:
        return UserModel.objects.filter(
            district_id=user.district_id or 0, role=Role.OFFICER
        ).values("pk")
    return fallback


def current_visit(officer: User) -> Visit | None:
    return (
        Visit.objects.filter(officer=officer, status__in=[VisitStatus.ACTIVE, VisitStatus.OVERDUE])
        .order_by("-started_at")
        .first()
    )


def svg_trail(positions: list[Position], size: int = 220) -> dict[str, Any] | None:
    """Points scaled into a square for an inline SVG sketch (no map tiles on closed networks)."""
    if not positions:
        return None
    lats, lons = [p.lat for p in positions], [p.lon for p in positions]
    span = max(max(lats) - min(lats), max(lons) - min(lons), 1e-4)
    pad = 10

    def xy(p: Position) -> tuple[float, float]:
        x = pad + (p.lon - min(lons)) / span * (size - 2 * pad)
        y = size - pad - (p.lat - min(lats)) / span * (size - 2 * pad)
        return round(x, 1), round(y, 1)

    points = [xy(p) for p in reversed(positions)]
    return {"size": size, "points": " ".join(f"{x},{y}" for x, y in points), "last": points[-1]}


def policy_rows(user: User) -> list[dict[str, Any]]:
    """Per alarm kind (and the district default): the steps an alarm raised now would get, and
    whether they come from the kind's own policy, the district default or the built-in one."""
    from attend.safety.choices import AlarmKind
    from attend.safety.models import EscalationPolicy
    from attend.safety.policy import DEFAULT_NAME, DEFAULT_POLICY, policy_for

    if user.district_id is None:
        return []
    own = {p.kind: p for p in EscalationPolicy.objects.filter(district_id=user.district_id)}
    fallback = "default" if "" in own else "built-in"
    default = own.get("")
    rows = [
        {
            "kind": "default",
            "label": "District default",
            "name": default.name if default else DEFAULT_NAME,
            "steps": _labelled(default.frozen() if default else DEFAULT_POLICY),
            "source": "own" if default else "built-in",
        }
    ]
    for kind, label in AlarmKind.choices:
        name, steps = policy_for(district_id=user.district_id, kind=kind)
        source = "own" if kind in own else fallback
        rows.append(
            {
                "kind": kind,
                "label": label,
                "name": name,
                "steps": _labelled(steps),
                "source": source,
            }
        )
    return rows


def _labelled(steps: list[dict[str, Any]]) -> list[dict[str, Any]]:
    from attend.safety.choices import StepAction

    return [{**step, "label": StepAction(step["action"]).label} for step in steps]


def policy_for_editing(user: User, kind: str) -> tuple[Any, list[dict[str, Any]]]:
    """The kind's own policy (or None) and the steps to start editing from."""
    from attend.safety.models import EscalationPolicy
    from attend.safety.policy import policy_for

    own = (
        EscalationPolicy.objects.filter(district_id=user.district_id or 0, kind=kind)
        .prefetch_related("steps")
        .first()
    )
    if own is not None:
        return own, own.frozen()
    return None, policy_for(district_id=user.district_id or 0, kind=kind or "red_alert")[1]
