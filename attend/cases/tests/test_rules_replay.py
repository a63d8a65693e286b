"""`attend rules replay` over lake-mode Ed-Fi folders, and the engine's speed."""

from __future__ import annotations

import csv
import datetime as dt
import time
from pathlib import Path

import pytest
from django.core.management import call_command

from attend.cases.rules import evaluate, load_rule_set
from attend.cases.rules.lake import histories, read_lake
from attend.cases.tests import lakekit
from attend.cases.tests.rulekit import d

START, END = d("2025-09-02"), d("2026-06-12")


def _lake(folder: Path, ndjson: bool = True) -> None:
    lakekit.write(
        folder, "calendarDates", lakekit.calendar("100001", START, END, {d("2025-09-11")}), ndjson
    )
    lakekit.write(
        folder,
        "studentSchoolAssociations",
        [
            lakekit.enrollment("A", "100001", START),
            lakekit.enrollment("B", "100001", START),
            lakekit.enrollment("C", "100001", START, exit_type="No show"),
        ],
        ndjson,
    )
    ev = lakekit.event
    lakekit.write(
        folder,
        "studentSchoolAttendanceEvents",
        [
            ev("A", "100001", d("2025-09-03"), "Unexcused Absence"),
            ev("A", "100001", d("2025-09-04"), "Tardy", 0.1),  # 36 minutes late: an occasion
            ev("A", "100001", d("2025-09-05"), "Tardy", 0.08),  # 28.8 minutes: not one
            ev("A", "100001", d("2025-09-08"), "Excused Absence"),
            ev(
                "A", "100001", d("2025-09-09"), "unexcused absence", 0.25
            ),  # 90 min, lower-case code
            ev("A", "100001", d("2025-09-10"), "Unexcused Absence"),  # further report (48261)
            ev("A", "100001", d("2025-09-11"), "Unexcused Absence"),  # a holiday: ignored
            ev("B", "100001", d("2025-09-03"), "Unexcused Absence"),
            ev("B", "100001", d("2025-09-04"), "Excused Absence"),
            ev("B", "100001", d("2025-09-04"), "Unexcused Absence"),  # most severe wins that day
            ev("B", "100001", d("2025-09-05"), "Excused Absence"),
            ev("C", "100001", d("2025-09-03"), "Unexcused Absence"),
            ev("C", "100001", d("2025-09-04"), "Unexcused Absence"),
            ev("C", "100001", d("2025-09-05"), "Unexcused Absence"),
        ],
        ndjson,
    )


def _replay(folder: Path, tmp_path: Path, state: str, as_of: str) -> list[dict[str, str]]:
    out = tmp_path / f"{state}.csv"
    call_command(
        "rules",
        "replay",
        "--state",
        state,
        "--edfi",
        str(folder),
        "--as-of",
        as_of,
        "--out",
        str(out),
    )
    with out.open() as handle:
        return list(csv.DictReader(handle))


@pytest.mark.parametrize("ndjson", [True, False])
def test_it_replays_california_from_a_lake_folder(tmp_path: Path, ndjson: bool) -> None:
    _lake(tmp_path / "lake", ndjson)
    rows = _replay(tmp_path / "lake", tmp_path, "CA", "2026-01-15")
    assert rows == [
        {
            "student_id": "A",
            "school_id": "100001",
            "classification": "truant",
            "reached_on": "2025-09-09",
            "occasions": "3",
        },
        {
            "student_id": "A",
            "school_id": "100001",
            "classification": "further_truancy",
            "reached_on": "2025-09-10",
            "occasions": "1",
        },
    ]


def test_it_replays_texas_from_a_lake_folder(tmp_path: Path) -> None:
    _lake(tmp_path / "lake")
    rows = _replay(tmp_path / "lake", tmp_path, "TX", "2026-01-15")
    # Texas counts days or parts of days, not tardies: A has 9-03, 9-09, 9-10.
    assert [(r["student_id"], r["classification"], r["reached_on"]) for r in rows] == [
        ("A", "three_in_four_weeks", "2025-09-10")
    ]


def test_it_stops_at_the_as_of_date(tmp_path: Path) -> None:
    _lake(tmp_path / "lake")
    assert _replay(tmp_path / "lake", tmp_path, "CA", "2025-09-08") == []


def test_it_evaluates_two_thousand_school_years_in_a_few_seconds(tmp_path: Path) -> None:
    events = lakekit.synthetic_district(tmp_path / "lake", 2000)
    as_of = dt.date(2026, 5, 29)
    started = time.perf_counter()
    lake = read_lake(tmp_path / "lake", dt.date(2025, 7, 1), dt.date(2026, 6, 30), as_of)
    read = time.perf_counter() - started
    ca = load_rule_set("CA", as_of)
    results = [evaluate(ca, h, as_of) for h in histories(lake, dt.date(2025, 7, 1), as_of)]
    total = time.perf_counter() - started
    truant = sum(any(r.classification == "truant" for r in found) for found in results)
    print(
        f"\n2000 students × ~180 days, {events} events: "
        f"read {read:.2f} s, total {total:.2f} s, {truant} truant"
    )
    assert len(results) == 2000 and 200 < truant < 1800
    assert total < 15  # ~2 s on an idle 2-core machine; headroom for parallel CI
