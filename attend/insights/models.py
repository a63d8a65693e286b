"""Stored results of the insights engine: one snapshot per student, school and as-of date.

History is kept (never overwritten by a later run for another date) so trends and the risk
model can look back at what was known on each date.
"""

from __future__ import annotations

from django.db import models
from django.utils import timezone


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
