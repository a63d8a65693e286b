"""App mode: the engine's normalised input tables read from the database.

The same Ibis expressions as lake mode run on these tables, so a number on a screen and a
number in an exported file are computed by the same code.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import ibis
import pandas as pd

from attend.attendance.choices import Category
from attend.attendance.models import AttendanceEvent
from attend.insights.engine import EngineInput
from attend.roster.models import CalendarDate, Enrollment, School, Section, Student

# Ledger categories → Ed-Fi code values the engine understands.
EDFI_NAME = {c.value: c.label for c in Category}


def _frame(rows: Any, columns: list[str]) -> pd.DataFrame:
    return pd.DataFrame.from_records(list(rows), columns=columns)


def _school_days(school_year: int) -> pd.DataFrame:
    rows = CalendarDate.objects.filter(
        is_school_day=True, calendar__school_year=school_year
    ).values_list("calendar__school__school_id", "date", "calendar__school_year")
    return _frame(rows, ["school_id", "date", "school_year"]).drop_duplicates()


def _enrollments(school_year: int) -> pd.DataFrame:
    rows = Enrollment.objects.filter(school_year=school_year).values_list(
        "student__student_unique_id",
        "school__school_id",
        "school_year",
        "entry_date",
        "exit_date",
        "exit_type",
        "grade",
    )
    columns = [
        "student_id",
        "school_id",
        "school_year",
        "entry_date",
        "exit_date",
        "exit_type",
        "grade",
    ]
    return _frame(rows, columns)


def _events(start: dt.date, end: dt.date, *, sections: bool) -> pd.DataFrame:
    ledger = AttendanceEvent.objects.filter(deleted_at__isnull=True, event_date__range=(start, end))
    ledger = ledger.exclude(section_id="") if sections else ledger.filter(section_id="")
    rows = ledger.values_list(
        "student__student_unique_id",
        "school__school_id",
        "section_id",
        "event_date",
        "category",
        "duration",
        "recorded_at",
    )
    frame = _frame(
        rows,
        ["student_id", "school_id", "section_id", "date", "category", "duration", "recorded_at"],
    )
    frame["category"] = frame["category"].map(EDFI_NAME)
    frame["duration"] = frame["duration"].astype("float64")
    frame["recorded_at"] = pd.to_datetime(frame["recorded_at"], utc=True).dt.tz_localize(None)
    return frame


def _homerooms(frame: pd.DataFrame) -> pd.DataFrame:
    homeroom = set(Section.objects.filter(homeroom=True).values_list("section_id", flat=True))
    frame["homeroom"] = frame["section_id"].isin(homeroom)
    return frame


def _students() -> pd.DataFrame:
    rows = Student.objects.values_list(
        "student_unique_id",
        "sex",
        "race",
        "english_learner",
        "disability",
        "economic_disadvantage",
    )
    return _frame(rows, ["student_id", "sex", "race", "el", "disability", "econ"])


def _schools() -> pd.DataFrame:
    rows = School.objects.values_list("school_id", "district__lea_id", "name")
    return _frame(rows, ["school_id", "district_id", "name"])


def database_input(school_year: int, start: dt.date, end: dt.date) -> EngineInput:
    """Every table the engine needs for one school year, read in a handful of queries."""
    return EngineInput(
        school_days=ibis.memtable(_school_days(school_year)),
        enrollments=ibis.memtable(_enrollments(school_year)),
        events=ibis.memtable(_events(start, end, sections=False)),
        section_events=ibis.memtable(_homerooms(_events(start, end, sections=True))),
        students=ibis.memtable(_students()),
        schools=ibis.memtable(_schools()),
    )
