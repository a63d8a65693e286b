"""Who looked at which student record, and what changed. Append-only by convention and admin."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone


class AccessLog(models.Model):
    """A view of a student's education record (FERPA: every look is recorded)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    student = models.ForeignKey("roster.Student", on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(default=timezone.now, db_index=True)
    page = models.CharField(max_length=300)
    purpose = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-at"]
        indexes = [models.Index(fields=["student", "-at"]), models.Index(fields=["user", "-at"])]


class ChangeLog(models.Model):
    """One action's write, recorded in the same transaction as the write itself."""

    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    at = models.DateTimeField(default=timezone.now, db_index=True)
    action = models.CharField(max_length=80)
    target_type = models.CharField(max_length=80)
    target_id = models.CharField(max_length=64)
    student = models.ForeignKey(
        "roster.Student", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-at"]
        indexes = [models.Index(fields=["target_type", "target_id"])]
