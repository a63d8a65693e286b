"""Stored results of the insights engine: one snapshot per student, school and as-of date.

History is kept (never overwritten by a later run for another date) so trends and the risk
model can look back at what was known on each date.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.utils import timezone

from attend.insights.choices import DismissReason, FlagStatus, ModelStatus, RiskLabel


class InsightsRun(models.Model):
    """One engine run over the database for an as-of date, with its roll-ups."""

    as_of = models.DateField(db_index=True)
    school_year = models.PositiveSmallIntegerField()
    computed_at = models.DateTimeField(default=timezone.now)
    job = models.ForeignKey("jobs.Job", null=True, blank=True, on_delete=models.SET_NULL)
    students = models.PositiveIntegerField(default=0)
    # Suppressed aggregate cells and the weekly trend, as the engine returned them.
    aggregates = models.JSONField(default=list)
    trend = models.JSONField(default=list)
    quality = models.JSONField(default=list)

    class Meta:
        ordering = ["-as_of", "-computed_at"]


class StudentSnapshot(models.Model):
    """ATTENDANCE-RULES "Per-student metrics" for one student × school × school year."""

    run = models.ForeignKey(InsightsRun, on_delete=models.CASCADE, related_name="snapshots")
    student = models.ForeignKey(
        "roster.Student", on_delete=models.CASCADE, related_name="snapshots"
    )
    school = models.ForeignKey("roster.School", on_delete=models.CASCADE, related_name="+")
    school_year = models.PositiveSmallIntegerField()
    as_of = models.DateField()
    enrolled_days = models.PositiveIntegerField()
    absent_days = models.FloatField()
    excused_absent_days = models.FloatField()
    unexcused_absent_days = models.FloatField()
    tardy_days = models.PositiveIntegerField()
    present_days = models.FloatField()
    attendance_rate = models.FloatField(null=True)
    eligible = models.BooleanField()
    chronic = models.BooleanField(null=True)
    tier = models.CharField(max_length=20, blank=True)
    longest_absence_streak = models.PositiveIntegerField()
    current_absence_streak = models.PositiveIntegerField()
    absence_budget = models.FloatField(null=True)

    class Meta:
        ordering = ["-as_of"]
        constraints = [
            models.UniqueConstraint(
                fields=["run", "student", "school", "school_year"], name="unique_snapshot"
            )
        ]
        indexes = [models.Index(fields=["student", "-as_of"]), models.Index(fields=["as_of"])]


class PatternFlag(models.Model):
    """A warning pattern with the days that caused it, so a person can check it."""

    run = models.ForeignKey(InsightsRun, on_delete=models.CASCADE, related_name="flags")
    student = models.ForeignKey("roster.Student", on_delete=models.CASCADE, related_name="flags")
    school = models.ForeignKey("roster.School", on_delete=models.CASCADE, related_name="+")
    as_of = models.DateField()
    pattern = models.CharField(max_length=40)
    detail = models.CharField(max_length=300, blank=True)
    evidence_dates = models.JSONField(default=list)
    projected_crossing_date = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["pattern"]
        indexes = [models.Index(fields=["student", "-as_of"])]


class ModelVersionQuerySet(models.QuerySet["ModelVersion"]):
    def for_user(self, user: Any) -> ModelVersionQuerySet:
        """Versions of the user's district: model documents hold no student records."""
        if not (user.is_authenticated and user.district_id):
            return self.none()
        return self.filter(district_id=user.district_id)


class ModelVersion(models.Model):
    """A trained risk model (`VAR_DIR/models/<run_id>/`) registered for a district, with the
    figures of its run.json copied in so the model page never reads files to list them."""

    district = models.ForeignKey("roster.District", on_delete=models.PROTECT, related_name="+")
    run_id = models.CharField(max_length=40, unique=True)
    folder = models.CharField(max_length=500)
    label = models.CharField(max_length=20, choices=RiskLabel.choices, default=RiskLabel.WITHIN)
    horizon_days = models.PositiveSmallIntegerField()
    share = models.FloatField(help_text="k as a share of enrolled students")
    train_start = models.DateField(null=True, blank=True)
    train_end = models.DateField(null=True, blank=True)
    test_start = models.DateField(null=True, blank=True)
    test_end = models.DateField(null=True, blank=True)
    examples = models.PositiveIntegerField(default=0)
    metrics = models.JSONField(default=dict)
    fairness = models.JSONField(default=list)
    status = models.CharField(
        max_length=12, choices=ModelStatus.choices, default=ModelStatus.TRAINED
    )
    trained_at = models.DateTimeField(default=timezone.now)
    activated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    activated_at = models.DateTimeField(null=True, blank=True)

    objects = ModelVersionQuerySet.as_manager()

    class Meta:
        ordering = ["-trained_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["district", "label"],
                condition=models.Q(status="active"),
                name="one_active_model_per_label",
            )
        ]

    def __str__(self) -> str:
        return f"Risk model {self.run_id} ({self.get_status_display()})"

    def _at_k(self, name: str) -> float | None:
        point = self.metrics.get("at_k", {}).get("model", {})
        return point.get(name)

    @property
    def precision_at_k(self) -> float | None:
        return self._at_k("precision")

    @property
    def recall_at_k(self) -> float | None:
        return self._at_k("recall")

    @property
    def folds_won(self) -> str:
        folds = self.metrics.get("folds", [])
        won = sum(1 for fold in folds if fold.get("beats_all_baselines"))
        return f"{won} of {len(folds)}" if folds else "–"


