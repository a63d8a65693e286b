"""Casework: from a flag to a student back in school (CASEWORK.md "Case model").

Every stateful model has one explicit status and a transition row per change; writes go
through `attend.cases.actions`. Deadlines (`LegalStep.due_on`, `Task.due_on`) are indexed.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.utils import timezone

from attend.cases.choices import (
    CAUSE_GROUP,
    SENSITIVE_CAUSES,
    CaseStatus,
    Cause,
    CauseGroup,
    ContactKind,
    ContactOutcome,
    InterventionType,
    MeetingKind,
    ReferralStatus,
    ReferralTarget,
    StepStatus,
    TaskStatus,
    Tier,
)
from attend.cases.queries import CaseQuerySet

USER = settings.AUTH_USER_MODEL


class Case(models.Model):
    student = models.ForeignKey("roster.Student", on_delete=models.PROTECT, related_name="cases")
    school = models.ForeignKey(
        "roster.School", null=True, blank=True, on_delete=models.PROTECT, related_name="cases"
    )
    status = models.CharField(max_length=12, choices=CaseStatus.choices, default=CaseStatus.OPEN)
    tier = models.PositiveSmallIntegerField(choices=Tier.choices, default=Tier.EARLY)
    owner = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="owned_cases")
    team: models.ManyToManyField[Any, Any] = models.ManyToManyField(
        USER, blank=True, related_name="team_cases"
    )
    opened_reason = models.CharField(max_length=300)
    closed_reason = models.CharField(max_length=300, blank=True)
    opened_at = models.DateTimeField(default=timezone.now)
    closed_at = models.DateTimeField(null=True, blank=True)
    # Denormalised for the director view: time to first contact.
    first_contact_at = models.DateTimeField(null=True, blank=True)

    objects = CaseQuerySet.as_manager()

    class Meta:
        ordering = ["-opened_at"]
        indexes = [
            models.Index(fields=["owner", "status"]),
            models.Index(fields=["status", "tier"]),
        ]

    def __str__(self) -> str:
        return f"Case {self.pk} · {self.student}"


class CaseTransition(models.Model):
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="transitions")
    at = models.DateTimeField(default=timezone.now)
    by = models.ForeignKey(USER, null=True, on_delete=models.PROTECT, related_name="+")
    from_status = models.CharField(max_length=12, choices=CaseStatus.choices, blank=True)
    to_status = models.CharField(max_length=12, choices=CaseStatus.choices)
    note = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["at", "pk"]


class RootCause(models.Model):
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="root_causes")
    group = models.CharField(max_length=16, choices=CauseGroup.choices)
    cause = models.CharField(max_length=24, choices=Cause.choices)
    detail = models.TextField(blank=True)
    assessed_by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    assessed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["assessed_at", "pk"]

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.group = CAUSE_GROUP.get(self.cause, self.group)
        super().save(*args, **kwargs)

    @property
    def sealed(self) -> bool:
        return self.cause in SENSITIVE_CAUSES


class InterventionPlan(models.Model):
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="plans")
    type = models.CharField(max_length=20, choices=InterventionType.choices)
    tier = models.PositiveSmallIntegerField(choices=Tier.choices)
    goal = models.CharField(max_length=300)
    owner = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    start = models.DateField()
    duration_days = models.PositiveSmallIntegerField(default=30)
    review_every_days = models.PositiveSmallIntegerField(default=14)
    next_review_on = models.DateField(db_index=True)

    class Meta:
        ordering = ["start", "pk"]


class Referral(models.Model):
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="referrals")
    target = models.CharField(max_length=12, choices=ReferralTarget.choices)
    to_user = models.ForeignKey(
        USER, null=True, blank=True, on_delete=models.PROTECT, related_name="referrals_received"
    )
    agency = models.CharField(max_length=200, blank=True)
    reason = models.CharField(max_length=300)
    status = models.CharField(
        max_length=10, choices=ReferralStatus.choices, default=ReferralStatus.SENT
    )
    consent_recorded = models.BooleanField(default=False)
    consent_by = models.CharField(max_length=200, blank=True)
    consent_at = models.DateTimeField(null=True, blank=True)
    sent_by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    sent_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-sent_at"]


class ReferralTransition(models.Model):
    referral = models.ForeignKey(Referral, on_delete=models.CASCADE, related_name="transitions")
    at = models.DateTimeField(default=timezone.now)
    by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    from_status = models.CharField(max_length=10, choices=ReferralStatus.choices, blank=True)
    to_status = models.CharField(max_length=10, choices=ReferralStatus.choices)
    note = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["at", "pk"]


class Disclosure(models.Model):
    """34 CFR 99.32: each disclosure of the record outside the school, shown to parents."""

    student = models.ForeignKey("roster.Student", on_delete=models.PROTECT, related_name="+")
    case = models.ForeignKey(Case, null=True, on_delete=models.PROTECT, related_name="disclosures")
    referral = models.ForeignKey(Referral, null=True, blank=True, on_delete=models.PROTECT)
    at = models.DateTimeField(default=timezone.now)
    by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    recipient = models.CharField(max_length=200)
    legitimate_interest = models.CharField(max_length=300)
    records = models.CharField(max_length=300)
    consent = models.BooleanField(default=False)

    class Meta:
        ordering = ["at", "pk"]


class Contact(models.Model):
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="contacts")
    guardian = models.ForeignKey(
        "roster.Guardian", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    kind = models.CharField(max_length=12, choices=ContactKind.choices)
    outcome = models.CharField(max_length=14, choices=ContactOutcome.choices)
    at = models.DateTimeField(default=timezone.now)
    by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    language = models.CharField(max_length=8, blank=True)
    interpreter = models.BooleanField(default=False)
    # An attempt to arrange a conference with the parent (EC 48262's conscientious effort).
    conference_attempt = models.BooleanField(default=False)
    notes = models.TextField(blank=True)

    class Meta:
        ordering = ["-at", "-pk"]


class Meeting(models.Model):
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="meetings")
    kind = models.CharField(max_length=6, choices=MeetingKind.choices)
    held_on = models.DateField()
    attendees = models.TextField()
    agreement = models.TextField(blank=True)
    compliance_until = models.DateField(null=True, blank=True, db_index=True)
    recorded_by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["-held_on"]


class LegalStep(models.Model):
    """A step a rule set requires or allows, frozen with `rule@version` when it became due."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="legal_steps")
    rule_set = models.CharField(max_length=40)  # e.g. CA@2025.07
    rule = models.CharField(max_length=40)
    classification = models.CharField(max_length=40)
    sequence = models.PositiveSmallIntegerField(default=1)
    step = models.CharField(max_length=40)
    label = models.CharField(max_length=200)
    kind = models.CharField(max_length=5)  # shall | may
    citation = models.CharField(max_length=80, blank=True)
    template = models.CharField(max_length=60, blank=True)  # template@version
    role = models.CharField(max_length=20, blank=True)
    guards = models.JSONField(default=list, blank=True)
    reached_on = models.DateField()
    due_on = models.DateField(null=True, blank=True, db_index=True)
    status = models.CharField(max_length=10, choices=StepStatus.choices, default=StepStatus.DUE)
    satisfied_by = models.CharField(max_length=200, blank=True)
    satisfied_at = models.DateTimeField(null=True, blank=True)
    done_on = models.DateField(null=True, blank=True)
    review_reason = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["reached_on", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["case", "rule_set", "rule", "sequence", "step"], name="unique_legal_step"
            )
        ]
        indexes = [models.Index(fields=["status", "due_on"])]


