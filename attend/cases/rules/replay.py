"""Replay a lake folder through a state's rule set: one row per student × classification."""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from attend.cases.rules.engine import Reached, evaluate
from attend.cases.rules.lake import histories, read_lake
from attend.cases.rules.loader import load_rule_set

COLUMNS = ("student_id", "school_id", "classification", "reached_on", "occasions")


def _school_year_bounds(as_of: dt.date) -> tuple[dt.date, dt.date]:
    # US school years run 1 July → 30 June (attend.lib.dates, without importing Django).
    first = as_of.year if as_of.month >= 7 else as_of.year - 1
    return dt.date(first, 7, 1), dt.date(first + 1, 6, 30)


def replay_rows(
    folder: Path, state: str, as_of: dt.date, day_minutes: int | None = None
) -> Iterator[tuple[str, str, str, str, str]]:
    """1. Pick the rule set in force on `as_of`. 2. Read the lake once. 3. For each student ×
    school history, keep the first counted result of each classification."""
    rule_set = load_rule_set(state, as_of)
    start, end = _school_year_bounds(as_of)
    lake = read_lake(folder, start, end, as_of)
    minutes = day_minutes or rule_set.school_day_minutes
    for history in histories(lake, start, as_of, minutes):
        seen: set[str] = set()
        for found in evaluate(rule_set, history, as_of):
            if found.counts and found.classification not in seen:
                seen.add(found.classification)
                yield _row(history.student_id, history.school_id, found)


def _row(student: str, school: str, found: Reached) -> tuple[str, str, str, str, str]:
    value = found.occasions
    shown = str(int(value)) if value == int(value) else f"{value:.4f}"
    return (student, school, found.classification, found.reached_on.isoformat(), shown)


def write_replay(rows: Iterator[tuple[str, ...]], out: IO[str]) -> int:
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    count = 0
    for row in rows:
        writer.writerow(row)
        count += 1
    return count
