"""Statuses and codes of the early-warning loop (RISK.md "Human review loop")."""

from __future__ import annotations

from django.db import models


class RiskLabel(models.TextChoices):
    """What a model predicts: chronic within its horizon of school days, or by year end."""

    WITHIN = "label", "Chronic within the horizon"
    YEAR_END = "label_year_end", "Chronic by the end of the school year"


class ModelStatus(models.TextChoices):
    TRAINED = "trained", "Trained"
    ACTIVE = "active", "Active"
    RETIRED = "retired", "Retired"


# trained → active → retired; a retired version may be brought back.
MODEL_MOVES = {
    ModelStatus.TRAINED: {ModelStatus.ACTIVE, ModelStatus.RETIRED},
    ModelStatus.ACTIVE: {ModelStatus.RETIRED},
    ModelStatus.RETIRED: {ModelStatus.ACTIVE},
}


class FlagStatus(models.TextChoices):
    PENDING = "pending", "Awaiting review"
    CONFIRMED = "confirmed", "Confirmed"
    DISMISSED = "dismissed", "Dismissed"
    EXPIRED = "expired", "No longer flagged"


# A pending flag is decided or expires; a decision can be changed once it turns out wrong.
FLAG_MOVES = {
    FlagStatus.PENDING: {FlagStatus.CONFIRMED, FlagStatus.DISMISSED, FlagStatus.EXPIRED},
    FlagStatus.DISMISSED: {FlagStatus.CONFIRMED},
    FlagStatus.CONFIRMED: set(),
    FlagStatus.EXPIRED: set(),
}


class DismissReason(models.TextChoices):
    NOT_AT_RISK = "not_at_risk", "Not at risk"
    ALREADY_SERVED = "already_served", "Already served"
    DATA_ERROR = "data_error", "Data error"
    OTHER = "other", "Other"
