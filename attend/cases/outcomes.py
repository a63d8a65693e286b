"""Attendance in the 30/60/90 school days before and after each intervention began.

Not a controlled comparison: students are picked for interventions when attendance is at its
worst, so some improvement is regression to the mean. The director view says so.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from statistics import mean
from typing import Any

from django.utils import timezone

from attend.attendance.queries import student_year
from attend.cases.models import InterventionPlan
from attend.lib.dates import school_year_of

WINDOWS = (30, 60, 90)
COUNTED = ("present", "unexcused", "excused", "partial")


def _rates(days: list[Any], start: dt.date, n: int) -> tuple[float | None, float | None]:
    before = [d for d in days if d.date < start][-n:]
    after = [d for d in days if d.date >= start][:n]

    def rate(chunk: list[Any]) -> float | None:
        return 1 - float(sum(d.absent_fraction for d in chunk)) / len(chunk) if chunk else None

    return rate(before), rate(after)


def plan_outcome(
    plan: InterventionPlan, today: dt.date
) -> dict[int, tuple[float | None, float | None]]:
    days, _ = student_year(plan.case.student, school_year_of(plan.start), today)
    enrolled = [d for d in days if d.status in COUNTED]
    return {n: _rates(enrolled, plan.start, n) for n in WINDOWS}


def outcome_table(
    plans: Iterable[InterventionPlan], today: dt.date | None = None
) -> list[dict[str, Any]]:
    """Mean before/after rate per (type, tier) and window; `n` plans in each row."""
    today = today or timezone.localdate()
    groups: dict[tuple[str, int], list[dict[int, tuple[float | None, float | None]]]] = defaultdict(
        list
    )
    for plan in plans:
        groups[(plan.get_type_display(), plan.tier)].append(plan_outcome(plan, today))
    rows = []
    for (kind, tier), results in sorted(groups.items()):
        row: dict[str, Any] = {"type": kind, "tier": tier, "n": len(results)}
        for n in WINDOWS:
            pairs = [(a, b) for a, b in (r[n] for r in results) if a is not None and b is not None]
            row[f"before_{n}"] = round(100 * mean(a for a, _ in pairs), 1) if pairs else None
            row[f"after_{n}"] = round(100 * mean(b for _, b in pairs), 1) if pairs else None
        rows.append(row)
    return rows
