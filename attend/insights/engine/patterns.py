"""The seven ATTENDANCE-RULES patterns, each a flag with the dates that caused it.

"An absence" (counted by the count-based patterns) is an enrolled day whose absent fraction is at
least `policy.absence_day_min_fraction` (half a day by default), the same rule as streaks. The
rate-based patterns (sudden drop, on track to become chronic) use the exact fractions and give
as evidence every day with any absence. "The last N school days" are the student's last N
counted enrolled days. Every threshold is a `Policy` setting.

Detection reads the per-student sums of `prepare` (one pass over the event days for all
patterns); the evidence dates of all hits are then collected in one more pass.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import ibis
import ibis.expr.types as ir

from .prepare import Prepared
from .settings import MICRO

__all__ = ["FLAG_COLUMNS", "PATTERNS", "flagged", "flags"]

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


@dataclass(frozen=True)
class Hits:
    """A pattern's hits: `row_key, detail, crossing` (and `run_start` for streaks), with the
    condition on a day row (joined to `cal_days` and `run_start`) that makes it evidence."""

    pattern: str
    table: ir.Table
    evidence: Where


def flags(prep: Prepared) -> ir.Table:
    """All flags, one row per student × school × year × pattern, columns `FLAG_COLUMNS`.

    1. Each detector finds its hits from the per-student sums.
    2. One pass over the event days collects every hit's evidence dates.
    3. Period skipping, which reads section days, carries its own evidence.
    """
    hits = _detect(prep)
    evidence = _collect_evidence(prep, hits)
    tables = [_flag(prep, h.pattern, h.table.join(evidence, "row_key"), h.pattern) for h in hits]
    tables.append(period_skipping(prep))
    return ibis.union(*tables).order_by(["school_year", "school_id", "student_id", "pattern"])


def flagged(prep: Prepared) -> ir.Table:
    """Who carries which flag: `student_id, school_id, school_year, pattern`, the key columns
    of `flags` without the evidence pass (every hit has evidence days, so the rows are the
    same). For replays that run the detectors as of many dates."""
    keys = ["student_id", "school_id", "school_year"]
    hits = ibis.union(
        *[h.table.select("row_key", pattern=ibis.literal(h.pattern)) for h in _detect(prep)]
    )
    named = hits.join(prep.totals.select("row_key", *keys), "row_key").select(*keys, "pattern")
    return named.union(period_skipping(prep).select(*keys, "pattern"))


def _detect(prep: Prepared) -> list[Hits]:
    return [
        sudden_drop(prep),
        streak(prep),
        weekday_concentration(prep),
        around_breaks(prep),
        growing_tardiness(prep),
        on_track_to_chronic(prep),
    ]


def _sums(prep: Prepared) -> ir.Table:
    s = prep.summary.join(prep.totals, "row_key")
    return s.mutate(**{c: s[c].fill_null(0) for c in prep.summary.columns if c != "row_key"})


def sudden_drop(prep: Prepared) -> Hits:
    """Attendance over the last N days at least P points below the rate before, with ≥ K
    absences in the window (and at least `sudden_drop_min_prior_days` days before it)."""
    policy, width = prep.policy, prep.policy.recent_window_days
    s = _sums(prep)
    s = s.mutate(earlier_absent=s.absent - s.recent_absent, before=s.cal_days - width)
    points = policy.sudden_drop_points
    drop = (s.recent_absent * s.before - s.earlier_absent * width) * points.denominator
    hit = s.filter(
        s.cal_days >= width + policy.sudden_drop_min_prior_days,
        s.recent_absences >= policy.sudden_drop_min_absences,
        drop >= points.numerator * width * s.before * MICRO,
    )
    recent_rate = _percent(width * MICRO - hit.recent_absent, width * MICRO)
    earlier_rate = _percent(hit.before * MICRO - hit.earlier_absent, hit.before * MICRO)
    detail = _text(
        hit.recent_absences,
        f" absences in the last {width} school days; attendance ",
        recent_rate,
        "% against ",
        earlier_rate,
        "% before",
    )
    return Hits(
        "sudden_drop", _hit(hit, detail), lambda t: (t.e_idx > t.cal_days - width) & (t.absent > 0)
    )


def streak(prep: Prepared) -> Hits:
    """The current absence streak is at least `streak_min_days` school days long."""
    runs = prep.runs
    hit = runs.filter(runs.current, runs.length >= prep.policy.streak_min_days)
    detail = _text("absent the last ", hit.length, " school days in a row")
    half = prep.policy.micro(prep.policy.absence_day_min_fraction)
    return Hits(
        "streak",
        _hit(hit, detail, run_start=hit.run_start),
        lambda t: (t.e_idx >= t.run_start) & (t.absent >= half),
    )


def weekday_concentration(prep: Prepared) -> Hits:
    """At least K absences, and at least S of them on Mondays and Fridays."""
    policy, s = prep.policy, _sums(prep)
    share = policy.weekday_min_share
    hit = s.filter(
        s.absences >= policy.weekday_min_absences,
        s.weekend_absences * share.denominator >= s.absences * share.numerator,
    )
    detail = _text(hit.weekend_absences, " of ", hit.absences, " absences on Mondays or Fridays")
    half = policy.micro(policy.absence_day_min_fraction)
    return Hits(
        "weekday_concentration",
        _hit(hit, detail),
        lambda t: (t.absent >= half) & t.date.day_of_week.index().isin([0, 4]),
    )


def around_breaks(prep: Prepared) -> Hits:
    """At least K absences on the school day just before or just after a break (a run of at
    least `break_min_calendar_days` calendar days without school between two school days)."""
    s = _sums(prep)
    hit = s.filter(s.edge_absences >= prep.policy.break_min_absences)
    detail = _text(hit.edge_absences, " absences on the school day before or after a break")
    half = prep.policy.micro(prep.policy.absence_day_min_fraction)
    return Hits("around_breaks", _hit(hit, detail), lambda t: (t.absent >= half) & t.edge)


def growing_tardiness(prep: Prepared) -> Hits:
    """At least K tardy (or early departure) days in the last N school days."""
    width, s = prep.policy.recent_window_days, _sums(prep)
    hit = s.filter(s.recent_tardy >= prep.policy.tardy_min_days)
    detail = _text(hit.recent_tardy, f" tardy days in the last {width} school days")
    return Hits(
        "growing_tardiness", _hit(hit, detail), lambda t: t.tardy & (t.e_idx > t.cal_days - width)
    )


def on_track_to_chronic(prep: Prepared) -> Hits:
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
    policy, ratio, s = prep.policy, prep.policy.chronic_threshold, _sums(prep)
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
    table = _hit(crossing, detail, crossing=crossing.crossing_date)
    return Hits("on_track_to_chronic", table, lambda t: t.absent > 0)


def period_skipping(prep: Prepared) -> ir.Table:
    """Present for the day (not an absence) but absent from a section, on ≥ K of the last N
    school days."""
    policy, width = prep.policy, prep.policy.recent_window_days
    sections = prep.section_days.join(prep.totals.select("row_key", "cal_days"), "row_key")
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
    table = _hit(hit, detail, evidence=hit.evidence)
    return _flag(prep, "period_skipping", table, "evidence")


def _hit(
    table: ir.Table,
    detail: ir.StringValue,
    *,
    run_start: ir.IntegerValue | None = None,
    crossing: ir.DateValue | None = None,
    **extra: ir.Value,
) -> ir.Table:
    return table.select(
        "row_key",
        detail=detail,
        crossing=crossing if crossing is not None else ibis.null("date"),
        run_start=run_start if run_start is not None else ibis.null("int64"),
        **extra,
    )


def _collect_evidence(prep: Prepared, hits: list[Hits]) -> ir.Table:
    """One pass over the event days of every student with a hit: per `row_key`, a list of
    evidence dates per pattern (column named after the pattern)."""
    marks = ibis.union(
        *[h.table.select("row_key", "run_start", pattern=ibis.literal(h.pattern)) for h in hits]
    )
    wide = marks.group_by("row_key").aggregate(
        run_start=marks.run_start.max(),
        **{h.pattern: (marks.pattern == h.pattern).any() for h in hits},
    )
    wide = wide.join(prep.totals.select("row_key", "cal_days"), "row_key")
    days = prep.days.join(wide, "row_key")
    return days.group_by("row_key").aggregate(
        **{h.pattern: days.date.collect(where=days[h.pattern] & h.evidence(days)) for h in hits}
    )


def _day_at(prep: Prepared, table: ir.Table) -> ir.Table:
    days = prep.day_index.select("school_id", "school_year", target="idx", crossing_date="date")
    return table.left_join(days, ["school_id", "school_year", "target"])


def _flag(prep: Prepared, pattern: str, table: ir.Table, evidence: str) -> ir.Table:
    table = table.join(
        prep.totals.select("row_key", "student_id", "school_id", "school_year"), "row_key"
    )
    return table.select(
        "student_id",
        "school_id",
        "school_year",
        pattern=ibis.literal(pattern, type="string"),
        detected_on=ibis.literal(prep.as_of, type="date"),
        evidence_dates=table[evidence].sort(),
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
