"""The shape of a rule set (CASEWORK.md "Legal workflow as data"), as frozen dataclasses.

A rule set is loaded once and never changes while in use: a case records `rule@version`, so
the same history always gives the same answer for the same rule set version.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

# Counting units: which unexcused time on one school day is an "occasion".
UNITS = frozenset({"full_day", "over_30_min", "part_day", "period", "hour"})
BASES = frozenset({"unexcused", "any"})
WINDOWS = frozenset({"school_year", "rolling_weeks", "rolling_months", "since_enrollment"})
# occasions: count of occasions in the window; fraction: unexcused day-equivalents over
# enrolled school days in the window; reports: classifications marked `report` so far.
METRICS = frozenset({"occasions", "fraction", "reports"})
REPEATS = frozenset({"once", "each_further"})
KINDS = frozenset({"shall", "may"})


@dataclass(frozen=True)
class TemplateVersion:
    """A notice's content version, chosen by the date the step becomes due."""

    version: str
    valid_from: dt.date | None = None
    valid_to: dt.date | None = None

    def covers(self, day: dt.date) -> bool:
        after_start = self.valid_from is None or day >= self.valid_from
        return after_start and (self.valid_to is None or day <= self.valid_to)


@dataclass(frozen=True)
class Action:
    id: str
    label: str
    kind: str  # shall | may
    role: str
    channel: str
    deadline_school_days: int | None = None
    template: str = ""
    template_versions: tuple[TemplateVersion, ...] = ()
    # Step ids that must be logged (completed) before this step may be completed.
    guards: tuple[str, ...] = ()
    evidence: tuple[str, ...] = ()
    citation: str = ""

    def template_ref(self, day: dt.date) -> str:
        """`template@version` in force on `day` ("" when the step sends nothing)."""
        if not self.template:
            return ""
        for candidate in self.template_versions:
            if candidate.covers(day):
                return f"{self.template}@{candidate.version}"
        return self.template


@dataclass(frozen=True)
class Window:
    kind: str
    size: int = 0  # weeks or months for the rolling kinds

    def start(self, day: dt.date, year_start: dt.date, enrolled_from: dt.date) -> dt.date:
        """First calendar date inside the window that ends on `day` (inclusive)."""
        if self.kind == "rolling_weeks":
            return max(year_start, day - dt.timedelta(days=7 * self.size - 1))
        if self.kind == "rolling_months":
            return max(year_start, _months_back(day, self.size) + dt.timedelta(days=1))
        if self.kind == "since_enrollment":
            return max(year_start, enrolled_from)
        return year_start


def _months_back(day: dt.date, months: int) -> dt.date:
    month0 = day.month - 1 - months
    year, month = day.year + month0 // 12, month0 % 12 + 1
    for last in (31, 30, 29, 28):
        try:
            return dt.date(year, month, min(day.day, last))
        except ValueError:
            continue
    raise ValueError(day)  # pragma: no cover - every month has 28 days


@dataclass(frozen=True)
class Guard:
    """A step that must be logged before a classification counts (EC 48262's conference).

    `after` names a classification: the step must be logged on or after the first day that
    classification (or any `report` classification, for "report") was reached.
    """

    step: str
    after: str = ""
    reason: str = ""


@dataclass(frozen=True)
class Rule:
    id: str
    classification: str
    citation: str
    units: tuple[str, ...]
    basis: str
    window: Window
    metric: str
    threshold: float
    repeat: str = "once"
    report: bool = False
    requires: tuple[str, ...] = ()
    guards: tuple[Guard, ...] = ()
    exempt_if: tuple[str, ...] = ()
    exempt_actions: tuple[Action, ...] = ()
    actions: tuple[Action, ...] = ()
    evidence: tuple[str, ...] = ()
    note: str = ""


@dataclass(frozen=True)
class RuleSet:
    jurisdiction: str
    name: str
    version: str
    effective_from: dt.date
    effective_to: dt.date | None
    rules: tuple[Rule, ...]
    school_day_minutes: int = 360
    sources: tuple[str, ...] = ()

    @property
    def ref(self) -> str:
        return f"{self.jurisdiction}@{self.version}"

    def in_force(self, day: dt.date) -> bool:
        return self.effective_from <= day and (
            self.effective_to is None or day <= self.effective_to
        )

    def rule(self, rule_id: str) -> Rule:
        return next(r for r in self.rules if r.id == rule_id)

    def action(self, step_id: str) -> Action | None:
        for rule in self.rules:
            for action in (*rule.actions, *rule.exempt_actions):
                if action.id == step_id:
                    return action
        return None
