"""Per-student metrics: one row per student × school × school year (ATTENDANCE-RULES table).

All threshold comparisons are made on integers (micro-days and the policy's fractions), so
"exactly 10.00 % absent" is chronic and 90.00 % attendance is `moderate_chronic`, never the
victim of a float rounding.
"""

from __future__ import annotations

from fractions import Fraction

import ibis
import ibis.expr.types as ir

from .days import KEYS, YEAR_KEYS, year_bounds
from .prepare import Prepared
from .resolve import positive_reporting
from .settings import MICRO, Policy

__all__ = [
    "METRIC_COLUMNS",
    "absence_days",
    "keyed_metrics",
    "status",
    "student_metrics",
]

METRIC_COLUMNS = (
    "student_id",
    "school_id",
    "school_year",
    "as_of",
    "enrolled_days",
    "absent_days",
    "excused_absent_days",
    "unexcused_absent_days",
    "tardy_days",
    "present_days",
    "attendance_rate",
    "eligible",
    "chronic",
    "tier",
    "longest_absence_streak",
    "current_absence_streak",
    "absence_budget",
)


def student_metrics(prep: Prepared, keyed: ir.Table | None = None) -> ir.Table:
    """The metrics table, columns exactly `METRIC_COLUMNS` (from `keyed_metrics` if given)."""
    keyed = keyed_metrics(prep) if keyed is None else keyed
    return keyed.select(*METRIC_COLUMNS).order_by(["school_year", "school_id", "student_id"])


def keyed_metrics(prep: Prepared) -> ir.Table:
    """The metrics with `row_key` (for the stages that join them back to enrolled days).

    1. Start from each student's enrolled-day totals (rows exist for every enrollment that
       overlaps a school year which has started by `as_of`).
    2. Add the sums of the resolved event days, then streaks (all joined on `row_key`).
    3. Derive the ratios and flags in exact arithmetic.
    """
    return _derive(_counts(prep), prep.policy, prep)


def absence_days(prep: Prepared) -> ir.Table:
    """Resolved enrolled days that count as "an absence" (absent ≥ half a day by default)."""
    half = prep.policy.micro(prep.policy.absence_day_min_fraction)
    return prep.days.filter(prep.days.absent >= half)


def _counts(prep: Prepared) -> ir.Table:
    bounds = year_bounds(prep.day_index).filter(lambda t: t.first_day <= prep.as_of)
    totals = prep.totals.join(bounds.select(*YEAR_KEYS), list(YEAR_KEYS))
    runs = prep.runs.group_by("row_key").aggregate(
        longest=prep.runs.length.max(),
        current=prep.runs.length.max(where=prep.runs.current),
    )
    joined = totals.left_join(prep.summary, "row_key").left_join(runs, "row_key")
    sums = ("known_days", "absent", "excused", "unexcused", "tardy_days", "longest", "current")
    return joined.select(
        "row_key",
        *KEYS,
        "cal_days",
        "planned_days",
        **{name: joined[name].fill_null(0) for name in sums},
    )


def status(
    enrolled: ir.IntegerValue, absent: ir.IntegerValue, policy: Policy
) -> dict[str, ir.Value]:
    """`eligible`, `chronic` and `tier` from enrolled days and absent micro-days, exactly."""
    enrolled_micro = enrolled * MICRO
    present = enrolled_micro - absent
    eligible = enrolled >= policy.eligibility_min_days
    if policy.eligibility_requires_present_day:
        eligible = eligible & (present > 0)
    chronic = _at_least(absent, enrolled_micro, policy.chronic_threshold)
    return {
        "eligible": eligible,
        "chronic": eligible.ifelse(chronic, ibis.null("boolean")),
        "tier": eligible.ifelse(_tier(present, enrolled_micro, policy), ibis.null("string")),
    }


def _derive(base: ir.Table, policy: Policy, prep: Prepared) -> ir.Table:
    # Positive reporting: only days with a reported status count as enrolled (rule 5).
    enrolled = positive_reporting(base.school_id, policy).ifelse(base.known_days, base.cal_days)
    enrolled_micro = enrolled * MICRO
    present = enrolled_micro - base.absent
    flags = status(enrolled, base.absent, policy)
    return base.select(
        "row_key",
        "student_id",
        "school_id",
        "school_year",
        as_of=ibis.literal(prep.as_of, type="date"),
        enrolled_days=enrolled.cast("int64"),
        absent_days=_days(base.absent),
        excused_absent_days=_days(base.excused),
        unexcused_absent_days=_days(base.unexcused),
        tardy_days=base.tardy_days.cast("int64"),
        present_days=_days(present),
        attendance_rate=(enrolled > 0).ifelse(
            present.cast("float64") / enrolled_micro.cast("float64"), ibis.null("float64")
        ),
        eligible=flags["eligible"],
        chronic=flags["chronic"],
        tier=flags["tier"],
        longest_absence_streak=base.longest.cast("int64"),
        current_absence_streak=base.current.cast("int64"),
        absence_budget=_budget(base.planned_days, base.absent, policy.chronic_threshold),
    )


def _days(micro: ir.IntegerValue) -> ir.FloatingValue:
    """Micro-days as a float; exact to the sixth decimal, which is all a duration carries."""
    return micro.cast("float64") / MICRO


def _at_least(part: ir.IntegerValue, whole: ir.IntegerValue, ratio: Fraction) -> ir.BooleanValue:
    """`part >= ratio × whole`, exactly."""
    return part * ratio.denominator >= whole * ratio.numerator


def _above(part: ir.IntegerValue, whole: ir.IntegerValue, ratio: Fraction) -> ir.BooleanValue:
    """`part > ratio × whole`, exactly."""
    return part * ratio.denominator > whole * ratio.numerator


def _tier(present: ir.IntegerValue, whole: ir.IntegerValue, policy: Policy) -> ir.StringValue:
    return ibis.cases(
        (_above(present, whole, policy.tier_satisfactory_above), "satisfactory"),
        (_above(present, whole, policy.tier_at_risk_above), "at_risk"),
        (_above(present, whole, policy.tier_moderate_above), "moderate_chronic"),
        else_="severe_chronic",
    )


def _budget(planned: ir.IntegerValue, absent: ir.IntegerValue, ratio: Fraction) -> ir.FloatingValue:
    """`floor(ratio × planned_days) − absent_days`, the floor taken on integers."""
    allowed = (planned * ratio.numerator) // ratio.denominator
    return _days(allowed * MICRO - absent)
