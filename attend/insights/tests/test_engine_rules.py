"""Hand-computed edge cases of ATTENDANCE-RULES, one behaviour per test (DuckDB)."""

from __future__ import annotations

from datetime import date
from fractions import Fraction
from typing import Any

import ibis
import pytest

from attend.insights.engine.prepare import Prepared
from attend.insights.engine.settings import Policy
from attend.insights.engine.testing import prepared, run_metrics, run_quality, weekdays

# School year 2025 (2024-25): Monday 2 September to Friday 25 October 2024, no school on
# Monday 14 October. 39 school days. As of 1 November the year's calendar is over, so the
# "last reported day" cut (rule 3) does not apply unless a test moves the as-of date.
DAYS = weekdays(date(2024, 9, 2), date(2024, 10, 25), skip={date(2024, 10, 14)})
AFTER = date(2024, 11, 1)


@pytest.fixture(scope="module")
def con() -> Any:
    return ibis.duckdb.connect()


def calendar(*schools: str) -> list[dict[str, Any]]:
    return [{"school_id": s, "date": d, "school_year": 2025} for s in schools for d in DAYS]


def enrol(
    student: str, school: str, entry: date, exit_: date | None = None, exit_type: str | None = None
) -> dict[str, Any]:
    return {
        "student_id": student,
        "school_id": school,
        "entry_date": entry,
        "exit_date": exit_,
        "exit_type": exit_type,
        "grade": "Third grade",
    }


def event(
    student: str,
    day: date,
    category: str,
    duration: float | None = None,
    school: str = "A",
    school_year: int | None = None,
) -> dict[str, Any]:
    return {
        "student_id": student,
        "school_id": school,
        "date": day,
        "category": category,
        "duration": duration,
        "school_year": school_year,
    }


_PREPARED: dict[str, Prepared] = {}


def _prepared(con: Any, data: dict[str, Any], as_of: date, policy: Policy | None) -> Prepared:
    # A test that reads both metrics and quality of one input prepares it once.
    key = repr((data, as_of, policy))
    if key not in _PREPARED:
        _PREPARED.clear()
        _PREPARED[key] = prepared(data, as_of=as_of, con=con, policy=policy)
    return _PREPARED[key]


def metrics(
    con: Any, data: dict[str, Any], as_of: date = AFTER, policy: Policy | None = None
) -> dict[tuple[str, str], dict[str, Any]]:
    prep = _prepared(con, data, as_of, policy)
    return {(r["student_id"], r["school_id"]): r for r in run_metrics(prep, con)}


def quality(
    con: Any, data: dict[str, Any], as_of: date = AFTER, policy: Policy | None = None
) -> list[tuple[str, str, date]]:
    prep = _prepared(con, data, as_of, policy)
    return [(r["kind"], r["student_id"], r["date"]) for r in run_quality(prep, con)]


def test_it_counts_the_exit_date_as_an_enrolled_day_by_default(con: Any) -> None:
    data = {
        "school_days": calendar("A"),
        "enrollments": [enrol("s1", "A", date(2024, 9, 2), date(2024, 9, 13))],
    }
    assert metrics(con, data)[("s1", "A")]["enrolled_days"] == 10


def test_it_excludes_the_exit_date_when_the_setting_says_so(con: Any) -> None:
    data = {
        "school_days": calendar("A"),
        "enrollments": [enrol("s1", "A", date(2024, 9, 2), date(2024, 9, 13))],
    }
    result = metrics(con, data, policy=Policy(exit_inclusive=False))
    assert result[("s1", "A")]["enrolled_days"] == 9


def test_it_counts_overlapping_enrollments_at_one_school_once(con: Any) -> None:
    # 2-20 Sep (15 days) and 9-27 Sep (15 days) overlap on 9-20 Sep: 20 distinct days.
    data = {
        "school_days": calendar("A"),
        "enrollments": [
            enrol("s1", "A", date(2024, 9, 2), date(2024, 9, 20)),
            enrol("s1", "A", date(2024, 9, 9), date(2024, 9, 27)),
        ],
        "events": [event("s1", date(2024, 9, 10), "Unexcused Absence")],
    }
    row = metrics(con, data)[("s1", "A")]
    assert (row["enrolled_days"], row["absent_days"]) == (20, 1.0)


def test_it_gives_a_student_who_transferred_mid_year_one_row_per_school(con: Any) -> None:
    data = {
        "school_days": calendar("A", "B"),
        "enrollments": [
            enrol("s1", "A", date(2024, 9, 2), date(2024, 9, 13), "Transferred"),
            enrol("s1", "B", date(2024, 9, 16)),
        ],
        "events": [
            event("s1", date(2024, 9, 12), "Unexcused Absence"),
            event("s1", date(2024, 9, 17), "Excused Absence", school="B"),
            event("s1", date(2024, 9, 18), "Excused Absence"),  # at A after leaving A
        ],
    }
    result = metrics(con, data)
    # B: 16-30 Sep (11) + 1-25 Oct less 14 Oct (18) = 29 school days.
    assert (result[("s1", "A")]["enrolled_days"], result[("s1", "A")]["absent_days"]) == (10, 1.0)
    assert (result[("s1", "B")]["enrolled_days"], result[("s1", "B")]["absent_days"]) == (29, 1.0)
    assert ("not_enrolled", "s1", date(2024, 9, 18)) in quality(con, data)


