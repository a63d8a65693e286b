"""The seven ATTENDANCE-RULES patterns, each a flag with the dates that caused it.

"An absence" (counted by the count-based patterns) is an enrolled day whose absent fraction is at
least `policy.absence_day_min_fraction` (half a day by default), the same rule as streaks. The
rate-based patterns (sudden drop, on track to become chronic) use the exact fractions and give
as evidence every day with any absence. "The last N school days" are the student's last N
counted enrolled days. Every threshold is a `Policy` setting.

Each detector first finds its hits from counts (one pass over the event days, integer keys),
then collects the evidence dates of the hits only.
"""

from __future__ import annotations

from collections.abc import Callable

import ibis
import ibis.expr.types as ir

from .metrics import absence_days, streaks
from .prepare import Prepared
from .settings import MICRO

__all__ = ["FLAG_COLUMNS", "PATTERNS", "flags"]

PATTERNS = (
    "sudden_drop",
    "streak",
    "weekday_concentration",
    "around_breaks",
    "period_skipping",
    "growing_tardiness",
    "on_track_to_chronic",
)
FLAG_COLUMNS = (
    "student_id",
    "school_id",
    "school_year",
    "pattern",
    "detected_on",
    "evidence_dates",
    "detail",
    "projected_crossing_date",
)
Where = Callable[[ir.Table], ir.BooleanValue]


def flags(prep: Prepared) -> ir.Table:
    """All flags, one row per student × school × year × pattern, columns `FLAG_COLUMNS`."""
    detectors = (
        sudden_drop,
        streak,
        weekday_concentration,
        around_breaks,
        period_skipping,
        growing_tardiness,
        on_track_to_chronic,
    )
    tables = [detector(prep) for detector in detectors]
    return ibis.union(*tables).order_by(["school_year", "school_id", "student_id", "pattern"])


def sudden_drop(prep: Prepared) -> ir.Table:
    """Attendance over the last N days at least P points below the rate before, with ≥ K
    absences in the window (and at least `sudden_drop_min_prior_days` days before it)."""
    policy, width = prep.policy, prep.policy.recent_window_days
    days = _with_totals(prep, prep.days)
    recent = days.e_idx > days.cal_days - width
    half = policy.micro(policy.absence_day_min_fraction)
    sums = days.group_by(["row_key", "cal_days"]).aggregate(
        recent_absent=days.absent.sum(where=recent),
        earlier_absent=days.absent.sum(where=~recent),
        n=days.count(where=recent & (days.absent >= half)),
    )
    s = sums.mutate(
        recent_absent=sums.recent_absent.fill_null(0),
        earlier_absent=sums.earlier_absent.fill_null(0),
        before=sums.cal_days - width,
    )
    points = policy.sudden_drop_points
    drop = (s.recent_absent * s.before - s.earlier_absent * width) * points.denominator
    hit = s.filter(
        s.cal_days >= width + policy.sudden_drop_min_prior_days,
        s.n >= policy.sudden_drop_min_absences,
        drop >= points.numerator * width * s.before * MICRO,
    )
    recent_rate = _percent(width * MICRO - hit.recent_absent, width * MICRO)
    earlier_rate = _percent(hit.before * MICRO - hit.earlier_absent, hit.before * MICRO)
    detail = _text(
        hit.n,
        f" absences in the last {width} school days; attendance ",
        recent_rate,
        "% against ",
        earlier_rate,
        "% before",
    )
    evidence = _evidence(
        prep, hit, prep.days, lambda t: (t.e_idx > t.cal_days - width) & (t.absent > 0)
    )
    return _flag(prep, hit, "sudden_drop", evidence, detail)


def streak(prep: Prepared) -> ir.Table:
    """The current absence streak is at least `streak_min_days` school days long."""
    runs = streaks(prep).join(prep.totals.select("row_key", "cal_days"), "row_key")
    hit = runs.filter(runs.last_e_idx == runs.cal_days, runs.length >= prep.policy.streak_min_days)
    detail = _text("absent the last ", hit.length, " school days in a row")
    evidence = _evidence(prep, hit, absence_days(prep), lambda t: t.e_idx >= t.run_start)
    return _flag(prep, hit, "streak", evidence, detail)


