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
from .schema import EXCUSED, SEVERITY, UNEXCUSED
from .settings import MICRO, Policy

__all__ = [
    "METRIC_COLUMNS",
    "absence_days",
    "keyed_metrics",
    "status",
    "streaks",
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


def streaks(prep: Prepared) -> ir.Table:
    """Runs of consecutive absence days per student (gaps and islands on the enrolled-day number).

    Columns: `row_key`, `run_start` (e_idx of the first day), `last_e_idx`, `length`.
    """
    absences = absence_days(prep)
    window = ibis.window(group_by=absences.row_key, order_by=absences.e_idx)
    island = absences.mutate(island=absences.e_idx - ibis.row_number().over(window))
    return island.group_by(["row_key", "island"]).aggregate(
        run_start=island.e_idx.min(),
        last_e_idx=island.e_idx.max(),
        length=island.count(),
    )


def _counts(prep: Prepared) -> ir.Table:
    bounds = year_bounds(prep.day_index).filter(lambda t: t.first_day <= prep.as_of)
    totals = prep.totals.join(bounds.select(*YEAR_KEYS), list(YEAR_KEYS))
    days = prep.days
    sums = days.group_by("row_key").aggregate(
        absent=days.absent.sum(),
        excused=days.absent.sum(where=days.absence_severity == SEVERITY[EXCUSED]),
        unexcused=days.absent.sum(where=days.absence_severity == SEVERITY[UNEXCUSED]),
        tardy_days=days.tardy.ifelse(1, 0).sum(),
        known_days=days.count(),
    )
    runs = _streak_summary(prep)
    joined = totals.left_join(sums, "row_key").left_join(runs, "row_key")
    return joined.select(
        "row_key",
        *KEYS,
        "cal_days",
        "planned_days",
        known_days=joined.known_days.fill_null(0),
        absent=joined.absent.fill_null(0),
        excused=joined.excused.fill_null(0),
        unexcused=joined.unexcused.fill_null(0),
        tardy_days=joined.tardy_days.fill_null(0),
        longest=joined.longest.fill_null(0),
        current=joined.current.fill_null(0),
    )


def _streak_summary(prep: Prepared) -> ir.Table:
    runs = streaks(prep).join(prep.totals.select("row_key", "cal_days"), "row_key")
    return runs.group_by("row_key").aggregate(
        longest=runs.length.max(),
        current=runs.length.max(where=runs.last_e_idx == runs.cal_days),
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
