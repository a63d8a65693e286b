from __future__ import annotations

from django.db import models


class CustodyKind(models.TextChoices):
    RECEIVED = "received", "Received"
    STORED = "stored", "Stored"
    PLAYED = "played", "Viewed / played"
    EXPORTED = "exported", "Exported"
    HOLD = "hold", "Legal hold placed"
    RELEASED = "released", "Legal hold released"
    DELETED = "deleted", "Deleted (retention)"
