"""Every meaningful write of field safety (house style 3): atomic, audited, published on commit.

Timers are deadline columns (`Visit.escalate_after`, `Alarm.next_step_at`) claimed with a
conditional UPDATE, so two safetyd processes, a restart or a retry never run a step twice.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.contrib.auth.hashers import check_password, make_password
from django.db import IntegrityError, transaction
from django.utils import timezone

from attend.accounts.models import CaseloadAssignment
from attend.audit.actions import record_change
from attend.safety import messages
from attend.safety.choices import (
    KIND_SEVERITY,
    OPEN_ALARM,
    PRIORITY,
    AlarmEvent,
    AlarmKind,
    AlarmSource,
    AlarmStatus,
    CheckInKind,
    Resolution,
    StepAction,
    VisitStatus,
)
from attend.safety.live import publish_on_commit
from attend.safety.models import (
    Alarm,
    AlarmTransition,
    CheckIn,
    EscalationPolicy,
    EscalationStep,
    FieldNote,
    Incident,
    Position,
    SafetyProfile,
    Visit,
    VisitTransition,
)
from attend.safety.policy import advance, policy_for

if TYPE_CHECKING:
    from django.core.files.uploadedfile import UploadedFile

    from attend.accounts.models import User
    from attend.devices.models import Device
    from attend.roster.models import Household, Student

ALERT_KINDS = (AlarmKind.RED_ALERT, AlarmKind.DURESS, AlarmKind.MEDICAL)
OPEN_VISIT = (VisitStatus.ACTIVE, VisitStatus.OVERDUE)
MAX_VISIT_MINUTES = 12 * 60


class SafetyError(ValueError):
    """A request the action refuses; the message is shown to the person."""


@dataclass(frozen=True)
class Location:
    lat: float
    lon: float
    accuracy: float | None = None

    def __post_init__(self) -> None:
        if not (-90 <= self.lat <= 90 and -180 <= self.lon <= 180):
            raise SafetyError("latitude/longitude out of range")


def _now(at: dt.datetime | None) -> dt.datetime:
    return at or timezone.now()


def address_key(address: str) -> str:
    """Normalised so "12 Elm St." and "12  elm st" are the same doorstep."""
    return " ".join(address.lower().replace(".", " ").replace(",", " ").split())


# --- PINs -------------------------------------------------------------------------------


@transaction.atomic
def set_pins(*, user: User, pin: str, duress_pin: str) -> SafetyProfile:
    for value in (pin, duress_pin):
        if not (value.isdigit() and 4 <= len(value) <= 8):
            raise SafetyError("PINs are 4 to 8 digits")
    if pin == duress_pin:
        raise SafetyError("The duress PIN must differ from the normal PIN")
    profile, _ = SafetyProfile.objects.get_or_create(user=user)
    profile.pin_hash, profile.duress_pin_hash = make_password(pin), make_password(duress_pin)
    profile.save(update_fields=["pin_hash", "duress_pin_hash", "updated_at"])
    record_change(actor=user, action="safety.pins.set", target=profile)
    return profile


def pin_kind(user: User, pin: str | None, *, required: bool = True) -> str:
    """ "normal", "duress" or "none" (no PIN given and none configured); SafetyError if wrong."""
    if not pin and not required:
        return "none"  # "I'm OK" and extend are one tap; check-out and cancel need the PIN
    profile = SafetyProfile.objects.filter(user=user).first()
    if profile is None or not profile.pin_hash:
        return "none" if not pin else "normal"
    if not pin:
        raise SafetyError("Enter your PIN")
    if check_password(pin, profile.duress_pin_hash):
        return "duress"
    if check_password(pin, profile.pin_hash):
        return "normal"
    raise SafetyError("PIN not recognised")


# --- visits -----------------------------------------------------------------------------


def _visit_move(
    visit: Visit, to: VisitStatus, *, actor: User | None, at: dt.datetime, **extra: Any
) -> None:
    VisitTransition.objects.create(
        visit=visit, from_status=visit.status, to_status=to, at=at, actor=actor, **extra
    )
    visit.status = to


def _publish_visit(visit: Visit, kind: str) -> None:
    publish_on_commit(
        {
            "type": kind,
            "visit_id": visit.pk,
            "district_id": visit.district_id,
            "status": visit.status,
        }
    )


def hazards_for_address(*, district_id: int, address: str) -> list[str]:
    """Hazards recorded at earlier visits to the same address, most recent first, unique."""
    seen: list[str] = []
    earlier = Visit.objects.filter(district_id=district_id, address_key=address_key(address))
    for hazards in earlier.order_by("-created_at").values_list("hazards", flat=True)[:20]:
        seen += [h for h in hazards if h not in seen]
    return seen


def _check_student(officer: User, student: Student | None) -> None:
    if student and not CaseloadAssignment.objects.filter(officer=officer, student=student).exists():
        raise SafetyError("That student is not on your caseload")


@transaction.atomic
def start_visit(
    *,
    officer: User,
    address: str,
    expected_minutes: int,
    at: dt.datetime | None = None,
    student: Student | None = None,
    household: Household | None = None,
    expected_people: str = "",
    hazards: list[str] | None = None,
    notes: str = "",
    voice_memo: UploadedFile | None = None,
    location: Location | None = None,
) -> Visit:
    """Open a timed visit. Hazards default to those recorded at this address before."""
    at = _now(at)
    if not address.strip():
        raise SafetyError("Say where the visit is")
    if not 1 <= expected_minutes <= MAX_VISIT_MINUTES:
        raise SafetyError(f"Expected duration must be 1 to {MAX_VISIT_MINUTES} minutes")
    if officer.district_id is None:
        raise SafetyError("Your account has no district")
    _check_student(officer, student)
    if Visit.objects.filter(officer=officer, status__in=OPEN_VISIT).exists():
        raise SafetyError("Check out of your current visit first")
    if hazards is None:
        hazards = hazards_for_address(district_id=officer.district_id, address=address)
    end = at + dt.timedelta(minutes=expected_minutes)
    visit = Visit.objects.create(
        officer=officer,
        district_id=officer.district_id,
        student=student,
        household=household or (student.household if student else None),
        address=address.strip()[:300],
        address_key=address_key(address),
        expected_people=expected_people[:300],
        hazards=[h.strip()[:80] for h in hazards if h.strip()][:20],
        notes=notes,
        expected_minutes=expected_minutes,
        status=VisitStatus.PLANNED,
        lat=location.lat if location else None,
        lon=location.lon if location else None,
        created_at=at,
    )
    if voice_memo is not None:
        visit.voice_memo.save(f"visit-{visit.pk}.webm", voice_memo, save=False)
    VisitTransition.objects.create(visit=visit, to_status=VisitStatus.PLANNED, at=at, actor=officer)
    _visit_move(visit, VisitStatus.ACTIVE, actor=officer, at=at)
    visit.started_at, visit.expected_end_at, visit.escalate_after = at, end, end
    visit.save()
    record_change(actor=officer, action="safety.visit.start", target=visit, student=student)
    _publish_visit(visit, "visit.started")
    return visit


def _lock_open_visit(visit: Visit) -> Visit:
    locked = Visit.objects.select_for_update().get(pk=visit.pk)
    if locked.status not in OPEN_VISIT:
        raise SafetyError("This visit is no longer open")
    return locked


def _silent_duress(visit: Visit, at: dt.datetime, device: Device | None, via: str) -> None:
    raise_alarm(
        officer=visit.officer,
        kind=AlarmKind.DURESS,
        source=AlarmSource.APP,
        at=at,
        silent=True,
        device=device,
        visit=visit,
        note=f"duress PIN at {via}",
    )


def _rearm(visit: Visit, end: dt.datetime, at: dt.datetime, actor: User) -> None:
    if visit.status == VisitStatus.OVERDUE:
        _visit_move(visit, VisitStatus.ACTIVE, actor=actor, at=at, note="officer checked in")
    visit.expected_end_at = visit.escalate_after = end


@transaction.atomic
def check_in(
    *,
    visit: Visit,
    at: dt.datetime | None = None,
    pin: str | None = None,
    device: Device | None = None,
) -> Visit:
    """ "I'm OK". An overdue visit gets a fresh grace window; a duress PIN alarms silently."""
    at = _now(at)
    visit = _lock_open_visit(visit)
    duress = pin_kind(visit.officer, pin, required=False) == "duress"
    CheckIn.objects.create(visit=visit, kind=CheckInKind.OK, at=at, device=device)
    if visit.status == VisitStatus.OVERDUE or (visit.escalate_after or at) <= at:
        _rearm(visit, at + dt.timedelta(seconds=_grace()), at, visit.officer)
    visit.save()
    record_change(actor=visit.officer, action="safety.visit.check_in", target=visit)
    if duress:
        _silent_duress(visit, at, device, "check-in")
    _publish_visit(visit, "visit.checked_in")
    return visit


@transaction.atomic
def extend_visit(
    *,
    visit: Visit,
    minutes: int,
    at: dt.datetime | None = None,
    pin: str | None = None,
    device: Device | None = None,
) -> Visit:
    at = _now(at)
    if not 1 <= minutes <= 240:
        raise SafetyError("Extend by 1 to 240 minutes")
    visit = _lock_open_visit(visit)
    duress = pin_kind(visit.officer, pin, required=False) == "duress"
    CheckIn.objects.create(
        visit=visit, kind=CheckInKind.EXTEND, at=at, minutes=minutes, device=device
    )
    base = max(visit.expected_end_at or at, at)
    _rearm(visit, base + dt.timedelta(minutes=minutes), at, visit.officer)
    visit.save()
    record_change(
        actor=visit.officer, action="safety.visit.extend", target=visit, data={"minutes": minutes}
    )
    if duress:
        _silent_duress(visit, at, device, "extend")
    _publish_visit(visit, "visit.extended")
    return visit


@transaction.atomic
def check_out(
    *, visit: Visit, pin: str | None, at: dt.datetime | None = None, device: Device | None = None
) -> Visit:
    """End the visit. With the duress PIN the officer's screen shows a normal check-out while
    a silent alarm goes to the console and the visit stays under escalation."""
    at = _now(at)
    visit = _lock_open_visit(visit)
    duress = pin_kind(visit.officer, pin) == "duress"
    CheckIn.objects.create(visit=visit, kind=CheckInKind.CHECK_OUT, at=at, device=device)
    if duress:
        _silent_duress(visit, at, device, "check-out")
        visit.refresh_from_db()
        return visit
    _visit_move(visit, VisitStatus.CHECKED_OUT, actor=visit.officer, at=at)
    visit.ended_at, visit.escalate_after = at, None
    visit.save()
    record_change(actor=visit.officer, action="safety.visit.check_out", target=visit)
    _publish_visit(visit, "visit.checked_out")
    return visit


def _grace() -> int:
    return int(getattr(settings, "SAFETY_VISIT_GRACE_SECONDS", 120))


@transaction.atomic
def mark_overdue(*, visit_id: int, now: dt.datetime) -> bool:
    """Claim an active visit past its deadline: overdue, officer nudged, grace period starts."""
    visit = Visit.objects.filter(pk=visit_id).first()
    if visit is None or visit.status != VisitStatus.ACTIVE or visit.escalate_after is None:
        return False
    due = visit.escalate_after
    grace_end = due + dt.timedelta(seconds=_grace())
    claimed = Visit.objects.filter(
        pk=visit_id, status=VisitStatus.ACTIVE, escalate_after=due, escalate_after__lte=now
    ).update(status=VisitStatus.OVERDUE, escalate_after=grace_end)
    if claimed != 1:
        return False
    late = (now - due).total_seconds()
    VisitTransition.objects.create(
        visit=visit,
        from_status=VisitStatus.ACTIVE,
        to_status=VisitStatus.OVERDUE,
        at=now,
        late_seconds=late,
    )
    messages.notify_officer_overdue(visit, key=f"visit:{visit.pk}:overdue:{due.timestamp():.0f}")
    record_change(
        actor=None, action="safety.visit.overdue", target=visit, data={"late_seconds": late}
    )
    visit.status = VisitStatus.OVERDUE
    _publish_visit(visit, "visit.overdue")
    return True


@transaction.atomic
def escalate_visit(*, visit_id: int, now: dt.datetime) -> Alarm | None:
    """Claim an overdue visit whose grace ran out and raise its overrun alarm (once)."""
    visit = Visit.objects.select_related("officer").filter(pk=visit_id).first()
    if visit is None or visit.status != VisitStatus.OVERDUE or visit.escalate_after is None:
        return None
    due = visit.escalate_after
    claimed = Visit.objects.filter(
        pk=visit_id, status=VisitStatus.OVERDUE, escalate_after=due, escalate_after__lte=now
    ).update(status=VisitStatus.ESCALATED, escalate_after=None)
    if claimed != 1:
        return None
    late = (now - due).total_seconds()
    VisitTransition.objects.create(
        visit=visit,
        from_status=VisitStatus.OVERDUE,
        to_status=VisitStatus.ESCALATED,
        at=now,
        late_seconds=late,
    )
    visit.status = VisitStatus.ESCALATED
    return raise_alarm(
        officer=visit.officer,
        kind=AlarmKind.OVERRUN,
        source=AlarmSource.SAFETYD,
        at=now,
        visit=visit,
        dedupe_key=f"visit:{visit.pk}:overrun",
        note=f"late by {late:.1f} s",
    )


# --- alarms -----------------------------------------------------------------------------


def _alarm_move(
    alarm: Alarm,
    event: AlarmEvent,
    *,
    to: AlarmStatus | None = None,
    actor: User | None = None,
    at: dt.datetime,
    **extra: Any,
) -> AlarmTransition:
    row = AlarmTransition.objects.create(
        alarm=alarm,
        event=event,
        from_status=alarm.status,
        to_status=to or alarm.status,
        at=at,
        actor=actor,
        **extra,
    )
    if to:
        alarm.status = to
    return row


def _publish_alarm(alarm: Alarm, kind: str) -> None:
    publish_on_commit(
        {
            "type": kind,
            "alarm_id": alarm.pk,
            "district_id": alarm.district_id,
            "status": alarm.status,
            "priority": alarm.priority,
        }
    )


def _current_visit(officer: User) -> Visit | None:
    return (
        Visit.objects.filter(officer=officer, status__in=OPEN_VISIT).order_by("-started_at").first()
    )


def _attach_visit(visit: Visit | None, officer: User, kind: str, at: dt.datetime) -> Visit | None:
    """Alerts during a visit put the visit under escalation, so its timer stops competing."""
    visit = visit or (_current_visit(officer) if kind in ALERT_KINDS else None)
    if visit and visit.status in OPEN_VISIT:
        visit = Visit.objects.select_for_update().get(pk=visit.pk)
        if visit.status in OPEN_VISIT:
            _visit_move(visit, VisitStatus.ESCALATED, actor=None, at=at, note=f"alarm: {kind}")
            visit.escalate_after = None
            visit.save(update_fields=["status", "escalate_after"])
    return visit


@transaction.atomic
def raise_alarm(
    *,
    officer: User,
    kind: AlarmKind | str,
    source: AlarmSource | str,
    at: dt.datetime,
    location: Location | None = None,
    silent: bool = False,
    dedupe_key: str | None = None,
    device: Device | None = None,
    visit: Visit | None = None,
    related: Alarm | None = None,
    note: str = "",
) -> Alarm:
    """Raise (or, for a repeated `dedupe_key`, return the existing) alarm.

    1. Idempotent on `dedupe_key` (DC-09 account+seq, Traccar SOS run, visit overrun).
    2. Freeze the district's escalation policy onto the alarm.
    3. First step due at the event time plus its wait (never in the future of now).
    4. Transition + audit rows, console event on commit.
    """
    if dedupe_key:
        existing = Alarm.objects.filter(dedupe_key=dedupe_key).first()
        if existing:
            return existing
    if officer.district_id is None:
        raise SafetyError("The officer has no district to route the alarm to")
    kind = AlarmKind(kind)
    severity = KIND_SEVERITY[kind]
    name, steps = policy_for(district_id=officer.district_id, kind=kind)
    base = min(at, timezone.now())
    visit = _attach_visit(visit, officer, kind, at)
    try:
        with transaction.atomic():
            alarm = Alarm.objects.create(
                district_id=officer.district_id,
                officer=officer,
                visit=visit,
                device=device,
                related=related,
                kind=kind,
                source=AlarmSource(source),
                severity=severity,
                priority=PRIORITY[severity],
                silent=silent or kind == AlarmKind.DURESS,
                dedupe_key=dedupe_key,
                raised_at=at,
                lat=location.lat if location else None,
                lon=location.lon if location else None,
                accuracy=location.accuracy if location else None,
                policy_name=name,
                policy=steps,
                next_step_at=base + dt.timedelta(seconds=steps[0]["wait"]),
            )
    except IntegrityError:
        if dedupe_key:
            return Alarm.objects.get(dedupe_key=dedupe_key)
        raise
    AlarmTransition.objects.create(
        alarm=alarm,
        event=AlarmEvent.RAISED,
        to_status=AlarmStatus.RAISED,
        at=at,
        data={"note": note} if note else {},
    )
    record_change(
        actor=None,
        action="safety.alarm.raise",
        target=alarm,
        data={"kind": kind, "source": str(source)},
    )
    _publish_alarm(alarm, "alarm.raised")
    return alarm


def _lock_open_alarm(alarm: Alarm) -> Alarm:
    locked = Alarm.objects.select_for_update().get(pk=alarm.pk)
    if locked.status == AlarmStatus.RESOLVED:
        raise SafetyError("This alarm is already resolved")
    return locked


@transaction.atomic
def acknowledge_alarm(*, alarm: Alarm, by: User, at: dt.datetime | None = None) -> Alarm:
    """The operator has it. Escalation steps keep their schedule: the policy is the protocol."""
    at = _now(at)
    alarm = _lock_open_alarm(alarm)
    if alarm.status == AlarmStatus.ACKNOWLEDGED:
        return alarm
    _alarm_move(alarm, AlarmEvent.ACKNOWLEDGED, to=AlarmStatus.ACKNOWLEDGED, actor=by, at=at)
    alarm.acknowledged_at, alarm.acknowledged_by = at, by
    alarm.save(update_fields=["status", "acknowledged_at", "acknowledged_by"])
    record_change(actor=by, action="safety.alarm.acknowledge", target=alarm)
    _publish_alarm(alarm, "alarm.acknowledged")
    return alarm


@transaction.atomic
def log_officer_call(
    *, alarm: Alarm, by: User, outcome: str, at: dt.datetime | None = None
) -> Alarm:
    at = _now(at)
    alarm = _lock_open_alarm(alarm)
    _alarm_move(alarm, AlarmEvent.CALL_LOGGED, actor=by, at=at, data={"outcome": outcome[:300]})
    record_change(
        actor=by, action="safety.alarm.call", target=alarm, data={"outcome": outcome[:300]}
    )
    _publish_alarm(alarm, "alarm.updated")
    return alarm


@transaction.atomic
def send_colleagues(*, alarm: Alarm, by: User, at: dt.datetime | None = None) -> int:
    at = _now(at)
    alarm = _lock_open_alarm(alarm)
    sent = messages.notify_for_step(
        alarm, "notify_colleagues", key=f"alarm:{alarm.pk}:colleagues:{at.timestamp():.0f}"
    )
    _alarm_move(alarm, AlarmEvent.COLLEAGUES_SENT, actor=by, at=at, data={"messages": sent})
    record_change(actor=by, action="safety.alarm.colleagues", target=alarm, data={"messages": sent})
    _publish_alarm(alarm, "alarm.updated")
    return sent


@transaction.atomic
def record_dispatch(
    *, alarm: Alarm, by: User, reference: str, at: dt.datetime | None = None
) -> Alarm:
    at = _now(at)
    if not reference.strip():
        raise SafetyError("Record the emergency service's reference")
    alarm = _lock_open_alarm(alarm)
    alarm.dispatch_reference = reference.strip()[:120]
    _alarm_move(
        alarm, AlarmEvent.DISPATCH, actor=by, at=at, data={"reference": alarm.dispatch_reference}
    )
    alarm.save(update_fields=["dispatch_reference"])
    record_change(
        actor=by, action="safety.alarm.dispatch", target=alarm, data={"reference": reference}
    )
    _publish_alarm(alarm, "alarm.updated")
    return alarm


def _close_visit(alarm: Alarm, by: User | None, at: dt.datetime) -> None:
    if alarm.visit_id is None:
        return
    others = Alarm.objects.filter(visit_id=alarm.visit_id, status__in=OPEN_ALARM).exclude(
        pk=alarm.pk
    )
    visit = Visit.objects.select_for_update().get(pk=alarm.visit_id)
    if visit.status == VisitStatus.ESCALATED and not others.exists():
        _visit_move(visit, VisitStatus.RESOLVED, actor=by, at=at)
        visit.ended_at = at
        visit.save(update_fields=["status", "ended_at"])


@transaction.atomic
def resolve_alarm(
    *,
    alarm: Alarm,
    by: User | None,
    resolution: Resolution | str,
    note: str = "",
    at: dt.datetime | None = None,
) -> Alarm:
    at = _now(at)
    resolution = Resolution(resolution)
    alarm = _lock_open_alarm(alarm)
    event = (
        AlarmEvent.CANCELLED
        if resolution == Resolution.CANCELLED_BY_OFFICER
        else AlarmEvent.RESOLVED
    )
    _alarm_move(
        alarm, event, to=AlarmStatus.RESOLVED, actor=by, at=at, data={"resolution": resolution}
    )
    alarm.resolved_at, alarm.resolved_by, alarm.resolution = at, by, resolution
    alarm.resolution_note, alarm.next_step_at = note, None
    alarm.save()
    _close_visit(alarm, by, at)
    record_change(
        actor=by, action="safety.alarm.resolve", target=alarm, data={"resolution": resolution}
    )
    _publish_alarm(alarm, "alarm.resolved")
    return alarm


@transaction.atomic
def cancel_alarm_by_officer(
    *, alarm: Alarm, officer: User, pin: str | None, at: dt.datetime | None = None
) -> Alarm:
    """The officer cancels with their PIN. With the duress PIN the phone shows "cancelled"
    but the alarm stays open, becomes silent duress and jumps to the top of the queue."""
    at = _now(at)
    if alarm.officer_id != officer.pk:
        raise SafetyError("Not your alarm")
    kind = pin_kind(officer, pin)
    alarm = _lock_open_alarm(alarm)
    if kind != "duress":
        return resolve_alarm(
            alarm=alarm, by=officer, resolution=Resolution.CANCELLED_BY_OFFICER, at=at
        )
    alarm.silent, alarm.priority, alarm.kind = True, 0, AlarmKind.DURESS
    _alarm_move(
        alarm, AlarmEvent.DUPLICATE, actor=officer, at=at, data={"duress": "cancel with duress PIN"}
    )
    alarm.save(update_fields=["silent", "priority", "kind"])
    record_change(actor=officer, action="safety.alarm.duress_cancel", target=alarm)
    _publish_alarm(alarm, "alarm.updated")
    return alarm


@transaction.atomic
def write_incident_report(
    *,
    alarm: Alarm,
    author: User,
    what_happened: str,
    who_responded: str = "",
    outcome: str = "",
    follow_up: str = "",
) -> Incident:
    alarm = Alarm.objects.select_for_update().get(pk=alarm.pk)
    if alarm.status != AlarmStatus.RESOLVED:
        raise SafetyError("Resolve the alarm before writing its incident report")
    if Incident.objects.filter(alarm=alarm).exists():
        raise SafetyError("This alarm already has an incident report")
    if not what_happened.strip():
        raise SafetyError("Say what happened")
    incident = Incident.objects.create(
        alarm=alarm,
        visit=alarm.visit,
        author=author,
        what_happened=what_happened,
        who_responded=who_responded,
        outcome=outcome,
        follow_up=follow_up,
    )
    record_change(actor=author, action="safety.incident.write", target=incident)
    _publish_alarm(alarm, "incident.written")
    return incident


@transaction.atomic
def run_escalation_step(*, alarm_id: int, now: dt.datetime) -> bool:
    """Run the alarm's due step once.

    1. Read the step and its deadline; stop unless due and the alarm is open.
    2. Claim it: UPDATE … WHERE step_index and next_step_at are still what we read.
    3. Write the step's outbox rows and its transition (with how late it ran).
    A crash before commit rolls back all three; a second safetyd loses the claim.
    """
    alarm = Alarm.objects.select_related("officer", "visit").filter(pk=alarm_id).first()
    if alarm is None or alarm.status not in OPEN_ALARM or alarm.next_step_at is None:
        return False
    due, index = alarm.next_step_at, alarm.step_index
    if due > now:
        return False
    nxt = advance(
        policy=alarm.policy,
        index=index,
        repeats=alarm.repeats_done,
        reviews=alarm.reviews_done,
        now=now,
    )
    claimed = Alarm.objects.filter(
        pk=alarm_id,
        step_index=index,
        next_step_at=due,
        repeats_done=alarm.repeats_done,
        reviews_done=alarm.reviews_done,
        status__in=OPEN_ALARM,
    ).update(
        step_index=nxt.step_index,
        next_step_at=nxt.next_step_at,
        repeats_done=nxt.repeats_done,
        reviews_done=nxt.reviews_done,
    )
    if claimed != 1:
        return False
    _perform_step(alarm, index, due, now)
    return True


def _perform_step(alarm: Alarm, index: int, due: dt.datetime, now: dt.datetime) -> None:
    review = index >= len(alarm.policy)
    action = "notify_operators" if review else alarm.policy[index]["action"]
    key = f"alarm:{alarm.pk}:s{index}:r{alarm.repeats_done}:v{alarm.reviews_done}"
    sent = 0 if action == "repeat" else messages.notify_for_step(alarm, action, key)
    to = AlarmStatus.ESCALATING if alarm.status == AlarmStatus.RAISED and index > 0 else None
    late = max((now - due).total_seconds(), 0.0)
    _alarm_move(
        alarm,
        AlarmEvent.REVIEW if review else AlarmEvent.STEP,
        to=to,
        at=now,
        step_index=index,
        late_seconds=late,
        data={
            "action": action,
            "messages": sent,
            "silent_skip": alarm.silent and action == "notify_officer",
        },
    )
    if to:
        Alarm.objects.filter(pk=alarm.pk, status=AlarmStatus.RAISED).update(status=to)
    _publish_alarm(alarm, "alarm.step")


def sweep_stuck(*, now: dt.datetime) -> list[Alarm]:
    """Watch the watcher: an open alarm with no future step gets a "stuck" alarm (once)."""
    stuck = Alarm.objects.filter(status__in=OPEN_ALARM, next_step_at=None).exclude(
        kind=AlarmKind.STUCK
    )
    raised = []
    for alarm in stuck.select_related("officer")[:100]:
        if Alarm.objects.filter(dedupe_key=f"stuck:{alarm.pk}").exists():
            continue
        raised.append(
            raise_alarm(
                officer=alarm.officer,
                kind=AlarmKind.STUCK,
                source=AlarmSource.SAFETYD,
                at=now,
                related=alarm,
                dedupe_key=f"stuck:{alarm.pk}",
                note=f"alarm {alarm.pk} has no next step",
            )
        )
    return raised


# --- positions --------------------------------------------------------------------------


@transaction.atomic
def record_position(
    *,
    officer: User,
    lat: float,
    lon: float,
    at: dt.datetime,
    device: Device | None = None,
    accuracy: float | None = None,
    battery: float | None = None,
    speed: float | None = None,
) -> Position:
    Location(lat, lon)  # validates the range
    if battery is not None and not 0 <= battery <= 100:
        raise SafetyError("battery must be 0..1 or 0..100")
    position = Position.objects.create(
        officer=officer,
        device=device,
        lat=lat,
        lon=lon,
        at=at,
        accuracy=accuracy,
        battery=battery,
        speed=speed,
    )
    if device is not None:
        from attend.devices.actions import touch_device

        touch_device(device=device, at=timezone.now(), battery=battery)
    open_alarm = (
        Alarm.objects.filter(officer=officer, status__in=OPEN_ALARM)
        .values_list("pk", flat=True)
        .first()
    )
    if open_alarm:
        publish_on_commit(
            {"type": "position", "alarm_id": open_alarm, "district_id": officer.district_id}
        )
    return position


@transaction.atomic
def add_field_note(*, officer: User, text: str, written_at: dt.datetime) -> FieldNote:
    if not text.strip():
        raise SafetyError("The note is empty")
    note = FieldNote.objects.create(
        officer=officer, visit=_current_visit(officer), text=text[:4000], written_at=written_at
    )
    record_change(actor=officer, action="safety.note.add", target=note)
    return note


# --- escalation policies ----------------------------------------------------------------------

MAX_POLICY_STEPS = 10
MAX_STEP_WAIT = 3600


def check_policy_steps(steps: list[dict[str, Any]]) -> None:
    """A policy the loop can run and that someone always sees; refuse anything else, saying why.

    1. One to ten steps, each waiting 0 to 3,600 s after the previous one.
    2. The first step notifies the operator queue at once: an alarm nobody sees is not one.
    3. `repeat` (1 to 5 times) only as the last step: it jumps back to the first.
    """
    if not 1 <= len(steps) <= MAX_POLICY_STEPS:
        raise SafetyError(f"A policy has 1 to {MAX_POLICY_STEPS} steps")
    first = steps[0]
    if first["action"] != StepAction.NOTIFY_OPERATORS or first["wait"] != 0:
        raise SafetyError("The first step must notify the operator queue, with no wait")
    for number, step in enumerate(steps, start=1):
        if not 0 <= step["wait"] <= MAX_STEP_WAIT:
            raise SafetyError(f"Step {number}: wait 0 to {MAX_STEP_WAIT} seconds")
        if step["action"] == StepAction.REPEAT:
            if number != len(steps):
                raise SafetyError(f"Step {number}: 'repeat' can only be the last step")
            if not 1 <= step.get("times", 0) <= 5:
                raise SafetyError(f"Step {number}: repeat 1 to 5 times")


@transaction.atomic
def save_escalation_policy(
    *, district_id: int, kind: str, name: str, steps: list[dict[str, Any]], by: User
) -> EscalationPolicy:
    """Replace the district's policy for `kind` ("" = its default). Alarms already raised keep
    the policy frozen onto them; only alarms raised after this use the new steps."""
    check_policy_steps(steps)
    policy = EscalationPolicy.objects.select_for_update().filter(
        district_id=district_id, kind=kind
    ).first() or EscalationPolicy(district_id=district_id, kind=kind)
    before = policy.frozen() if policy.pk else None
    policy.name = name.strip()[:120] or "District policy"
    policy.save()
    policy.steps.all().delete()
    EscalationStep.objects.bulk_create(
        EscalationStep(
            policy=policy,
            order=order,
            wait_seconds=step["wait"],
            action=step["action"],
            repeat_times=step.get("times", 0),
        )
        for order, step in enumerate(steps)
    )
    record_change(
        actor=by,
        action="safety.policy.save",
        target=policy,
        data={"kind": kind, "before": before, "after": policy.frozen()},
    )
    return policy


@transaction.atomic
def delete_escalation_policy(*, policy: EscalationPolicy, by: User) -> None:
    """Drop a kind's own policy: that kind falls back to the district default (or built-in)."""
    record_change(
        actor=by,
        action="safety.policy.delete",
        target=policy,
        data={"kind": policy.kind, "before": policy.frozen()},
    )
    policy.delete()