def weekday_concentration(prep: Prepared) -> ir.Table:
    """At least K absences, and at least S of them on Mondays and Fridays."""
    policy = prep.policy
    absences = absence_days(prep)
    sums = absences.group_by("row_key").aggregate(
        total=absences.count(), edges=absences.count(where=_monday_or_friday(absences))
    )
    share = policy.weekday_min_share
    hit = sums.filter(
        sums.total >= policy.weekday_min_absences,
        sums.edges * share.denominator >= sums.total * share.numerator,
    )
    detail = _text(hit.edges, " of ", hit.total, " absences on Mondays or Fridays")
    evidence = _evidence(prep, hit, absences, _monday_or_friday)
    return _flag(prep, hit, "weekday_concentration", evidence, detail)


def around_breaks(prep: Prepared) -> ir.Table:
    """At least K absences on the school day just before or just after a break (a run of at
    least `break_min_calendar_days` calendar days without school between two school days)."""
    absences = absence_days(prep)
    sums = absences.group_by("row_key").aggregate(n=absences.count(where=absences.edge))
    hit = sums.filter(sums.n >= prep.policy.break_min_absences)
    detail = _text(hit.n, " absences on the school day before or after a break")
    evidence = _evidence(prep, hit, absences, lambda t: t.edge)
    return _flag(prep, hit, "around_breaks", evidence, detail)


def period_skipping(prep: Prepared) -> ir.Table:
    """Present for the day (not an absence) but absent from a section, on ≥ K of the last N
    school days."""
    policy, width = prep.policy, prep.policy.recent_window_days
    sections = _with_totals(prep, prep.section_days)
    sections = sections.filter(sections.section_absent, sections.e_idx > sections.cal_days - width)
    day_absent = prep.days.select("row_key", "e_idx", "absent")
    joined = sections.left_join(day_absent, ["row_key", "e_idx"])
    half = policy.micro(policy.absence_day_min_fraction)
    skipped = joined.filter(joined.absent.fill_null(0) < half)
    sums = skipped.group_by("row_key").aggregate(n=skipped.count(), evidence=skipped.date.collect())
    hit = sums.filter(sums.n >= policy.period_skip_min_days)
    detail = _text(
        "absent from a class on ",
        hit.n,
        f" of the last {width} school days while present for the day",
    )
    return _flag(prep, hit, "period_skipping", hit.evidence, detail)


def growing_tardiness(prep: Prepared) -> ir.Table:
    """At least K tardy (or early departure) days in the last N school days."""
    width = prep.policy.recent_window_days
    days = _with_totals(prep, prep.days)
    tardy = days.filter(days.tardy, days.e_idx > days.cal_days - width)
    sums = tardy.group_by("row_key").aggregate(n=tardy.count())
    hit = sums.filter(sums.n >= prep.policy.tardy_min_days)
    detail = _text(hit.n, f" tardy days in the last {width} school days")
    evidence = _evidence(prep, hit, prep.days, lambda t: t.tardy & (t.e_idx > t.cal_days - width))
    return _flag(prep, hit, "growing_tardiness", evidence, detail)