def test_it_resolves_several_events_on_one_day_by_severity(con: Any) -> None:
    day = date(2024, 9, 10)
    data = {
        "school_days": calendar("A"),
        "enrollments": [enrol("s1", "A", date(2024, 9, 2))],
        "events": [
            event("s1", day, "Tardy"),
            event("s1", day, "Excused Absence", 0.5),
            event("s1", day, "Unexcused Absence", 0.25),
            event("s1", day, "In Attendance"),
        ],
    }
    row = metrics(con, data)[("s1", "A")]
    # Unexcused is the most severe: its 0.25 is the day's fraction; the tardy still counts.
    assert (
        row["absent_days"],
        row["unexcused_absent_days"],
        row["excused_absent_days"],
        row["tardy_days"],
    ) == (0.25, 0.25, 0.0, 1)
    assert ("conflict", "s1", day) in quality(con, data)


def test_it_takes_partial_days_from_event_duration(con: Any) -> None:
    data = {
        "school_days": calendar("A"),
        "enrollments": [enrol("s1", "A", date(2024, 9, 2))],
        "events": [
            event("s1", date(2024, 9, 3), "Partial", 0.5),
            event("s1", date(2024, 9, 4), "Partial"),  # no duration: policy default 0
            event("s1", date(2024, 9, 5), "Excused Absence", 0.25),
            event("s1", date(2024, 9, 6), "unexcused absence", 0.75),
        ],
    }
    row = metrics(con, data)[("s1", "A")]
    assert (
        row["absent_days"],
        row["excused_absent_days"],
        row["unexcused_absent_days"],
        row["present_days"],
    ) == (1.5, 0.25, 0.75, 37.5)
    half = metrics(con, data, policy=Policy(partial_default=Fraction(1, 2)))[("s1", "A")]
    assert half["absent_days"] == 2.0


def test_it_ignores_events_on_non_school_days_and_after_the_as_of_date(con: Any) -> None:
    saturday, holiday, late = date(2024, 9, 7), date(2024, 10, 14), date(2024, 10, 1)
    data = {
        "school_days": calendar("A"),
        "enrollments": [enrol("s1", "A", date(2024, 9, 2))],
        "events": [
            event("s1", saturday, "Unexcused Absence"),
            event("s1", holiday, "Unexcused Absence"),
            event("s1", date(2024, 9, 30), "Unexcused Absence"),
            event("s1", late, "Unexcused Absence"),
        ],
    }
    as_of = date(2024, 9, 30)
    row = metrics(con, data, as_of=as_of)[("s1", "A")]
    # 2-30 Sep is 21 school days; only the 30 Sep absence counts.
    assert (row["enrolled_days"], row["absent_days"]) == (21, 1.0)
    found = quality(con, data, as_of=as_of)
    assert ("non_school_day", "s1", saturday) in found
    assert ("after_as_of", "s1", late) in found
    assert ("after_as_of", "s1", holiday) in found  # also after the as-of date


def test_it_stops_counting_at_the_last_reported_day_of_a_running_year(con: Any) -> None:
    data = {
        "school_days": calendar("A"),
        "enrollments": [enrol("s1", "A", date(2024, 9, 2))],
        "events": [event("s1", date(2024, 9, 20), "Tardy")],
    }
    row = metrics(con, data, as_of=date(2024, 10, 1))[("s1", "A")]
    assert row["enrolled_days"] == 15  # 2-20 Sep, not up to 1 Oct
    uncut = metrics(con, data, as_of=date(2024, 10, 1), policy=Policy(cut_at_last_reported=False))[
        ("s1", "A")
    ]
    assert uncut["enrolled_days"] == 22


def test_it_reports_missing_days_as_unknown_under_positive_reporting(con: Any) -> None:
    week = DAYS[:5]  # 2-6 Sep
    data = {
        "school_days": calendar("A"),
        "enrollments": [enrol("s1", "A", week[0], week[-1])],
        "events": [
            event("s1", week[0], "In Attendance"),
            event("s1", week[1], "Present"),
            event("s1", week[2], "Tardy"),
            event("s1", week[4], "Unexcused Absence"),
        ],
    }
    policy = Policy(positive_reporting_schools=frozenset({"A"}))
    row = metrics(con, data, policy=policy)[("s1", "A")]
    assert (row["enrolled_days"], row["absent_days"], row["present_days"]) == (4, 1.0, 3.0)
    assert quality(con, data, policy=policy) == [("unknown_day", "s1", week[3])]
    # Exception-only reporting (the default) counts the silent day as present.
    assert metrics(con, data)[("s1", "A")]["present_days"] == 4.0


