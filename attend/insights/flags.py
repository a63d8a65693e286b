"""Reads of the early-warning loop: the watch-list flags and the live misidentification rate.

Always behind the reader's scope: flags through `FlagReview.objects.for_user` (the students
the user may see), the model page's table through the schools they may look at — officers
see only the flags on their own watch list.
"""

from __future__ import annotations

import datetime as dt
from bisect import bisect_right
from collections import defaultdict
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from attend.accounts.choices import Role
from attend.insights.choices import DismissReason, FlagStatus, ModelStatus, RiskLabel
from attend.insights.models import FlagReview, InsightsRun, ModelVersion, StudentSnapshot
from attend.lib.dates import school_year_of
from attend.roster.models import CalendarDate
from attend.roster.queries import schools_for_user

if TYPE_CHECKING:
    from attend.accounts.models import User

WATCH_LIMIT = 100
# Analysts see no student records: a school-month with fewer flags shows counts, not rates.
SMALL_CELL = 10


def watch_flags(user: User, limit: int = WATCH_LIMIT) -> list[FlagReview]:
    """Pending flags of active models for students in the user's scope, highest risk first."""
    pending = FlagReview.objects.for_user(user).filter(
        status=FlagStatus.PENDING, model_version__status=ModelStatus.ACTIVE
    )
    return list(
        pending.select_related("student", "school", "model_version", "score").order_by(
            "school__name", "score__rank_school", "pk"
        )[:limit]
    )


def flags_for_page(version: ModelVersion, user: User) -> Any:
    """The flags a reader of the model page may count: an officer's own watch list, or the
    flags at the schools a supervisor, analyst or admin may look at."""
    reviews = FlagReview.objects.filter(model_version=version)
    if user.role == Role.OFFICER:
        return reviews.for_user(user)
    return reviews.filter(school__in=schools_for_user(user))


@dataclass
class Cell:
    """One school × month of flags (month of the first flag) and what became of them."""

    school: str
    month: str
    flags: int = 0
    reviewed: int = 0
    not_at_risk: int = 0
    resolved: int = 0
    never_chronic: int = 0
    pending_outcome: int = 0
    suppressed: bool = False

    @property
    def dismissed_rate(self) -> float | None:
        return self.not_at_risk / self.reviewed if self.reviewed and not self.suppressed else None

    @property
    def never_chronic_rate(self) -> float | None:
        if not self.resolved or self.suppressed:
            return None
        return self.never_chronic / self.resolved


def misidentification(version: ModelVersion, user: User) -> list[Cell]:
    """Per school and month: the share of reviewed flags dismissed as not at risk, and the
    share of flagged students whose outcome window has passed without becoming chronic.

    1. The flags the reader may count, with school and first-flag date.
    2. Each flag's outcome window: the next `horizon` school days of the school's calendar
       (or the rest of the year for a year-end model).
    3. Outcome from StudentSnapshot history: chronic on a snapshot inside the window =
       became chronic; otherwise "never chronic" once a snapshot run is past the window's
       end, and still open before that.
    """
    reviews = list(
        flags_for_page(version, user).values(
            "student_id", "school_id", "school__name", "flagged_on", "status", "dismiss_reason"
        )
    )
    outcome = _Outcomes(version, reviews)
    cells: dict[tuple[str, str], Cell] = {}
    for r in reviews:
        key = (r["school__name"], r["flagged_on"].strftime("%Y-%m"))
        cell = cells.setdefault(key, Cell(*key))
        cell.flags += 1
        if r["status"] in (FlagStatus.CONFIRMED, FlagStatus.DISMISSED):
            cell.reviewed += 1
        dismissed = r["status"] == FlagStatus.DISMISSED
        cell.not_at_risk += dismissed and r["dismiss_reason"] == DismissReason.NOT_AT_RISK
        became = outcome.of(r["student_id"], r["school_id"], r["flagged_on"])
        cell.resolved += became is not None
        cell.never_chronic += became is False
        cell.pending_outcome += became is None
    if user.role == Role.ANALYST:
        for cell in cells.values():
            cell.suppressed = cell.flags < SMALL_CELL
    return [cells[key] for key in sorted(cells)]


class _Outcomes:
    """Did a flagged student become chronic in the flag's window? True, False, or None
    (not known yet)."""

    def __init__(self, version: ModelVersion, reviews: list[dict[str, Any]]) -> None:
        self.version = version
        students = {r["student_id"] for r in reviews}
        first = min((r["flagged_on"] for r in reviews), default=dt.date.max)
        chronic = StudentSnapshot.objects.filter(
            student_id__in=students, chronic=True, as_of__gt=first
        ).values_list("student_id", "as_of")
        self.chronic: dict[int, list[dt.date]] = defaultdict(list)
        for student_id, as_of in chronic:
            self.chronic[student_id].append(as_of)
        latest = InsightsRun.objects.order_by("-as_of").values_list("as_of", flat=True).first()
        self.known_through = latest or dt.date.min
        self.days = _school_days({r["school_id"] for r in reviews}, reviews)

    def window_end(self, school_id: int, flagged_on: dt.date) -> dt.date:
        days = self.days.get((school_id, school_year_of(flagged_on)), [])
        if not days:
            return flagged_on
        if self.version.label == RiskLabel.YEAR_END:
            return days[-1]
        after = bisect_right(days, flagged_on)
        return days[min(len(days) - 1, after + self.version.horizon_days - 1)]

    def of(self, student_id: int, school_id: int, flagged_on: dt.date) -> bool | None:
        end = self.window_end(school_id, flagged_on)
        if any(flagged_on < day <= end for day in self.chronic.get(student_id, [])):
            return True
        return False if self.known_through >= end else None


def _school_days(
    schools: set[int], reviews: list[dict[str, Any]]
) -> dict[tuple[int, int], list[dt.date]]:
    years = {school_year_of(r["flagged_on"]) for r in reviews}
    rows = CalendarDate.objects.filter(
        calendar__school_id__in=schools, calendar__school_year__in=years, is_school_day=True
    ).values_list("calendar__school_id", "calendar__school_year", "date")
    days: dict[tuple[int, int], set[dt.date]] = defaultdict(set)
    for school_id, year, day in rows:
        days[(school_id, year)].add(day)
    return {key: sorted(value) for key, value in days.items()}


def totals(cells: list[Cell], *, suppress: bool = False) -> Cell:
    """All the reader's cells together (small totals suppressed for analysts too)."""
    total = Cell("All", "")
    for cell in cells:
        for name in (
            "flags",
            "reviewed",
            "not_at_risk",
            "resolved",
            "never_chronic",
            "pending_outcome",
        ):
            setattr(total, name, getattr(total, name) + getattr(cell, name))
    total.suppressed = suppress and total.flags < SMALL_CELL
    return total
