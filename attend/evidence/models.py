"""Audio evidence and its append-only, hash-chained chain of custody."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from attend.evidence.choices import CustodyKind


class AudioChunk(models.Model):
    """One chunk of an alarm's audio, stored content-addressed under its SHA-256."""

    alarm = models.ForeignKey("safety.Alarm", on_delete=models.PROTECT, related_name="audio_chunks")
    device = models.ForeignKey(
        "devices.Device", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    index = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64, db_index=True)
    size = models.PositiveIntegerField()
    content_type = models.CharField(max_length=60, default="audio/webm")
    storage_name = models.CharField(max_length=200)
    # The SHA-256 the device sent with the chunk. When it differs from the bytes received the
    # chunk is still kept (it may be the only recording there is) and flagged, never fixed.
    device_sha256 = models.CharField(max_length=64, blank=True)
    hash_mismatch = models.BooleanField(default=False)
    received_at = models.DateTimeField(default=timezone.now)
    deleted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["alarm", "index"]
        constraints = [
            models.UniqueConstraint(fields=["alarm", "index"], name="unique_chunk_index")
        ]


class LegalHold(models.Model):
    alarm = models.ForeignKey("safety.Alarm", on_delete=models.PROTECT, related_name="holds")
    placed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    reason = models.CharField(max_length=300)
    placed_at = models.DateTimeField(default=timezone.now)
    released_at = models.DateTimeField(null=True, blank=True)


class CustodyEvent(models.Model):
    """Append-only; `hash` = SHA-256 over the canonical row including `prev_hash`."""

    at = models.DateTimeField(default=timezone.now)
    kind = models.CharField(max_length=10, choices=CustodyKind.choices)
    alarm_id = models.BigIntegerField(db_index=True)
    chunk = models.ForeignKey(
        AudioChunk, null=True, blank=True, on_delete=models.PROTECT, related_name="custody"
    )
    sha256 = models.CharField(max_length=64, blank=True)
    actor = models.CharField(max_length=150, blank=True)
    detail = models.JSONField(default=dict, blank=True)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64, unique=True)

    class Meta:
        ordering = ["pk"]


class CustodyHead(models.Model):
    """One row locked while appending so two writers never fork the chain."""

    name = models.CharField(max_length=20, primary_key=True, default="main")
    last_hash = models.CharField(max_length=64, default="0" * 64)