def test_it_ignores_no_show_and_invalid_enrollments(con: Any) -> None:
    data = {
        "school_days": calendar("A"),
        "enrollments": [
            enrol("s1", "A", date(2024, 9, 2), date(2024, 9, 2), "No show"),
            enrol("s2", "A", date(2024, 9, 2), None, "invalid Enrollment"),
            enrol("s3", "A", date(2024, 9, 2), date(2024, 9, 30), "Withdrawn"),
        ],
        "events": [event("s1", date(2024, 9, 2), "Unexcused Absence")],
    }
    assert set(metrics(con, data)) == {("s3", "A")}
    assert ("not_enrolled", "s1", date(2024, 9, 2)) in quality(con, data)


def test_it_reports_exits_before_entries_and_ignores_them(con: Any) -> None:
    data = {
        "school_days": calendar("A"),
        "enrollments": [enrol("s1", "A", date(2024, 9, 10), date(2024, 9, 3))],
    }
    assert metrics(con, data) == {}
    assert quality(con, data) == [("exit_before_entry", "s1", date(2024, 9, 10))]


def test_it_calls_exactly_ten_percent_absent_chronic(con: Any) -> None:
    # 10 school days; 0.7 + 0.2 + 0.1 days absent. As floats that sums to 0.9999999999999999.
    data = {
        "school_days": calendar("A"),
        "enrollments": [
            enrol("s1", "A", date(2024, 9, 2), date(2024, 9, 13)),
            enrol("s2", "A", date(2024, 9, 2), date(2024, 9, 13)),
        ],
        "events": [
            event("s1", date(2024, 9, 3), "Excused Absence", 0.7),
            event("s1", date(2024, 9, 4), "Excused Absence", 0.2),
            event("s1", date(2024, 9, 5), "Excused Absence", 0.1),
            event("s2", date(2024, 9, 3), "Excused Absence", 0.7),
            event("s2", date(2024, 9, 4), "Excused Absence", 0.2),
            event("s2", date(2024, 9, 5), "Excused Absence", 0.09),
        ],
    }
    result = metrics(con, data)
    exact = result[("s1", "A")]
    assert (exact["absent_days"], exact["chronic"], exact["tier"]) == (
        1.0,
        True,
        "moderate_chronic",
    )
    assert exact["attendance_rate"] == 0.9
    below = result[("s2", "A")]
    assert (below["chronic"], below["tier"]) == (False, "at_risk")


def test_it_requires_the_minimum_enrollment_to_be_eligible(con: Any) -> None:
    data = {
        "school_days": calendar("A"),
        "enrollments": [
            enrol("nine", "A", DAYS[0], DAYS[8]),
            enrol("ten", "A", DAYS[0], DAYS[9]),
            enrol("thirty", "A", DAYS[0], DAYS[29]),
            enrol("thirty-one", "A", DAYS[0], DAYS[30]),
            enrol("never-present", "A", DAYS[0], DAYS[9]),
        ],
        "events": [event("never-present", d, "Unexcused Absence") for d in DAYS[:10]],
    }
    result = metrics(con, data)
    assert [result[(s, "A")]["eligible"] for s in ("nine", "ten", "never-present")] == [
        False,
        True,
        False,
    ]
    assert (result[("nine", "A")]["chronic"], result[("nine", "A")]["tier"]) == (None, None)
    california = metrics(con, data, policy=Policy.california())
    assert [california[(s, "A")]["eligible"] for s in ("ten", "thirty", "thirty-one")] == [
        False,
        False,
        True,
    ]


def test_it_ignores_events_reported_for_another_school_year(con: Any) -> None:
    day = date(2024, 9, 10)
    data = {
        "school_days": calendar("A"),
        "enrollments": [enrol("s1", "A", date(2024, 9, 2))],
        "events": [
            event("s1", day, "Unexcused Absence", school_year=2024),
            event("s1", date(2024, 9, 11), "Unexcused Absence", school_year=2025),
        ],
    }
    assert metrics(con, data)[("s1", "A")]["absent_days"] == 1.0
    assert ("school_year_mismatch", "s1", day) in quality(con, data)


def test_it_computes_streaks_over_school_days_and_the_absence_budget(con: Any) -> None:
    # Fri 11 Oct, (no school Mon 14 Oct), Tue 15, Wed 16 Oct: one streak of three.
    days = [
        date(2024, 10, 11),
        date(2024, 10, 15),
        date(2024, 10, 16),
        date(2024, 10, 24),
        date(2024, 10, 25),
    ]
    data = {
        "school_days": calendar("A"),
        "enrollments": [enrol("s1", "A", date(2024, 9, 2))],
        "events": [event("s1", d, "Unexcused Absence") for d in days],
    }
    row = metrics(con, data)[("s1", "A")]
    assert (row["longest_absence_streak"], row["current_absence_streak"]) == (3, 2)
    assert row["absence_budget"] == 3 - 5.0  # floor(0.1 × 39) − 5
