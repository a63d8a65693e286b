"""Stable strings for the field-safety states (house style 4)."""

from __future__ import annotations

from django.db import models


class VisitStatus(models.TextChoices):
    PLANNED = "planned", "Planned"
    ACTIVE = "active", "Active"
    CHECKED_OUT = "checked_out", "Checked out"
    OVERDUE = "overdue", "Overdue"
    ESCALATED = "escalated", "Escalated"
    RESOLVED = "resolved", "Resolved"


class CheckInKind(models.TextChoices):
    OK = "ok", "I'm OK"
    EXTEND = "extend", "Extend"
    CHECK_OUT = "check_out", "Check out"


class AlarmStatus(models.TextChoices):
    RAISED = "raised", "Raised"
    ACKNOWLEDGED = "acknowledged", "Acknowledged"
    ESCALATING = "escalating", "Escalating"
    RESOLVED = "resolved", "Resolved"


OPEN_ALARM = (AlarmStatus.RAISED, AlarmStatus.ACKNOWLEDGED, AlarmStatus.ESCALATING)


class AlarmKind(models.TextChoices):
    RED_ALERT = "red_alert", "Red Alert"
    DURESS = "duress", "Duress (silent)"
    MEDICAL = "medical", "Medical"
    OVERRUN = "overrun", "Visit overrun"
    COMMUNICATION_LOST = "communication_lost", "Communication lost"
    STUCK = "stuck", "Stuck alarm (no next step)"


class AlarmSource(models.TextChoices):
    APP = "app", "Officer app"
    OSMAND = "osmand", "Traccar Client"
    DC09 = "dc09", "SIA DC-09"
    SAFETYD = "safetyd", "safetyd"


class Severity(models.TextChoices):
    CRITICAL = "critical", "Critical"
    HIGH = "high", "High"
    MEDIUM = "medium", "Medium"


# Lower number = higher in the operator's queue.
PRIORITY = {Severity.CRITICAL: 1, Severity.HIGH: 2, Severity.MEDIUM: 3}

KIND_SEVERITY = {
    AlarmKind.RED_ALERT: Severity.CRITICAL,
    AlarmKind.DURESS: Severity.CRITICAL,
    AlarmKind.MEDICAL: Severity.CRITICAL,
    AlarmKind.OVERRUN: Severity.HIGH,
    AlarmKind.STUCK: Severity.HIGH,
    AlarmKind.COMMUNICATION_LOST: Severity.MEDIUM,
}


class Resolution(models.TextChoices):
    GENUINE = "genuine", "Genuine"
    FALSE_ALARM = "false_alarm", "False alarm"
    TEST = "test", "Test"
    CANCELLED_BY_OFFICER = "cancelled_by_officer", "Cancelled by officer"


class StepAction(models.TextChoices):
    NOTIFY_OPERATORS = "notify_operators", "Notify the operator queue"
    NOTIFY_OFFICER = "notify_officer", "Call / notify the officer"
    NOTIFY_SUPERVISORS = "notify_supervisors", "Notify supervisors"
    NOTIFY_COLLEAGUES = "notify_colleagues", "Notify colleagues"
    NOTIFY_EMERGENCY_CONTACT = "notify_emergency_contact", "Notify emergency contact"
    DISPATCH = "dispatch", "Dispatch emergency services (operator records the reference)"
    REPEAT = "repeat", "Repeat from the first step (bounded)"


class AlarmEvent(models.TextChoices):
    RAISED = "raised", "Raised"
    STEP = "step", "Escalation step"
    REVIEW = "review", "Still open: review reminder"
    ACKNOWLEDGED = "acknowledged", "Acknowledged"
    CALL_LOGGED = "call_logged", "Officer called"
    COLLEAGUES_SENT = "colleagues_sent", "Colleagues sent"
    DISPATCH = "dispatch", "Dispatch recorded"
    CANCELLED = "cancelled", "Cancelled by officer"
    RESOLVED = "resolved", "Resolved"
    DUPLICATE = "duplicate", "Repeated trigger"
    EXHAUSTED = "exhausted", "Policy exhausted"