def on_track_to_chronic(prep: Prepared) -> ir.Table:
    """Not yet past the year's chronic line, but on track to cross it.

    1. The year's line is `chronic_threshold × planned_days` absences; "not yet chronic" means
       the student's absences are still below it.
    2. Projected year-end absences are the year-to-date absence rate × planned days; they reach
       the line exactly when the year-to-date rate is at least the threshold.
    3. At that rate the line is crossed `n = ceil(remaining × enrolled / absent)` enrolled days
       after the last counted day; the crossing date is the school day that many days later.
    Requires at least `on_track_min_days` counted enrolled days, so one absence on the first
    day does not make a projection.
    """
    policy, ratio = prep.policy, prep.policy.chronic_threshold
    days = prep.days
    sums = days.group_by("row_key").aggregate(absent=days.absent.sum())
    s = sums.join(prep.totals, "row_key")
    line = s.planned_days * ratio.numerator * MICRO  # the line, scaled by the denominator
    scaled_absent = s.absent * ratio.denominator
    hit = s.filter(
        s.cal_days >= policy.on_track_min_days,
        s.absent > 0,
        scaled_absent < line,
        scaled_absent >= s.cal_days * ratio.numerator * MICRO,
    )
    remaining = hit.planned_days * ratio.numerator * MICRO - hit.absent * ratio.denominator
    divisor = hit.absent * ratio.denominator
    ahead = (remaining * hit.cal_days + divisor - 1) // divisor
    crossing = _day_at(prep, hit.mutate(target=hit.last_idx + ahead))
    projected = (crossing.absent * crossing.planned_days) // crossing.cal_days
    detail = _text(
        _tenths(crossing.absent),
        " days absent in ",
        crossing.cal_days,
        " school days; at this rate ",
        _tenths(projected),
        " of ",
        crossing.planned_days,
        " planned days",
    )
    evidence = _evidence(prep, crossing, days, lambda t: t.absent > 0)
    return _flag(prep, crossing, "on_track_to_chronic", evidence, detail, crossing.crossing_date)


def _day_at(prep: Prepared, table: ir.Table) -> ir.Table:
    days = prep.day_index.select("school_id", "school_year", target="idx", crossing_date="date")
    return table.left_join(days, ["school_id", "school_year", "target"])


def _monday_or_friday(days: ir.Table) -> ir.BooleanValue:
    return days.date.day_of_week.index().isin([0, 4])


def _with_totals(prep: Prepared, table: ir.Table) -> ir.Table:
    return table.join(prep.totals.select("row_key", "cal_days"), "row_key")


def _evidence(prep: Prepared, hit: ir.Table, days: ir.Table, where: Where) -> ir.Table:
    """Per hit `row_key`, the sorted dates of `days` that satisfy `where` (which may use the
    hit's columns and `cal_days`)."""
    keys = hit.drop(*[c for c in hit.columns if c in days.columns and c != "row_key"])
    if "cal_days" not in keys.columns:
        keys = keys.join(prep.totals.select("row_key", "cal_days"), "row_key")
    joined = days.join(keys, "row_key")
    chosen = joined.filter(where(joined))
    return chosen.group_by("row_key").aggregate(evidence=chosen.date.collect())


def _flag(
    prep: Prepared,
    hit: ir.Table,
    pattern: str,
    evidence: ir.ArrayValue | ir.Table,
    detail: ir.StringValue,
    crossing: ir.DateValue | None = None,
) -> ir.Table:
    table = hit.mutate(
        detail=detail, crossing=crossing if crossing is not None else ibis.null("date")
    )
    if isinstance(evidence, ir.Table):
        table = table.join(evidence, "row_key")
    else:
        table = table.mutate(evidence=evidence)
    keys = [k for k in ("student_id", "school_id", "school_year") if k not in table.columns]
    if keys:
        table = table.join(prep.totals.select("row_key", *keys), "row_key")
    return table.select(
        "student_id",
        "school_id",
        "school_year",
        pattern=ibis.literal(pattern, type="string"),
        detected_on=ibis.literal(prep.as_of, type="date"),
        evidence_dates=table.evidence.sort(),
        detail=table.detail,
        projected_crossing_date=table.crossing,
    )


def _text(*parts: object) -> ir.StringValue:
    """Concatenate literal text and integer expressions (integers print the same everywhere)."""
    out = ibis.literal("", type="string")
    for part in parts:
        piece = part.cast("string") if isinstance(part, ir.Value) else ibis.literal(str(part))
        out = out + piece
    return out


def _percent(part: ir.IntegerValue, whole: ir.IntegerValue) -> ir.IntegerValue:
    """`round(100 × part / whole)` on integers (half up)."""
    return (part * 200 + whole) // (whole * 2)


def _tenths(micro: ir.IntegerValue) -> ir.StringValue:
    """Micro-days as text with one decimal, e.g. 4.5 (rounded half up)."""
    tenths = (micro + MICRO // 20) // (MICRO // 10)
    return _text(tenths // 10, ".", tenths % 10)
