"""Which truancy classifications a student reaches, on which school day, and what is then due.

`evaluate(rule_set, history, as_of, logged)` is pure: the same inputs give the same list. The
`logged` mapping (step id → dates the step was logged in a case) is how guards see casework:
EC 48262 counts a habitual truant only after a logged conference attempt, for example.
"""

from __future__ import annotations

import bisect
import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from itertools import accumulate

from attend.cases.rules.history import DayRecord, History
from attend.cases.rules.model import Action, Guard, Rule, RuleSet

Logged = Mapping[str, Sequence[dt.date]]


@dataclass(frozen=True)
class DueStep:
    step: str
    label: str
    kind: str  # shall | may
    role: str
    channel: str
    due_on: dt.date | None
    template: str  # template@version in force on the day the step became due
    citation: str
    guards: tuple[str, ...] = ()
    evidence: tuple[str, ...] = ()


@dataclass(frozen=True)
class Reached:
    rule: str
    classification: str
    citation: str
    reached_on: dt.date
    occasions: float  # the metric's value on that day (count, reports, or fraction)
    sequence: int = 1  # 1, 2, 3… for rules that repeat (EC 48261 further reports)
    steps: tuple[DueStep, ...] = ()
    blocked: str = ""  # why the threshold is met but the classification does not count
    exempt: tuple[str, ...] = ()  # exemptions that replaced the steps (TEC 25.0915(a-3))

    @property
    def counts(self) -> bool:
        return not self.blocked


def day_occasions(day: DayRecord, units: Sequence[str], basis: str, day_minutes: int) -> int:
    """Occasions one school day gives; a day matching several units counts once ("or any
    combination thereof", EC 48260) except `period`/`hour`, which count each period/hour."""
    absent = day.unexcused_minutes + (day.excused_minutes if basis == "any" else 0)
    counts = {
        "full_day": int(absent >= day_minutes),
        "over_30_min": int(absent + day.tardy_minutes > 30),
        "part_day": int(absent > 0),
        "period": day.unexcused_periods,
        "hour": (absent + day.tardy_minutes) // 60,
    }
    return max((counts[u] for u in units), default=0)


@dataclass
class _Context:
    rule_set: RuleSet
    history: History
    days: list[DayRecord]
    dates: list[dt.date]
    logged: Logged
    results: dict[str, list[Reached]] = field(default_factory=dict)

    def first_counted(self, rule_id: str) -> dt.date | None:
        return next((r.reached_on for r in self.results.get(rule_id, []) if r.counts), None)

    def report_days(self) -> list[dt.date]:
        reports = [r for rule in self.rule_set.rules if rule.report for r in self.results[rule.id]]
        return sorted(r.reached_on for r in reports if r.counts)


def evaluate(
    rule_set: RuleSet, history: History, as_of: dt.date, logged: Logged | None = None
) -> list[Reached]:
    """1. Keep the enrolled school days up to `as_of`.
    2. Evaluate the rules in file order; each sees what the earlier ones reached (`requires`,
       the `reports` metric, guards dated after a report).
    3. Attach the steps due for each counted classification, dated in school days.
    """
    days = [d for d in history.days if d.date <= as_of]
    ctx = _Context(rule_set, history, days, [d.date for d in days], logged or {})
    for rule in rule_set.rules:
        ctx.results[rule.id] = _evaluate_rule(ctx, rule)
    return sorted(
        (r for found in ctx.results.values() for r in found),
        key=lambda r: (r.reached_on, r.rule, r.sequence),
    )


def _evaluate_rule(ctx: _Context, rule: Rule) -> list[Reached]:
    required = [ctx.first_counted(r) for r in rule.requires]
    if any(day is None for day in required):
        return []
    not_before = max((d for d in required if d is not None), default=dt.date.min)
    if rule.repeat == "each_further":
        return _each_further(ctx, rule, not_before)
    candidates = _candidates(ctx, rule, not_before)
    return _first_guarded(ctx, rule, candidates)


def _per_day(ctx: _Context, rule: Rule) -> list[int]:
    minutes = ctx.rule_set.school_day_minutes
    return [day_occasions(d, rule.units, rule.basis, minutes) for d in ctx.days]


def _window_start(ctx: _Context, rule: Rule, day: dt.date) -> int:
    start = rule.window.start(day, ctx.history.year_start, ctx.history.enrolled_from)
    return bisect.bisect_left(ctx.dates, start)


