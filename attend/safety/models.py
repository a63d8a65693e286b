"""Field safety: timed visits, alarms with frozen escalation policies, positions, incidents."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.utils import timezone

from attend.safety.choices import (
    AlarmEvent,
    AlarmKind,
    AlarmSource,
    AlarmStatus,
    CheckInKind,
    Resolution,
    Severity,
    StepAction,
    VisitStatus,
)

USER = settings.AUTH_USER_MODEL


class SafetyProfile(models.Model):
    """An officer's safety settings: the normal and duress PINs (hashed), how to reach them,
    and their emergency contact. Kept off User so the accounts app stays about sign-in."""

    user = models.OneToOneField(USER, on_delete=models.CASCADE, related_name="safety_profile")
    pin_hash = models.CharField(max_length=200, blank=True)
    duress_pin_hash = models.CharField(max_length=200, blank=True)
    phone = models.CharField(max_length=32, blank=True)
    notify_url = models.CharField(
        max_length=500, blank=True, help_text="Apprise URL that reaches this officer"
    )
    emergency_contact_name = models.CharField(max_length=120, blank=True)
    emergency_contact_url = models.CharField(max_length=500, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"safety profile of {self.user}"


class Visit(models.Model):
    """A timed home visit ("amber"): if the officer has not checked out by `escalate_after`,
    safetyd marks it overdue and, after the grace period, raises an overrun alarm."""

    officer = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="visits")
    district = models.ForeignKey("roster.District", on_delete=models.PROTECT, related_name="+")
    student = models.ForeignKey(
        "roster.Student", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    household = models.ForeignKey(
        "roster.Household", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    address = models.CharField(max_length=300)
    address_key = models.CharField(max_length=300, db_index=True, editable=False)
    expected_people = models.CharField(max_length=300, blank=True)
    hazards = models.JSONField(default=list, blank=True)
    notes = models.TextField(blank=True)
    expected_minutes = models.PositiveIntegerField()
    voice_memo = models.FileField(upload_to="visit-memos/%Y/%m/", blank=True)
    status = models.CharField(
        max_length=12, choices=VisitStatus.choices, default=VisitStatus.PLANNED
    )
    started_at = models.DateTimeField(null=True, blank=True)
    expected_end_at = models.DateTimeField(null=True, blank=True)
    escalate_after = models.DateTimeField(null=True, blank=True, db_index=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    lat = models.FloatField(null=True, blank=True)
    lon = models.FloatField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["status", "escalate_after"])]

    def __str__(self) -> str:
        return f"visit {self.pk} at {self.address}"


class VisitTransition(models.Model):
    visit = models.ForeignKey(Visit, on_delete=models.CASCADE, related_name="transitions")
    from_status = models.CharField(max_length=12, blank=True)
    to_status = models.CharField(max_length=12)
    at = models.DateTimeField(default=timezone.now)
    actor = models.ForeignKey(
        USER, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    late_seconds = models.FloatField(null=True, blank=True)
    note = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["at", "pk"]


class CheckIn(models.Model):
    visit = models.ForeignKey(Visit, on_delete=models.CASCADE, related_name="check_ins")
    kind = models.CharField(max_length=12, choices=CheckInKind.choices)
    at = models.DateTimeField(default=timezone.now)
    minutes = models.PositiveIntegerField(null=True, blank=True)
    device = models.ForeignKey(
        "devices.Device", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["at", "pk"]


class EscalationPolicy(models.Model):
    """A district's escalation protocol. Copied (frozen) onto each alarm when it is raised."""

    district = models.ForeignKey(
        "roster.District", on_delete=models.CASCADE, related_name="escalation_policies"
    )
    name = models.CharField(max_length=120)
    # Blank = the district's default for kinds without their own policy.
    kind = models.CharField(max_length=24, choices=AlarmKind.choices, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["district", "kind", "name"]
        constraints = [
            models.UniqueConstraint(fields=["district", "kind"], name="one_policy_per_kind")
        ]

    def __str__(self) -> str:
        return self.name

    def frozen(self) -> list[dict[str, Any]]:
        return [step.frozen() for step in self.steps.all()]


class EscalationStep(models.Model):
    policy = models.ForeignKey(EscalationPolicy, on_delete=models.CASCADE, related_name="steps")
    order = models.PositiveSmallIntegerField()
    wait_seconds = models.PositiveIntegerField(default=0)
    action = models.CharField(max_length=28, choices=StepAction.choices)
    repeat_times = models.PositiveSmallIntegerField(
        default=0, help_text="For 'repeat': how many times (at most 5)"
    )

    class Meta:
        ordering = ["policy", "order"]

    def frozen(self) -> dict[str, Any]:
        step: dict[str, Any] = {"wait": self.wait_seconds, "action": self.action}
        if self.action == StepAction.REPEAT:
            step["times"] = min(self.repeat_times, 5)
        return step


class Alarm(models.Model):
    """One incident on the console. `next_step_at` is the deadline safetyd claims."""

    district = models.ForeignKey("roster.District", on_delete=models.PROTECT, related_name="+")
    officer = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="alarms")
    visit = models.ForeignKey(
        Visit, null=True, blank=True, on_delete=models.SET_NULL, related_name="alarms"
    )
    device = models.ForeignKey(
        "devices.Device", null=True, blank=True, on_delete=models.SET_NULL, related_name="alarms"
    )
    related = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    kind = models.CharField(max_length=24, choices=AlarmKind.choices)
    source = models.CharField(max_length=10, choices=AlarmSource.choices)
    severity = models.CharField(max_length=10, choices=Severity.choices)
    priority = models.PositiveSmallIntegerField()
    silent = models.BooleanField(default=False)
    status = models.CharField(
        max_length=14, choices=AlarmStatus.choices, default=AlarmStatus.RAISED
    )
    dedupe_key = models.CharField(max_length=120, null=True, blank=True, unique=True)
    raised_at = models.DateTimeField()
    received_at = models.DateTimeField(default=timezone.now)
    lat = models.FloatField(null=True, blank=True)
    lon = models.FloatField(null=True, blank=True)
    accuracy = models.FloatField(null=True, blank=True)
    policy_name = models.CharField(max_length=120)
    policy = models.JSONField(default=list)
    step_index = models.PositiveSmallIntegerField(default=0)
    repeats_done = models.PositiveSmallIntegerField(default=0)
    reviews_done = models.PositiveSmallIntegerField(default=0)
    next_step_at = models.DateTimeField(null=True, blank=True, db_index=True)
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        USER, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    dispatch_reference = models.CharField(max_length=120, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        USER, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    resolution = models.CharField(max_length=24, choices=Resolution.choices, blank=True)
    resolution_note = models.TextField(blank=True)

    class Meta:
        ordering = ["priority", "raised_at"]
        indexes = [models.Index(fields=["status", "next_step_at"])]

    def __str__(self) -> str:
        return f"alarm {self.pk} ({self.kind})"

    @property
    def is_open(self) -> bool:
        return self.status != AlarmStatus.RESOLVED

    def next_step(self) -> dict[str, Any] | None:
        if self.next_step_at is None:
            return None
        if self.step_index < len(self.policy):
            return dict(self.policy[self.step_index])
        return {"action": "review", "wait": 0}


class AlarmTransition(models.Model):
    """Every change to an alarm, including each escalation step and each operator action."""

    alarm = models.ForeignKey(Alarm, on_delete=models.CASCADE, related_name="transitions")
    event = models.CharField(max_length=20, choices=AlarmEvent.choices)
    from_status = models.CharField(max_length=14, blank=True)
    to_status = models.CharField(max_length=14)
    at = models.DateTimeField(default=timezone.now)
    actor = models.ForeignKey(
        USER, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    step_index = models.PositiveSmallIntegerField(null=True, blank=True)
    late_seconds = models.FloatField(null=True, blank=True)
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["at", "pk"]


class Incident(models.Model):
    """The report written after an alarm is resolved."""

    alarm = models.OneToOneField(Alarm, on_delete=models.PROTECT, related_name="incident")
    visit = models.ForeignKey(
        Visit, null=True, blank=True, on_delete=models.SET_NULL, related_name="incidents"
    )
    author = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    what_happened = models.TextField()
    who_responded = models.TextField(blank=True)
    outcome = models.TextField(blank=True)
    follow_up = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at"]


class Position(models.Model):
    officer = models.ForeignKey(USER, on_delete=models.CASCADE, related_name="positions")
    device = models.ForeignKey(
        "devices.Device", null=True, blank=True, on_delete=models.SET_NULL, related_name="positions"
    )
    lat = models.FloatField()
    lon = models.FloatField()
    accuracy = models.FloatField(null=True, blank=True)
    speed = models.FloatField(null=True, blank=True)
    battery = models.FloatField(null=True, blank=True)
    at = models.DateTimeField()

    class Meta:
        ordering = ["-at"]
        indexes = [models.Index(fields=["officer", "-at"])]


class SafetydHeartbeat(models.Model):
    """One row per running loop, so the console can tell the watcher is alive."""

    name = models.CharField(max_length=40, primary_key=True)
    beat_at = models.DateTimeField()
    pid = models.PositiveIntegerField(default=0)
    host = models.CharField(max_length=120, blank=True)
    last_tick_ms = models.FloatField(default=0)
    max_late_seconds = models.FloatField(default=0)
    ticks = models.PositiveBigIntegerField(default=0)


class FieldNote(models.Model):
    """A quick note typed on the phone, possibly offline, synced later."""

    officer = models.ForeignKey(USER, on_delete=models.CASCADE, related_name="field_notes")
    visit = models.ForeignKey(
        Visit, null=True, blank=True, on_delete=models.SET_NULL, related_name="field_notes"
    )
    text = models.TextField()
    written_at = models.DateTimeField()
    received_at = models.DateTimeField(default=timezone.now)