class ModelVersionTransition(models.Model):
    version = models.ForeignKey(ModelVersion, on_delete=models.CASCADE, related_name="transitions")
    at = models.DateTimeField(default=timezone.now)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    from_status = models.CharField(max_length=12, choices=ModelStatus.choices, blank=True)
    to_status = models.CharField(max_length=12, choices=ModelStatus.choices)
    note = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["at", "pk"]


class StudentScopedQuerySet(models.QuerySet[Any]):
    def for_user(self, user: Any) -> Any:
        """Rows about students this user may see (`Student.objects.for_user`)."""
        from attend.roster.models import Student

        return self.filter(student__in=Student.objects.for_user(user))


class RiskScore(models.Model):
    """One student-school's calibrated risk on a date under one model version. Staff only:
    no letter, notice or family-facing page reads this table."""

    model_version = models.ForeignKey(ModelVersion, on_delete=models.CASCADE, related_name="scores")
    student = models.ForeignKey("roster.Student", on_delete=models.CASCADE, related_name="+")
    school = models.ForeignKey("roster.School", on_delete=models.CASCADE, related_name="+")
    as_of = models.DateField()
    score = models.FloatField(
        null=True, help_text="calibrated probability; none for students already chronic"
    )
    rank_district = models.PositiveIntegerField()
    rank_school = models.PositiveIntegerField()
    selected = models.BooleanField(help_text="in the top k: flagged for review")
    reasons = models.JSONField(default=list, help_text="[{family, text, days}] when selected")
    computed_at = models.DateTimeField(default=timezone.now)

    objects = StudentScopedQuerySet.as_manager()

    class Meta:
        ordering = ["rank_district"]
        constraints = [
            models.UniqueConstraint(
                fields=["model_version", "as_of", "student", "school"], name="unique_risk_score"
            )
        ]
        indexes = [
            models.Index(fields=["model_version", "as_of", "selected"]),
            models.Index(fields=["student", "-as_of"]),
        ]


class FlagReview(models.Model):
    """A flag on the officer's watch list and what the officer decided about it.

    Created pending when a student first enters the top k; later nights refresh its score
    and reasons while it waits. Confirming opens or updates a case; dismissing needs a
    reason. `flagged_on` (the first as-of date) places it in a school month on the model page.
    """

    model_version = models.ForeignKey(
        ModelVersion, on_delete=models.CASCADE, related_name="reviews"
    )
    student = models.ForeignKey("roster.Student", on_delete=models.CASCADE, related_name="+")
    school = models.ForeignKey("roster.School", on_delete=models.CASCADE, related_name="+")
    flagged_on = models.DateField()
    last_flagged_on = models.DateField()
    score = models.ForeignKey(
        RiskScore, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reasons = models.JSONField(default=list)
    status = models.CharField(max_length=12, choices=FlagStatus.choices, default=FlagStatus.PENDING)
    dismiss_reason = models.CharField(max_length=20, choices=DismissReason.choices, blank=True)
    note = models.CharField(max_length=300, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    case = models.ForeignKey(
        "cases.Case", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    objects = StudentScopedQuerySet.as_manager()

    class Meta:
        ordering = ["-last_flagged_on", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["model_version", "student"],
                condition=models.Q(status="pending"),
                name="one_pending_flag_per_student",
            )
        ]
        indexes = [
            models.Index(fields=["status", "model_version"]),
            models.Index(fields=["student", "-flagged_on"]),
        ]


class FlagReviewTransition(models.Model):
    review = models.ForeignKey(FlagReview, on_delete=models.CASCADE, related_name="transitions")
    at = models.DateTimeField(default=timezone.now)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    from_status = models.CharField(max_length=12, choices=FlagStatus.choices, blank=True)
    to_status = models.CharField(max_length=12, choices=FlagStatus.choices)
    note = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["at", "pk"]


class RiskCapacityQuerySet(models.QuerySet["RiskCapacity"]):
    def for_user(self, user: Any) -> RiskCapacityQuerySet:
        """Settings of the user's district (operational numbers, no student records)."""
        if not (user.is_authenticated and user.district_id):
            return self.none()
        return self.filter(district_id=user.district_id)


class RiskCapacity(models.Model):
    """How many students a school's officers, or one officer, can serve (RISK.md 5): the
    watch list's k. Exactly one of school and officer is set; no row means the default
    (a share of the school's students). The rule is `risk.capacity.school_k`."""

    district = models.ForeignKey("roster.District", on_delete=models.CASCADE, related_name="+")
    school = models.ForeignKey(
        "roster.School", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    officer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
    )
    students = models.PositiveIntegerField()
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_at = models.DateTimeField(default=timezone.now)

    objects = RiskCapacityQuerySet.as_manager()

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=(models.Q(school__isnull=False) & models.Q(officer__isnull=True))
                | (models.Q(school__isnull=True) & models.Q(officer__isnull=False)),
                name="risk_capacity_school_or_officer",
            ),
            models.UniqueConstraint(
                fields=["school"],
                condition=models.Q(school__isnull=False),
                name="one_risk_capacity_per_school",
            ),
            models.UniqueConstraint(
                fields=["officer"],
                condition=models.Q(officer__isnull=False),
                name="one_risk_capacity_per_officer",
            ),
        ]

    def __str__(self) -> str:
        return f"Capacity {self.students} for {self.school or self.officer}"
