"""Devices that speak for an officer: the app (bearer token), Traccar Client, DC-09 badges."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from attend.devices.choices import DeviceKind


class Device(models.Model):
    kind = models.CharField(max_length=8, choices=DeviceKind.choices)
    officer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="devices"
    )
    label = models.CharField(max_length=120, blank=True)
    # SHA-256 hex of the app's bearer token; the token itself is shown once and never stored.
    token_hash = models.CharField(max_length=64, null=True, blank=True, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_seen_at = models.DateTimeField(null=True, blank=True)
    battery = models.FloatField(null=True, blank=True)
    low_battery = models.BooleanField(default=False)
    # Traccar Client's device identifier (the `id` parameter).
    osmand_id = models.CharField(max_length=64, null=True, blank=True, unique=True)
    # SIA DC-09: account, receiver and line prefix as sent by the panel; AES key if encrypted.
    dc09_account = models.CharField(max_length=16, blank=True, db_index=True)
    dc09_receiver = models.CharField(max_length=8, blank=True)
    dc09_line = models.CharField(max_length=8, blank=True)
    dc09_key_hex = models.CharField(max_length=64, blank=True)
    supervision_seconds = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["officer", "kind", "label"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.label or self.pk}"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class ApiRequest(models.Model):
    """A request id seen from a device: replay protection and the answer to give a retry."""

    device = models.ForeignKey(Device, on_delete=models.CASCADE, related_name="+")
    request_id = models.CharField(max_length=64)
    at = models.DateTimeField(default=timezone.now, db_index=True)
    result = models.JSONField(default=dict, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["device", "request_id"], name="unique_device_request")
        ]
