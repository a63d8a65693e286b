"""Outbound notifications: written in the state change's transaction, delivered by Apprise."""

from __future__ import annotations

from django.db import models
from django.utils import timezone

from attend.notify.choices import OutboxStatus, TargetRole


class NotifyTarget(models.Model):
    """An Apprise URL (mailto://, ntfy://, json://, msteams://, an SMS gateway…) for a role."""

    district = models.ForeignKey("roster.District", on_delete=models.CASCADE, related_name="+")
    role = models.CharField(max_length=16, choices=TargetRole.choices)
    label = models.CharField(max_length=120, blank=True)
    apprise_url = models.CharField(max_length=500)
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["district", "role", "label"]

    def __str__(self) -> str:
        return f"{self.get_role_display()}: {self.label or self.pk}"


class Outbox(models.Model):
    key = models.CharField("idempotency key", max_length=200, unique=True)
    district = models.ForeignKey(
        "roster.District", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    target = models.ForeignKey(
        NotifyTarget, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    url = models.CharField(max_length=500)
    title = models.CharField(max_length=200)
    body = models.TextField()
    alarm_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    status = models.CharField(
        max_length=8, choices=OutboxStatus.choices, default=OutboxStatus.PENDING
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["status", "next_attempt_at"])]

    def __str__(self) -> str:
        return self.key
