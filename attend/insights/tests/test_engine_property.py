"""Property test: random small districts give the same metrics and flags from the Ibis engine
(DuckDB) as from the plain-loop reference implementation of ATTENDANCE-RULES."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from fractions import Fraction
from typing import Any

import ibis
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from attend.insights.engine.patterns import flagged
from attend.insights.engine.reference import Reference, reference_flags, reference_metrics
from attend.insights.engine.settings import Policy
from attend.insights.engine.testing import prepared, run_flags, run_metrics, weekdays

START = date(2024, 9, 2)
CATEGORIES = [
    "Unexcused Absence",
    "Unexcused Absence",
    "Unexcused Absence",
    "Excused Absence",
    "partial",
    "Tardy",
    "Early departure",
    "In Attendance",
    "Present",
    "EXCUSED ABSENCE",
    "Field trip",
]
DURATIONS = [None, None, None, 0.0, 0.25, 0.5, 0.75, 1.0, 1.5]
EXIT_TYPES = [None, None, "Transferred", "No show", "invalid enrollment"]
SMALL = Policy(
    recent_window_days=5,
    sudden_drop_min_prior_days=5,
    sudden_drop_min_absences=2,
    streak_min_days=2,
    weekday_min_absences=2,
    break_min_absences=1,
    period_skip_min_days=1,
    tardy_min_days=2,
    eligibility_min_days=3,
    on_track_min_days=3,
)
POLICIES = [
    Policy(),
    SMALL,
    SMALL.with_(exit_inclusive=False, partial_default=Fraction(1, 2)),
    SMALL.with_(positive_reporting_schools=frozenset({"B"}), cut_at_last_reported=False),
    SMALL.with_(ignore_recorded_after_as_of=True, chronic_threshold=Fraction(1, 5)),
]


@pytest.fixture(scope="module")
def con() -> Any:
    return ibis.duckdb.connect()


def _day(offset: int) -> date:
    return START + timedelta(days=offset)


@st.composite
def districts(draw: st.DrawFn) -> tuple[dict[str, list[dict[str, Any]]], date, Policy]:
    """1-3 schools on a 4-9 week calendar with holidays; 1-8 students; up to 30 events each,
    most of them on school days so that they count. (Each example is costly to set up and
    cheap to widen, so examples are few and wide.)"""
    weeks = draw(st.integers(4, 9))
    schools = ["A", "B", "C"][: draw(st.integers(1, 3))]
    span = weeks * 7
    data: dict[str, list[dict[str, Any]]] = {
        "school_days": [],
        "enrollments": [],
        "events": [],
        "section_events": [],
    }
    for school in schools:
        holidays = draw(st.sets(st.integers(0, span), max_size=4))
        days = weekdays(_day(0), _day(span), skip={_day(h) for h in holidays})
        data["school_days"] += [{"school_id": school, "date": d, "school_year": 2025} for d in days]
    for n in range(draw(st.integers(1, 8))):
        _student(draw, f"S{n}", schools, span, data)
    as_of = _day(draw(st.one_of(st.integers(0, span + 10), st.just(span + 1))))
    return data, as_of, draw(st.sampled_from(POLICIES))


def _offset(draw: st.DrawFn, span: int) -> int:
    """A day offset, most often a weekday inside the calendar."""
    offset = draw(st.integers(0, span + 3))
    if draw(st.integers(0, 9)) and _day(offset).weekday() >= 5:
        offset -= _day(offset).weekday() - 4
    return offset


def _student(
    draw: st.DrawFn,
    student: str,
    schools: list[str],
    span: int,
    data: dict[str, list[dict[str, Any]]],
) -> None:
    for _ in range(draw(st.integers(1, 3))):
        entry = draw(st.one_of(st.just(0), st.just(-4), st.integers(-5, span)))
        exit_ = draw(st.one_of(st.none(), st.none(), st.integers(entry - 3, span + 5)))
        data["enrollments"].append(
            {
                "student_id": student,
                "school_id": draw(st.sampled_from(schools)),
                "school_year": 2025,
                "entry_date": _day(entry),
                "exit_date": None if exit_ is None else _day(exit_),
                "exit_type": draw(st.sampled_from(EXIT_TYPES)),
                "grade": "Third grade",
            }
        )
    for _ in range(draw(st.integers(0, 30))):
        day = _day(_offset(draw, span))
        late = timedelta(days=draw(st.integers(0, 8)))
        data["events"].append(
            {
                "student_id": student,
                "school_id": draw(st.sampled_from(schools)),
                "date": day,
                "recorded_at": datetime.combine(day + late, time(16)),
                "category": draw(st.sampled_from(CATEGORIES)),
                "duration": draw(st.sampled_from(DURATIONS)),
                "school_year": draw(st.sampled_from([None, None, None, 2025, 2024])),
            }
        )
    for _ in range(draw(st.integers(0, 6))):
        data["section_events"].append(
            {
                "student_id": student,
                "school_id": draw(st.sampled_from(schools)),
                "section_id": "MATH-1",
                "date": _day(_offset(draw, span)),
                "category": draw(st.sampled_from(["Unexcused Absence", "Tardy", "In Attendance"])),
            }
        )


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(districts())
def test_it_matches_the_reference_implementation(
    con: Any, district: tuple[dict[str, list[dict[str, Any]]], date, Policy]
) -> None:
    data, as_of, policy = district
    prep = prepared(data, as_of=as_of, con=con, policy=policy)
    ref = Reference.build(data, as_of=as_of, policy=policy)
    assert run_metrics(prep, con) == reference_metrics(ref)
    found = run_flags(prep, con)
    assert found == reference_flags(ref)
    keys = ("student_id", "school_id", "school_year", "pattern")
    who = sorted(tuple(row[k] for k in keys) for row in con.to_pyarrow(flagged(prep)).to_pylist())
    assert who == sorted(tuple(row[k] for k in keys) for row in found)
