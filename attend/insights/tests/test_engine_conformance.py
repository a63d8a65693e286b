"""Conformance with published data: the Ed-Fi AMT chronic-absenteeism fixture, the Ed-Fi DS 5.2
sample on a shifted real calendar, and the NYC DOE district publication (2018-2022).

The data lives outside the repository (`../shared/data/attendance`, see its SOURCES.md).
"""

from __future__ import annotations

import csv
import re
from collections import defaultdict
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import ibis
import pytest

from attend.insights.engine import Policy, compute, daily
from attend.insights.engine.aggregates import finish_cells
from attend.insights.engine.testing import engine_input

DATA = Path(__file__).resolve().parents[3] / ".." / "shared" / "data" / "attendance"
pytestmark = pytest.mark.skipif(
    not DATA.is_dir(),
    reason="../shared/data not present: conformance data is only in CI and the dev machine",
)
AMT = DATA / "edfi-amt-chrab-fixture"
DS52 = DATA / "edfi-ds52-sample"
NYC = DATA / "nyc-doe-district-attendance-2018-2022"


@pytest.fixture(scope="module")
def con() -> Any:
    return ibis.duckdb.connect()


# -- Ed-Fi Analytics Middle Tier: 89 expected per-day results --------------------------------

# The fixture is SQL INSERT text; each statement is `INSERT INTO edfi.T(cols) (SELECT vals
# WHERE NOT EXISTS ...)`. It is read as data only.
_INSERT = re.compile(
    r"INSERT INTO edfi\.(\w+)\s*\(([^)]*)\)\s*\(\s*SELECT\s+(.*?)\s+WHERE NOT EXISTS", re.S
)
_COLUMN_FLAGS = {
    "ReportedAsPresentAtSchool": "reported_present",
    "ReportedAsAbsentFromSchool": "reported_absent",
    "ReportedAsPresentAtHomeRoom": "homeroom_present",
    "ReportedAsAbsentFromHomeRoom": "homeroom_absent",
    "ReportedAsIsPresentInAllSections": "all_sections_present",
    "ReportedAsAbsentFromAnySection": "section_absent",
}


def _values(text: str) -> Iterator[str | None]:
    for match in re.finditer(r"'((?:[^']|'')*)'|(NULL)|([-\w.]+)", text):
        quoted, null, bare = match.groups()
        yield None if null else (quoted.replace("''", "'") if quoted is not None else bare)


def _fixture_tables() -> dict[str, list[dict[str, str | None]]]:
    text = (AMT / "0000_ChronicAbsenteeismAttendanceFact_Data_Load.postgres_v4_0.xml").read_text(
        encoding="utf-8-sig"
    )
    tables: dict[str, list[dict[str, str | None]]] = defaultdict(list)
    for name, columns, values in _INSERT.findall(text):
        names = [c.strip() for c in columns.split(",")]
        values = re.sub(r"CAST\('([^']*)' as DATE\)", r"'\1'", values)
        row = dict(zip(names, _values(values), strict=True))
        tables[name].append(row)
    tables["Descriptor"] = [
        {"DescriptorId": i, "CodeValue": c}
        for i, c in re.findall(r"\((\d+),'[^']*','([^']*)'\)", text)
    ]
    return tables


def _amt_input(tables: dict[str, list[dict[str, Any]]]) -> dict[str, list[dict[str, Any]]]:
    """The fixture's ODS rows in the engine's normalised shape (what an importer would do)."""
    code = {row["DescriptorId"]: row["CodeValue"] for row in tables["Descriptor"]}
    student = {row["StudentUSI"]: row["StudentUniqueId"] for row in tables["Student"]}
    year = {(r["SchoolId"], r["Date"]): int(r["SchoolYear"]) for r in tables["CalendarDate"]}
    homeroom: dict[tuple[Any, ...], bool] = {}
    for row in tables["StudentSectionAssociation"]:
        key = _section(row)
        homeroom[key] = homeroom.get(key, False) or row["HomeroomIndicator"] == "1"
    return {
        "school_days": [
            {
                "school_id": r["SchoolId"],
                "date": date.fromisoformat(r["Date"]),
                "school_year": year[(r["SchoolId"], r["Date"])],
                "event": code[r["CalendarEventDescriptorId"]],
            }
            for r in tables["CalendarDateCalendarEvent"]
            if code[r["CalendarEventDescriptorId"]] == "Instructional day"
        ],
        "enrollments": [
            {
                "student_id": student[r["StudentUSI"]],
                "school_id": r["SchoolId"],
                "entry_date": date.fromisoformat(r["EntryDate"]),
                "exit_date": date.fromisoformat(r["ExitWithdrawDate"])
                if r.get("ExitWithdrawDate")
                else None,
                "exit_type": code.get(r.get("ExitWithdrawTypeDescriptorId") or ""),
            }
            for r in tables["StudentSchoolAssociation"]
        ],
        "events": [
            {
                "student_id": student[r["StudentUSI"]],
                "school_id": r["SchoolId"],
                "date": date.fromisoformat(r["EventDate"]),
                "school_year": int(r["SchoolYear"]),
                "category": code[r["AttendanceEventCategoryDescriptorId"]],
            }
            for r in tables["StudentSchoolAttendanceEvent"]
        ],
        "section_events": [
            {
                "student_id": student[r["StudentUSI"]],
                "school_id": r["SchoolId"],
                "section_id": "|".join(str(k) for k in _section(r)),
                "date": date.fromisoformat(r["EventDate"]),
                "school_year": int(r["SchoolYear"]),
                "category": code[r["AttendanceEventCategoryDescriptorId"]],
                "homeroom": homeroom.get(_section(r), False),
            }
            for r in tables["StudentSectionAttendanceEvent"]
        ],
    }


