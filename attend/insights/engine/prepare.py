"""The shared first stage: calendars, enrollment ranges and resolved event days.

Every output (metrics, patterns, aggregates, quality) starts from a `Prepared`; the tables that
several outputs read are cached once (a temp table in DuckDB, a persisted frame in Spark).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import ibis.expr.types as ir

from .days import KEYS, cut_index, enrollment_intervals, school_day_index, with_break_edges
from .resolve import FINDING, classify, event_status, resolve_days, section_days
from .schema import EngineInput
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
    section_events: ir.Table
    days: ir.Table
    section_days: ir.Table
    findings: ir.Table
    section_findings: ir.Table


def prepare(inputs: EngineInput, *, as_of: date, policy: Policy, cache: bool = True) -> Prepared:
    """Build the shared tables.

    1. Number each school's school days, mark the days next to breaks, find each year's
       counted cut (rule 3).
    2. Turn enrollments into merged, numbered ranges with an integer `row_key` (rule 2).
    3. Classify events and give each its status (used, or why not); in one grouping resolve
       the used ones per day (rules 5-8) and keep the others as data-quality findings.
    4. The same for section events (period-level flags).
    """
    days_off = policy.break_min_calendar_days
    day_index = school_day_index(inputs.table("school_days"))
    day_index = _maybe_cache(with_break_edges(day_index, days_off), cache)
    events = classify(inputs.table("events"), policy)
    sections = classify(inputs.table("section_events"), policy)
    reported = events.select("school_id", "date").union(sections.select("school_id", "date"))
    cut = cut_index(day_index, reported, as_of=as_of, policy=policy)
    intervals = enrollment_intervals(inputs.table("enrollments"), day_index, cut, policy=policy)
    intervals = _maybe_cache(intervals, cache)
    statuses = event_status(events, day_index, intervals, as_of=as_of, policy=policy)
    days, findings = _split(_maybe_cache(resolve_days(statuses), cache))
    section_statuses = event_status(sections, day_index, intervals, as_of=as_of, policy=policy)
    sect, section_findings = _split(_maybe_cache(section_days(section_statuses), cache))
    return Prepared(
        as_of=as_of,
        policy=policy,
        inputs=inputs,
        day_index=day_index,
        intervals=intervals,
        totals=_maybe_cache(_totals(intervals), cache),
        events=events,
        section_events=sections,
        days=days,
        section_days=sect,
        findings=findings,
        section_findings=section_findings.filter(section_findings.kind == "unknown_descriptor"),
    )


def _split(resolved: ir.Table) -> tuple[ir.Table, ir.Table]:
    """Day rows and findings (see `resolve.resolve_days`)."""
    days = resolved.filter(resolved.kind.isnull()).drop(*FINDING)
    findings = resolved.filter(resolved.kind.notnull()).select(*FINDING, "date")
    return days, findings


def _totals(intervals: ir.Table) -> ir.Table:
    last = (intervals.start_idx + intervals.days - 1).max(where=intervals.days > 0)
    return intervals.group_by(["row_key", *KEYS]).aggregate(
        cal_days=intervals.days.sum(),
        planned_days=intervals.planned.sum(),
        last_idx=last,
    )


def _maybe_cache(table: ir.Table, cache: bool) -> ir.Table:
    return table.cache() if cache else table
