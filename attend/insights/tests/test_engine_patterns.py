"""Every ATTENDANCE-RULES pattern: one case that fires (with its evidence) and one that does not."""

from __future__ import annotations

from datetime import date
from typing import Any

import ibis
import pytest

from attend.insights.engine.testing import prepared, run_flags, weekdays

# 2 Sep - 20 Dec 2024 without Mon 14 Oct, Mon 11 Nov and Thu-Fri 28-29 Nov: 76 school days.
# Breaks of 3+ calendar days: 12-14 Oct, 9-11 Nov, 28 Nov-1 Dec.
HOLIDAYS = {date(2024, 10, 14), date(2024, 11, 11), date(2024, 11, 28), date(2024, 11, 29)}
DAYS = weekdays(date(2024, 9, 2), date(2024, 12, 20), skip=HOLIDAYS)
AFTER = date(2024, 12, 21)


@pytest.fixture(scope="module")
def con() -> Any:
    return ibis.duckdb.connect()


def absent(*days: date, category: str = "Unexcused Absence") -> list[dict[str, Any]]:
    return [{"student_id": "s1", "school_id": "A", "date": d, "category": category} for d in days]


def flags(
    con: Any,
    events: list[dict[str, Any]],
    *,
    sections: list[date] = (),  # type: ignore[assignment]
    as_of: date = AFTER,
) -> dict[str, dict[str, Any]]:
    data = {
        "school_days": [{"school_id": "A", "date": d, "school_year": 2025} for d in DAYS],
        "enrollments": [{"student_id": "s1", "school_id": "A", "entry_date": DAYS[0]}],
        "events": events,
        "section_events": [
            {
                "student_id": "s1",
                "school_id": "A",
                "section_id": "MATH",
                "date": d,
                "category": "Unexcused Absence",
            }
            for d in sections
        ],
    }
    prep = prepared(data, as_of=as_of, con=con)
    return {row["pattern"]: row for row in run_flags(prep, con)}


def test_it_flags_a_sudden_drop_with_the_absences_in_the_window(con: Any) -> None:
    window = [DAYS[-20], DAYS[-15], DAYS[-10], DAYS[-5]]
    flag = flags(con, absent(*window))["sudden_drop"]
    assert flag["evidence_dates"] == window
    assert (
        flag["detail"]
        == "4 absences in the last 20 school days; attendance 80% against 100% before"
    )
    assert flag["detected_on"] == AFTER


def test_it_does_not_flag_a_drop_when_the_rate_was_already_low(con: Any) -> None:
    earlier = DAYS[0:24:2]  # 12 absences in the 56 days before: 78.6 % attendance
    window = [DAYS[-20], DAYS[-15], DAYS[-10], DAYS[-5]]
    assert "sudden_drop" not in flags(con, absent(*earlier, *window))


def test_it_flags_a_current_streak_across_a_weekend(con: Any) -> None:
    streak = DAYS[-6:]  # Fri 13 Dec, then Mon 16 - Fri 20 Dec
    flag = flags(con, absent(*streak))["streak"]
    assert flag["evidence_dates"] == streak
    assert flag["detail"] == "absent the last 6 school days in a row"


def test_it_does_not_flag_a_streak_that_has_ended(con: Any) -> None:
    assert "streak" not in flags(con, absent(*DAYS[-5:-1]))


def test_it_flags_absences_concentrated_on_mondays_and_fridays(con: Any) -> None:
    edges = [date(2024, 9, 9), date(2024, 9, 13), date(2024, 9, 16)]
    midweek = [date(2024, 9, 18), date(2024, 9, 26)]
    flag = flags(con, absent(*edges, *midweek))["weekday_concentration"]
    assert flag["evidence_dates"] == edges
    assert flag["detail"] == "3 of 5 absences on Mondays or Fridays"


def test_it_does_not_flag_absences_spread_over_the_week(con: Any) -> None:
    days = [
        date(2024, 9, 9),
        date(2024, 9, 13),
        date(2024, 9, 17),
        date(2024, 9, 18),
        date(2024, 9, 26),
    ]
    assert "weekday_concentration" not in flags(con, absent(*days))


def test_it_flags_absences_around_breaks(con: Any) -> None:
    around = [date(2024, 10, 11), date(2024, 10, 15)]  # either side of Mon 14 Oct
    flag = flags(con, absent(*around))["around_breaks"]
    assert flag["evidence_dates"] == around
    assert flag["detail"] == "2 absences on the school day before or after a break"


def test_it_does_not_count_an_ordinary_weekend_as_a_break(con: Any) -> None:
    assert "around_breaks" not in flags(con, absent(date(2024, 9, 13), date(2024, 9, 16)))


def test_it_flags_period_skipping_on_days_present(con: Any) -> None:
    skipped = [DAYS[-12], DAYS[-8], DAYS[-3]]
    flag = flags(con, [], sections=skipped)["period_skipping"]
    assert flag["evidence_dates"] == skipped
    assert flag["detail"] == (
        "absent from a class on 3 of the last 20 school days while present for the day"
    )


def test_it_does_not_call_a_missed_class_skipping_on_a_day_absent(con: Any) -> None:
    skipped = [DAYS[-12], DAYS[-8], DAYS[-3]]
    assert "period_skipping" not in flags(con, absent(DAYS[-3]), sections=skipped)


def test_it_flags_growing_tardiness(con: Any) -> None:
    tardy = [DAYS[-19], DAYS[-9], DAYS[-4], DAYS[-1]]
    flag = flags(con, absent(*tardy, category="Tardy"))["growing_tardiness"]
    assert flag["evidence_dates"] == tardy
    assert flag["detail"] == "4 tardy days in the last 20 school days"


def test_it_does_not_flag_tardiness_outside_the_window(con: Any) -> None:
    tardy = [DAYS[-25], DAYS[-9], DAYS[-4], DAYS[-1]]
    assert "growing_tardiness" not in flags(con, absent(*tardy, category="Tardy"))


def test_it_flags_a_student_on_track_to_become_chronic_with_the_crossing_date(con: Any) -> None:
    # 30 school days counted (a reported day on the as-of date), 4 absences: 13.3 %.
    # The year's line is 7.6 of 76 days; 3.6 more at 4 per 30 days take 27 days: day 57.
    as_of = DAYS[29]
    events = [
        *absent(DAYS[2], DAYS[7], DAYS[15], DAYS[22]),
        *absent(as_of, category="In Attendance"),
    ]
    flag = flags(con, events, as_of=as_of)["on_track_to_chronic"]
    assert flag["evidence_dates"] == [DAYS[2], DAYS[7], DAYS[15], DAYS[22]]
    assert flag["projected_crossing_date"] == DAYS[56]
    assert flag["detail"] == (
        "4.0 days absent in 30 school days; at this rate 10.1 of 76 planned days"
    )


def test_it_does_not_flag_a_student_below_the_chronic_rate(con: Any) -> None:
    as_of = DAYS[29]
    events = [*absent(DAYS[2], DAYS[15]), *absent(as_of, category="In Attendance")]
    assert "on_track_to_chronic" not in flags(con, events, as_of=as_of)
