"""The director view: caseload balance, time to first contact and to close, root causes,
and attendance before/after interventions (outcomes)."""

from __future__ import annotations

import datetime as dt
from statistics import median
from typing import Any

from django.db.models import Count, Q

from attend.accounts.choices import Role
from attend.accounts.models import User
from attend.cases.models import InterventionPlan, RootCause
from attend.cases.outcomes import outcome_table


def _days(pairs: list[tuple[dt.datetime, dt.datetime | None]]) -> float | None:
    spans = [(b - a).total_seconds() / 86400 for a, b in pairs if b is not None]
    return round(median(spans), 1) if spans else None


def summary(user: User, cases: Any) -> dict[str, Any]:
    officers = User.objects.filter(role=Role.OFFICER, district=user.district_id).annotate(
        open_cases=Count(
            "owned_cases", filter=Q(owned_cases__in=cases) & ~Q(owned_cases__status="closed")
        ),
    )
    return {
        "officers": officers,
        "open_cases": cases.exclude(status="closed").select_related("student", "owner")[:200],
        "first_contact_days": _days(list(cases.values_list("opened_at", "first_contact_at"))),
        "close_days": _days(list(cases.values_list("opened_at", "closed_at"))),
        "by_cause": RootCause.objects.filter(case__in=cases)
        .values("group", "cause")
        .annotate(n=Count("case", distinct=True))
        .order_by("-n"),
        "outcomes": outcome_table(InterventionPlan.objects.filter(case__in=cases)),
    }
