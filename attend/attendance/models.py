"""The attendance ledger: what the SIS said about each day, and every later correction.

Corrections never overwrite silently: each change leaves an AttendanceCorrection row with the
previous values and when Attend learnt of it, because the risk model must be able to ask
"what was known on date d" and case workflows must know when a record they acted on changed.
"""

from __future__ import annotations

from django.db import models
from django.db.models import F
from django.utils import timezone

from attend.attendance.choices import Category, Source


class AttendanceEvent(models.Model):
    # No single-column indexes on the two keys: the unique key leads with the student and the
    # (school, date) index with the school, so each serves both lookups. A million-row import
    # maintains (or rebuilds) two indexes instead of five.
    student = models.ForeignKey(
        "roster.Student",
        on_delete=models.CASCADE,
        related_name="attendance_events",
        db_index=False,
    )
    school = models.ForeignKey(
        "roster.School",
        on_delete=models.PROTECT,
        related_name="attendance_events",
        db_index=False,
    )
    # Empty for a daily (school) event; the Ed-Fi section identifier for a period event.
    section_id = models.CharField(max_length=64, blank=True, default="")
    event_date = models.DateField()
    category = models.CharField(max_length=16, choices=Category.choices)
    # Fraction of the day (0–1) when the SIS gives one; null means the category's default.
    duration = models.DecimalField(max_digits=5, decimal_places=4, null=True, blank=True)
    reason = models.CharField(max_length=200, blank=True)
    # When the SIS recorded this version (Ed-Fi _lastModifiedDate), not when we imported it.
    recorded_at = models.DateTimeField(default=timezone.now)
    imported_at = models.DateTimeField(default=timezone.now)
    source = models.CharField(max_length=12, choices=Source.choices, default=Source.EDFI)
    # Deleted in the SIS: kept for history, ignored by counts.
    deleted_at = models.DateTimeField(null=True, blank=True)
    # A correction arrived after a case step relied on this record; casework reviews it.
    needs_review = models.BooleanField(default=False)

    class Meta:
        ordering = ["event_date"]
        constraints = [
            # Student and date first: a student's days in a date range are one index range.
            # Written with F() so that SQLite too makes it a separate unique index (rather
            # than part of the table), which a first import can drop and rebuild in one sort.
            models.UniqueConstraint(
                F("student"),
                F("event_date"),
                F("school"),
                F("section_id"),
                F("category"),
                name="unique_attendance_event",
            ),
            models.CheckConstraint(
                condition=models.Q(duration__isnull=True)
                | models.Q(duration__gte=0, duration__lte=1),
                name="attendance_duration_fraction",
            ),
        ]
        indexes = [models.Index(fields=["school", "event_date"])]

    def __str__(self) -> str:
        return f"{self.student_id} {self.event_date} {self.category}"


class AttendanceCorrection(models.Model):
    """One change to a ledger row: re-categorised, duration changed, or deleted."""

    event = models.ForeignKey(AttendanceEvent, on_delete=models.CASCADE, related_name="corrections")
    changed_at = models.DateTimeField(default=timezone.now)
    old_category = models.CharField(max_length=16, choices=Category.choices)
    new_category = models.CharField(max_length=16, choices=Category.choices, blank=True)
    old_duration = models.DecimalField(max_digits=5, decimal_places=4, null=True, blank=True)
    new_duration = models.DecimalField(max_digits=5, decimal_places=4, null=True, blank=True)
    old_recorded_at = models.DateTimeField()
    deleted = models.BooleanField(default=False)
    source = models.CharField(max_length=12, choices=Source.choices, default=Source.EDFI)

    class Meta:
        ordering = ["changed_at"]
