"""The shared first stage: calendars, enrollment ranges and resolved event days.

Every output (metrics, patterns, aggregates, quality) starts from a `Prepared`; the tables that
several outputs read are cached once (a temp table in DuckDB, a persisted frame in Spark).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import ibis
import ibis.expr.types as ir

from .backend import materialise
from .days import (
    KEYS,
    ROW_KEY_YEAR,
    apply_cut,
    cut_index,
    enrollment_ranges,
    school_day_index,
    with_break_edges,
    year_numbers,
)
from .resolve import (
    classify,
    day_rows,
    event_status,
    finding_rows,
    resolve_days,
    section_day_rows,
    section_days,
)
from .schema import EXCUSED, SEVERITY, UNEXCUSED, EngineInput
from .settings import Policy

__all__ = ["Prepared", "prepare"]


@dataclass(frozen=True)
class Prepared:
    """Intermediate tables of one computation (all Ibis expressions on one backend).

    `totals` has one row per student × school × year (`row_key`, the keys, `cal_days`,
    `planned_days`, `last_idx`); `days` and `section_days` one row per enrolled day with
    events, keyed by `row_key, e_idx`; `findings` the unused events (`kind, student_id,
    school_id, detail, date`), `section_findings` unknown section categories.
    """

    as_of: date
    policy: Policy
    inputs: EngineInput
    day_index: ir.Table
    intervals: ir.Table
    totals: ir.Table
    events: ir.Table
    section_events: ir.Table | None
    days: ir.Table
    section_days: ir.Table
    findings: ir.Table
    section_findings: ir.Table
    summary: ir.Table
    runs: ir.Table


def prepare(inputs: EngineInput, *, as_of: date, policy: Policy, cache: bool = True) -> Prepared:
    """Build the shared tables.

    1. Number each school's school days and mark the days next to breaks.
    2. Turn enrollments into merged, numbered ranges with an integer `row_key` (rule 2).
    3. Classify events and give each its status (used, or why not); in one grouping resolve
       the used ones per day (rules 5-8) and keep the others as data-quality findings. The
       same for section events.
    4. Find each year's counted cut (rule 3) from what those groupings saw (no second pass
       over the events), and count the enrolled days up to it.
    5. Per student × school × year: the sums and counts of the event days, and absence runs.
    """
    days_off = policy.break_min_calendar_days
    day_index = school_day_index(inputs.table("school_days"))
    day_index = _maybe_cache(with_break_edges(day_index, days_off), cache)
    ranges = enrollment_ranges(inputs.table("enrollments"), day_index, policy=policy)
    ranges = _maybe_cache(ranges, cache)
    uncut = apply_cut(ranges, None)  # places events exactly as the cut ranges would
    events = classify(inputs.table("events"), policy)
    statuses = event_status(events, day_index, uncut, as_of=as_of, policy=policy)
    resolved = _maybe_cache(resolve_days(statuses), cache)
    days, findings = day_rows(resolved), finding_rows(resolved)
    sections = None
    if inputs.section_events is None:
        sect, section_findings = _no_sections(days, findings)
        grouped = [resolved]
    else:
        sections = classify(inputs.table("section_events"), policy)
        statuses = event_status(sections, day_index, uncut, as_of=as_of, policy=policy)
        sect_resolved = _maybe_cache(section_days(statuses), cache)
        sect, section_findings = section_day_rows(sect_resolved), finding_rows(sect_resolved)
        grouped = [resolved, sect_resolved]
    reported = _reported(day_index, grouped)
    cut = cut_index(day_index, reported, as_of=as_of, policy=policy)
    intervals = _maybe_cache(apply_cut(ranges, cut), cache)
    totals = _maybe_cache(_totals(intervals), cache)
    return Prepared(
        as_of=as_of,
        policy=policy,
        inputs=inputs,
        day_index=day_index,
        intervals=intervals,
        totals=totals,
        events=events,
        section_events=sections,
        days=days,
        section_days=sect,
        findings=findings,
        section_findings=section_findings.filter(section_findings.kind == "unknown_descriptor"),
        summary=_maybe_cache(_summary(days, totals, policy), cache),
        runs=_maybe_cache(_runs(days, totals, policy), cache),
    )


def _reported(day_index: ir.Table, grouped: list[ir.Table]) -> ir.Table:
    """`school_id, date` of days on which schools reported events, for the cut: from each
    resolved grouping (`resolve_days`, `section_days`), the last event day of every school
    year (a grouping of the day rows on the year number in their `row_key`) and the date of
    every finding (events not used still show the school reported that day)."""
    years = year_numbers(day_index)
    parts = []
    for table in grouped:
        used = table.filter(table.finding.isnull())
        last = used.group_by(year_no=used.row_key // ROW_KEY_YEAR).aggregate(date=used.date.max())
        parts.append(last.join(years, "year_no").select("school_id", "date"))
        parts.append(finding_rows(table).select("school_id", "date"))
    return ibis.union(*parts)


def _summary(days: ir.Table, totals: ir.Table, policy: Policy) -> ir.Table:
    """Per `row_key`, every sum and count the metrics and the patterns read, in one pass over
    the event days (absent values in micro-days; "absences" are days absent at least
    `absence_day_min_fraction`; "recent" the last `recent_window_days` counted days)."""
    half = policy.micro(policy.absence_day_min_fraction)
    joined = days.join(totals.select("row_key", "cal_days"), "row_key")
    recent = joined.e_idx > joined.cal_days - policy.recent_window_days
    absence = joined.absent >= half
    monday_or_friday = joined.date.day_of_week.index().isin([0, 4])
    return joined.group_by("row_key").aggregate(
        absent=joined.absent.sum(),
        excused=joined.absent.sum(where=joined.absence_severity == SEVERITY[EXCUSED]),
        unexcused=joined.absent.sum(where=joined.absence_severity == SEVERITY[UNEXCUSED]),
        tardy_days=joined.count(where=joined.tardy),
        known_days=joined.count(),
        recent_absent=joined.absent.sum(where=recent),
        recent_absences=joined.count(where=recent & absence),
        recent_tardy=joined.count(where=recent & joined.tardy),
        absences=joined.count(where=absence),
        edge_absences=joined.count(where=absence & joined.edge),
        weekend_absences=joined.count(where=absence & monday_or_friday),
    )


def _runs(days: ir.Table, totals: ir.Table, policy: Policy) -> ir.Table:
    """Runs of consecutive absence days (gaps and islands on the enrolled-day number):
    `row_key, run_start, last_e_idx, length, current` (ends on the last counted day)."""
    half = policy.micro(policy.absence_day_min_fraction)
    absences = days.filter(days.absent >= half).select("row_key", "e_idx")
    window = ibis.window(group_by=absences.row_key, order_by=absences.e_idx)
    island = absences.mutate(island=absences.e_idx - ibis.row_number().over(window))
    runs = island.group_by(["row_key", "island"]).aggregate(
        run_start=island.e_idx.min(), last_e_idx=island.e_idx.max(), length=island.count()
    )
    runs = runs.join(totals.select("row_key", "cal_days"), "row_key")
    return runs.select(
        "row_key", "run_start", "last_e_idx", "length", current=runs.last_e_idx == runs.cal_days
    )


def _no_sections(days: ir.Table, findings: ir.Table) -> tuple[ir.Table, ir.Table]:
    """Empty section tables of the right shape, on the same backend as the others."""
    no = ibis.literal(False)
    sect = days.filter(no).select(
        "row_key",
        "e_idx",
        "date",
        section_absent=no,
        homeroom_present=no,
        homeroom_absent=no,
        all_sections_present=no,
    )
    return sect, findings.filter(no)


def _totals(intervals: ir.Table) -> ir.Table:
    last = (intervals.start_idx + intervals.days - 1).max(where=intervals.days > 0)
    return intervals.group_by(["row_key", *KEYS]).aggregate(
        cal_days=intervals.days.sum(),
        planned_days=intervals.planned.sum(),
        last_idx=last,
    )


def _maybe_cache(table: ir.Table, cache: bool) -> ir.Table:
    return materialise(table) if cache else table
