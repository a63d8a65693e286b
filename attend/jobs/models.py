"""Long work (imports, recomputation, training) as a visible row: status, counts, progress, log."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from attend.jobs.choices import JobStatus, ScheduleKind


class Job(models.Model):
    kind = models.CharField(max_length=40)
    title = models.CharField(max_length=200)
    status = models.CharField(max_length=12, choices=JobStatus.choices, default=JobStatus.QUEUED)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Whose data the job touched, when it is one district's (a district's risk scores, an
    # import once its district is known). Null: the whole installation (nightly insights).
    district = models.ForeignKey(
        "roster.District", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    params = models.JSONField(default=dict, blank=True)
    progress_done = models.PositiveBigIntegerField(default=0)
    progress_total = models.PositiveBigIntegerField(default=0)
    counts = models.JSONField(default=dict, blank=True)
    errors = models.JSONField(default=list, blank=True)
    log = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["status", "created_at"])]

    def __str__(self) -> str:
        return f"{self.title} ({self.get_status_display()})"

    @property
    def percent(self) -> int:
        if not self.progress_total:
            return 0
        return min(100, round(100 * self.progress_done / self.progress_total))


class JobTransition(models.Model):
    job = models.ForeignKey(Job, on_delete=models.CASCADE, related_name="transitions")
    at = models.DateTimeField(default=timezone.now)
    from_status = models.CharField(max_length=12, choices=JobStatus.choices, blank=True)
    to_status = models.CharField(max_length=12, choices=JobStatus.choices)
    note = models.CharField(max_length=300, blank=True)


class Schedule(models.Model):
    """Recurring work for `attend worker`. `next_run_at` is the deadline; a worker claims a due
    row with a conditional UPDATE that moves the deadline on, so two workers never both run
    the same night."""

    kind = models.CharField(max_length=20, choices=ScheduleKind.choices, unique=True)
    at_time = models.TimeField(help_text="local time of day (settings.TIME_ZONE)")
    next_run_at = models.DateTimeField(db_index=True)
    last_run_at = models.DateTimeField(null=True, blank=True)
    last_job = models.ForeignKey(
        Job, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    def __str__(self) -> str:
        return f"{self.get_kind_display()} at {self.at_time:%H:%M}"