def _candidates(ctx: _Context, rule: Rule, not_before: dt.date) -> list[tuple[dt.date, float]]:
    """(day, metric value) for every day on or after `not_before` where the threshold is met."""
    if rule.metric == "reports":
        return _report_counts(ctx, rule, not_before)
    values = _fractions(ctx, rule) if rule.metric == "fraction" else _window_counts(ctx, rule)
    pairs = zip(ctx.dates, values, strict=True)
    return [(d, v) for d, v in pairs if d >= not_before and v >= rule.threshold]


def _report_counts(ctx: _Context, rule: Rule, not_before: dt.date) -> list[tuple[dt.date, float]]:
    """Once enough reports are filed the count stays met on every later school day, so a guard
    satisfied later (a conference attempt logged next week) can still complete it."""
    reports = ctx.report_days()
    if len(reports) < rule.threshold:
        return []
    met_on = max(reports[int(rule.threshold) - 1], not_before)
    return [(d, float(bisect.bisect_right(reports, d))) for d in ctx.dates if d >= met_on]


def _window_counts(ctx: _Context, rule: Rule) -> list[float]:
    prefix = [0, *accumulate(_per_day(ctx, rule))]
    return [
        float(prefix[i + 1] - prefix[_window_start(ctx, rule, day)])
        for i, day in enumerate(ctx.dates)
    ]


def _fractions(ctx: _Context, rule: Rule) -> list[float]:
    """Unexcused day-equivalents ÷ enrolled school days in the window (EC 48263.6's 10%)."""
    minutes = ctx.rule_set.school_day_minutes
    share = [
        min(d.unexcused_minutes + (d.excused_minutes if rule.basis == "any" else 0), minutes)
        / minutes
        for d in ctx.days
    ]
    prefix = [0.0, *accumulate(share)]
    values = []
    for i, day in enumerate(ctx.dates):
        start = _window_start(ctx, rule, day)
        values.append((prefix[i + 1] - prefix[start]) / (i + 1 - start))
    return values


def _each_further(ctx: _Context, rule: Rule, after: dt.date) -> list[Reached]:
    """EC 48261: every further occasion after the first report is a report of its own."""
    found: list[Reached] = []
    total = 0
    for day, n in zip(ctx.days, _per_day(ctx, rule), strict=False):
        if day.date <= after or n < rule.threshold:
            continue
        total += n
        found.append(_reached(ctx, rule, day.date, float(total), sequence=len(found) + 1))
    return found


def _first_guarded(
    ctx: _Context, rule: Rule, candidates: list[tuple[dt.date, float]]
) -> list[Reached]:
    """The first candidate day whose guards are met; else one blocked result saying why."""
    if not candidates:
        return []
    for day, value in candidates:
        if not _unmet(ctx, rule.guards, day):
            return [_reached(ctx, rule, day, value)]
    day, value = candidates[0]
    reasons = "; ".join(
        g.reason or f"step {g.step} not logged" for g in _unmet(ctx, rule.guards, day)
    )
    return [Reached(rule.id, rule.classification, rule.citation, day, value, blocked=reasons)]


def _unmet(ctx: _Context, guards: Sequence[Guard], day: dt.date) -> list[Guard]:
    unmet = []
    for guard in guards:
        after = _guard_after(ctx, guard)
        dates = ctx.logged.get(guard.step, ())
        if after is None or not any(after <= d <= day for d in dates):
            unmet.append(guard)
    return unmet


def _guard_after(ctx: _Context, guard: Guard) -> dt.date | None:
    if not guard.after:
        return dt.date.min
    if guard.after == "report":
        reports = ctx.report_days()
        return reports[0] if reports else None
    return ctx.first_counted(guard.after)


def _reached(ctx: _Context, rule: Rule, day: dt.date, value: float, sequence: int = 1) -> Reached:
    exempt = tuple(e for e in rule.exempt_if if e in ctx.history.exemptions)
    actions = rule.exempt_actions if exempt else rule.actions
    steps = tuple(_due(ctx.history, a, day) for a in actions)
    return Reached(
        rule.id, rule.classification, rule.citation, day, value, sequence, steps, exempt=exempt
    )


def _due(history: History, action: Action, day: dt.date) -> DueStep:
    due_on = None
    if action.deadline_school_days is not None:
        due_on = history.add_school_days(day, action.deadline_school_days)
    return DueStep(
        step=action.id,
        label=action.label,
        kind=action.kind,
        role=action.role,
        channel=action.channel,
        due_on=due_on,
        template=action.template_ref(day),
        citation=action.citation,
        guards=action.guards,
        evidence=action.evidence,
    )