def _section(row: dict[str, Any]) -> tuple[Any, ...]:
    return (
        row["StudentUSI"],
        row["SchoolId"],
        row["LocalCourseCode"],
        row["SchoolYear"],
        row["SectionIdentifier"],
        row["SessionName"],
    )


def _expected() -> list[dict[str, str]]:
    with (AMT / "derived_expected_results.csv").open(encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def _check(expectation: dict[str, str], days: dict[tuple[str, str, str], dict[str, Any]]) -> bool:
    column, expected = expectation["column"], expectation["expected"]
    key = (expectation["StudentKey"], expectation["SchoolKey"], expectation["DateKey"])
    if column == "CountValue":
        if not key[0]:  # "future dates": no row at all on that date
            return str(sum(1 for k in days if k[2] == key[2])) == expected
        return str(int(key in days)) == expected
    row = days.get(key)
    if row is None:
        return False
    if column in _COLUMN_FLAGS:
        return str(int(row[_COLUMN_FLAGS[column]])) == expected
    derived = {
        "StudentKey": key[0],
        "SchoolKey": key[1],
        "DateKey": key[2],
        "StudentSchoolKey": f"{key[0]}-{key[1]}",
    }
    return derived[column] == expected


def test_it_reproduces_all_89_amt_expected_per_day_results(con: Any) -> None:
    tables = _fixture_tables()
    source = engine_input(_amt_input(tables))
    result = daily(source=source, as_of=date(2025, 1, 1), con=con).to_pylist()
    days = {(r["student_id"], r["school_id"], r["date"].strftime("%Y%m%d")): r for r in result}
    expectations = _expected()
    failed = [e["testcase_file"] for e in expectations if not _check(e, days)]
    assert len(expectations) == 89
    assert failed == []


# -- Ed-Fi DS 5.2 sample on the shifted 2010-11 calendar --------------------------------------


def _ds52_input() -> dict[str, list[dict[str, Any]]]:
    with (DS52 / "derived_calendar_dates_2021-22_SHIFTED_FROM_2010-11.csv").open() as handle:
        calendar = [r for r in csv.DictReader(handle) if r["calendarEvent"] == "Instructional day"]
    with (DS52 / "derived_student_school_attendance_events.csv").open() as handle:
        events = list(csv.DictReader(handle))
    first = min(r["date"] for r in calendar)
    pairs = sorted({(r["studentUniqueId"], r["schoolId"]) for r in events})
    return {
        "school_days": [
            {"school_id": r["schoolId"], "date": date.fromisoformat(r["date"]), "school_year": 2022}
            for r in calendar
        ],
        # The sample has no associations: every student is enrolled all year at each school
        # where they have events.
        "enrollments": [
            {"student_id": s, "school_id": k, "entry_date": date.fromisoformat(first)}
            for s, k in pairs
        ],
        "events": [
            {
                "student_id": r["studentUniqueId"],
                "school_id": r["schoolId"],
                "date": date.fromisoformat(r["eventDate"]),
                "school_year": int(r["schoolYear"].split("-")[1]),
                "category": r["attendanceEventCategory"],
                "duration": float(r["eventDuration"]) if r["eventDuration"] else None,
            }
            for r in events
        ],
    }


def test_it_computes_the_ds52_sample_on_the_shifted_calendar(con: Any) -> None:
    data = _ds52_input()
    assert len(data["events"]) == 1917
    result = compute(source=engine_input(data), as_of=date(2022, 6, 30), con=con)
    metrics = result.metrics.to_pylist()
    assert len(metrics) == 227  # student × school pairs
    assert {r["enrolled_days"] for r in metrics} == {177}  # every school has 177 days
    # 1,077 excused and 773 unexcused full-day absences (one excused day also carries a
    # Partial event), 66 tardies of which 3 fall on Sunday 15 May 2022: 1,914 events used.
    assert sum(r["excused_absent_days"] for r in metrics) == 1077
    assert sum(r["unexcused_absent_days"] for r in metrics) == 773
    assert sum(r["absent_days"] for r in metrics) == 1850
    assert sum(r["tardy_days"] for r in metrics) == 63
    quality = result.quality.to_pylist()
    assert [(q["kind"], q["date"]) for q in quality] == [("non_school_day", date(2022, 5, 15))] * 3
    detail = daily(
        source=engine_input(data), as_of=date(2022, 6, 30), con=con, students=["604822"]
    ).to_pylist()
    day = next(r for r in detail if r["date"] == date(2021, 12, 15))
    assert (day["absent"], day["reported_absent"]) == (1_000_000, True)
    student = next(r for r in metrics if r["student_id"] == "604822")
    assert student["excused_absent_days"] == student["absent_days"]


# -- NYC DOE district publication ------------------------------------------------------------

_NYC_FILES = ("All_Students", "SWD", "Ethnicity", "Gender", "Poverty", "ELL", "STH")
_NYC = Policy(min_cell_students=6, min_cell_days=901)  # "five or fewer", "900 or fewer days"


def _number(text: str) -> int | None:
    return None if text == "s" else int(text)


def _nyc_cells() -> tuple[list[dict[str, Any]], list[dict[str, str]]]:
    cells, published = [], []
    for name in _NYC_FILES:
        with (NYC / f"derived_{name}.csv").open(encoding="utf-8") as handle:
            for row in csv.DictReader(handle):
                total, absent = _number(row["# Total Days"]), _number(row["# Days Absent"])
                contributing = _number(row["# Contributing 10+ Total Days and 1+ Pres Day"])
                cells.append(
                    {
                        "school_year": int(row["Year"][:4]) + 1,
                        "scope": "district",
                        "district_id": row["District"],
                        "school_id": None,
                        "dimension": name,
                        "value": f"{row['Grade']}|{row['Category']}",
                        # Not published: suppression of the attendance figures goes by days.
                        "enrolled_students": None,
                        "eligible_students": contributing,
                        "chronic_students": _number(row["# Chronically Absent"]),
                        "enrolled_days": total,
                        "absent_days": absent,
                        "present_days": _number(row["# Days Present"]),
                    }
                )
                published.append(row)
    return cells, published


def test_it_reproduces_the_nyc_published_rates_and_suppression() -> None:
    cells, published = _nyc_cells()
    schema = {
        "enrolled_students": "int64",
        "eligible_students": "int64",
        "chronic_students": "int64",
        "enrolled_days": "int64",
        "absent_days": "float64",
        "present_days": "float64",
    }
    table = ibis.memtable(cells).cast({**schema, "school_id": "string"})
    table = table.mutate(
        **{
            t: ibis.null("int64")
            for t in ("satisfactory", "at_risk", "moderate_chronic", "severe_chronic")
        }
    )
    out = finish_cells(table, _NYC).to_pyarrow().to_pylist()
    worst_ada = worst_chronic = 0.0
    for mine, given, theirs in zip(out, cells, published, strict=True):
        if theirs["% Attendance"] == "s":
            # Published suppression includes secondary cells; the primary rule must agree.
            assert mine["suppressed"] or int(theirs["# Total Days"]) > 900
        else:
            assert not mine["suppressed"]
            worst_ada = max(
                worst_ada,
                abs(mine["average_daily_attendance"] * 100 - float(theirs["% Attendance"])),
            )
        if theirs["% Chronically Absent"] == "s":
            contributing = given["eligible_students"]
            assert mine["chronic_suppressed"] or (contributing is not None and contributing > 5)
        else:
            assert not mine["chronic_suppressed"]
            worst_chronic = max(
                worst_chronic,
                abs(mine["chronic_rate"] * 100 - float(theirs["% Chronically Absent"])),
            )
    # The publication stores percentages as 32-bit floats: agreement to 5 decimals.
    assert worst_ada < 1e-5
    assert worst_chronic < 1e-5
    assert len(out) == 38_938
