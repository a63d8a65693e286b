from __future__ import annotations

from django.db import models


class OutboxStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed"


class TargetRole(models.TextChoices):
    OPERATORS = "operators", "Monitoring operators"
    SUPERVISORS = "supervisors", "Supervisors"
    COLLEAGUES = "colleagues", "Colleagues on call"
    DISPATCH = "dispatch", "Dispatch desk"
