"""The officer's worklists (CASEWORK.md): watch, tier 2, tier 3 / legal, needs action today."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import Q

from attend.accounts.choices import Role
from attend.accounts.models import User
from attend.cases.choices import StepStatus, TaskStatus
from attend.cases.models import Case, LegalStep, Task
from attend.cases.queries import watch_students
from attend.insights.choices import DismissReason
from attend.insights.flags import watch_flags
from attend.roster.models import Guardian

NEW_CROSSING_DAYS = 7


def _mine(user: User) -> Any:
    cases = Case.objects.for_user(user).open().select_related("student", "owner")
    return cases.filter(owner=user) if user.role == Role.OFFICER else cases


def needs_action_today(user: User, cases: Any, today: dt.date) -> dict[str, Any]:
    steps = LegalStep.objects.filter(case__in=cases).select_related("case__student")
    return {
        "due_steps": steps.filter(status=StepStatus.DUE, due_on__lte=today).order_by("due_on"),
        "review_steps": steps.filter(status=StepStatus.REVIEW),
        "new_crossings": steps.filter(
            reached_on__gte=today - dt.timedelta(days=NEW_CROSSING_DAYS), sequence=1
        )
        .order_by("-reached_on")
        .distinct(),
        "overdue_tasks": Task.objects.filter(
            case__in=cases, status=TaskStatus.OPEN, due_on__lte=today
        ).select_related("case__student"),
        "lost_contact": Guardian.objects.filter(
            contact_valid=False, student_links__student__cases__in=cases
        ).distinct(),
    }


def worklists(user: User, today: dt.date) -> dict[str, Any]:
    mine = _mine(user)
    year = user.district.current_school_year if user.district else today.year
    with_case = Case.objects.open().values("student_id")
    return {
        # Until the insights engine's flags land: ≥ 3 unexcused ledger absences this year.
        "watch": watch_students(user, year, today).exclude(pk__in=with_case)[:100],
        # The early-warning model's flags awaiting review (insights.flags), in the user's scope.
        "risk": watch_flags(user),
        "dismiss_reasons": DismissReason.choices,
        "tier2": mine.filter(tier=2),
        "tier3": mine.filter(Q(tier=3) | Q(legal_steps__status=StepStatus.DUE)).distinct(),
        "today": needs_action_today(user, mine, today),
        "officers": User.objects.filter(role=Role.OFFICER, district=user.district_id),
    }
