"""Escalation policies: which one applies, and how a frozen policy advances."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.conf import settings

from attend.safety.choices import AlarmKind, StepAction
from attend.safety.models import EscalationPolicy

# Used when a district has configured nothing: a safe protocol, never an empty one.
DEFAULT_POLICY: list[dict[str, Any]] = [
    {"wait": 0, "action": StepAction.NOTIFY_OPERATORS.value},
    {"wait": 30, "action": StepAction.NOTIFY_OFFICER.value},
    {"wait": 60, "action": StepAction.NOTIFY_SUPERVISORS.value},
    {"wait": 120, "action": StepAction.NOTIFY_COLLEAGUES.value},
    {"wait": 180, "action": StepAction.NOTIFY_EMERGENCY_CONTACT.value},
    {"wait": 60, "action": StepAction.DISPATCH.value},
]
DEFAULT_NAME = "Built-in default"


def review_seconds() -> int:
    return int(getattr(settings, "SAFETY_REVIEW_SECONDS", 900))


def max_reviews() -> int:
    return int(getattr(settings, "SAFETY_MAX_REVIEWS", 4))


def policy_for(*, district_id: int, kind: AlarmKind | str) -> tuple[str, list[dict[str, Any]]]:
    """The district's policy for this kind, else its default, else the built-in one."""
    policies = EscalationPolicy.objects.filter(district_id=district_id, kind__in=[kind, ""])
    chosen = sorted(policies.prefetch_related("steps"), key=lambda p: p.kind != kind)
    for policy in chosen:
        steps = policy.frozen()
        if steps:
            return policy.name, steps
    return DEFAULT_NAME, [dict(s) for s in DEFAULT_POLICY]


@dataclass(frozen=True)
class Advance:
    step_index: int
    repeats_done: int
    reviews_done: int
    next_step_at: dt.datetime | None


def advance(
    *, policy: list[dict[str, Any]], index: int, repeats: int, reviews: int, now: dt.datetime
) -> Advance:
    """Where a frozen policy goes after running step `index` at `now`.

    1. A `repeat` step with repeats left jumps back to the first step.
    2. Otherwise the next step follows; past the last step come bounded review reminders.
    3. When the reminders are used up there is no next step: the stuck sweep takes over.
    """
    if index < len(policy):
        step = policy[index]
        if step["action"] == StepAction.REPEAT and repeats < int(step.get("times", 0)):
            return Advance(0, repeats + 1, reviews, now + dt.timedelta(seconds=policy[0]["wait"]))
        index += 1
    else:
        reviews += 1
    if index < len(policy):
        return Advance(index, repeats, reviews, now + dt.timedelta(seconds=policy[index]["wait"]))
    if reviews < max_reviews():
        return Advance(index, repeats, reviews, now + dt.timedelta(seconds=review_seconds()))
    return Advance(index, repeats, reviews, None)