class LegalStepTransition(models.Model):
    """A person's decision on a step: completing it, or resolving a review flag with a note."""

    step = models.ForeignKey(LegalStep, on_delete=models.CASCADE, related_name="transitions")
    at = models.DateTimeField(default=timezone.now)
    by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    from_status = models.CharField(max_length=10, choices=StepStatus.choices)
    to_status = models.CharField(max_length=10, choices=StepStatus.choices)
    note = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["at", "pk"]


class Task(models.Model):
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="tasks")
    title = models.CharField(max_length=200)
    owner = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="case_tasks")
    due_on = models.DateField(db_index=True)
    status = models.CharField(max_length=6, choices=TaskStatus.choices, default=TaskStatus.OPEN)
    done_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["due_on", "pk"]


class LetterTemplate(models.Model):
    """District-edited letter text; each edit is a new version, old versions stay."""

    district = models.ForeignKey("roster.District", on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=60)  # e.g. "supportive", "ca-first-notice"
    language = models.CharField(max_length=8)  # ISO 639-2, like Household.language
    version = models.PositiveIntegerField()
    subject = models.CharField(max_length=200)
    body = models.TextField(help_text="Django template text; see docs for the variables")
    created_by = models.ForeignKey(USER, null=True, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["key", "language", "-version"]
        constraints = [
            models.UniqueConstraint(
                fields=["district", "key", "language", "version"], name="unique_letter_version"
            )
        ]

    @property
    def ref(self) -> str:
        return f"{self.key}.{self.language}@{self.version}"


class Letter(models.Model):
    """Exactly what was sent: the rendered HTML, the PDF's hash, and template@version."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="letters")
    template = models.ForeignKey(LetterTemplate, on_delete=models.PROTECT, related_name="letters")
    template_ref = models.CharField(max_length=80)
    language = models.CharField(max_length=8)
    channel = models.CharField(max_length=8, default="letter")
    html = models.TextField()
    pdf_sha256 = models.CharField(max_length=64, blank=True)
    pdf = models.BinaryField(null=True, blank=True)
    sent_to = models.CharField(max_length=200, blank=True)
    created_by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    legal_step = models.ForeignKey(
        LegalStep, null=True, blank=True, on_delete=models.SET_NULL, related_name="letters"
    )

    class Meta:
        ordering = ["-created_at"]
