"""Lake loading, output files, aggregates and the pandas baseline."""

from __future__ import annotations

import csv
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import ibis
import pyarrow.parquet as pq
import pytest

from attend.insights.engine import EngineResult, compute, daily, write_outputs
from attend.insights.engine.metrics import METRIC_COLUMNS
from attend.insights.engine.pandas_ref import pandas_metrics
from attend.insights.engine.patterns import FLAG_COLUMNS
from attend.insights.engine.quality import QUALITY_COLUMNS
from attend.insights.engine.testing import (
    arrow_table,
    engine_input,
    prepared,
    run_metrics,
    synthetic_district,
    weekdays,
    write_lake,
)

AS_OF = date(2025, 1, 15)


@pytest.fixture(scope="module")
def con() -> Any:
    return ibis.duckdb.connect()


@pytest.fixture(scope="module")
def district() -> dict[str, list[dict[str, Any]]]:
    return synthetic_district(students=30, seed=5)


@pytest.fixture(scope="module")
def result(con: Any, district: dict[str, list[dict[str, Any]]]) -> EngineResult:
    return compute(source=engine_input(district), as_of=AS_OF, con=con)


@pytest.mark.parametrize("fmt", ["json", "ndjson", "parquet"])
def test_it_reads_a_lake_folder_like_the_normalised_tables(
    con: Any,
    district: dict[str, list[dict[str, Any]]],
    result: EngineResult,
    tmp_path: Path,
    fmt: str,
) -> None:
    folder = write_lake(district, tmp_path / fmt, fmt)
    from_lake = compute(source=folder, as_of=AS_OF, con=con)
    assert from_lake.metrics.equals(result.metrics)
    assert from_lake.flags.equals(result.flags)
    assert from_lake.aggregates.equals(result.aggregates)


def test_it_matches_descriptors_case_insensitively_after_the_hash(con: Any, tmp_path: Path) -> None:
    days = weekdays(date(2024, 9, 2), date(2024, 9, 13))
    (tmp_path / "calendarDates.ndjson").write_text(
        "".join(
            f'{{"calendarReference": {{"schoolId": 7, "schoolYear": 2025}}, "date": "{d}", '
            f'"calendarEvents": [{{"calendarEventDescriptor": "uri://x.org/CalendarEventDescriptor'
            f'#INSTRUCTIONAL DAY"}}]}}\n'
            for d in days
        )
    )
    (tmp_path / "studentSchoolAssociations.json").write_text(
        '[{"studentReference": {"studentUniqueId": "S1"}, "schoolReference": {"schoolId": 7},'
        ' "entryDate": "2024-09-02"}]'
    )
    (tmp_path / "studentSchoolAttendanceEvents.json").write_text(
        '[{"studentReference": {"studentUniqueId": "S1"}, "schoolReference": {"schoolId": 7},'
        ' "eventDate": "2024-09-03", "attendanceEventCategoryDescriptor":'
        ' "uri://ed-fi.org/AttendanceEventCategoryDescriptor#unexcused absence",'
        ' "eventDuration": 0.5},'
        ' {"studentReference": {"studentUniqueId": "S1"}, "schoolReference": {"schoolId": 7},'
        ' "eventDate": "2024-09-04", "attendanceEventCategoryDescriptor":'
        ' "uri://ed-fi.org/AttendanceEventCategoryDescriptor#Sick"}]'
    )
    out = compute(source=tmp_path, as_of=date(2024, 9, 20), con=con)
    (row,) = out.metrics.to_pylist()
    assert (row["school_id"], row["enrolled_days"], row["unexcused_absent_days"]) == ("7", 10, 0.5)
    assert [(q["kind"], q["detail"]) for q in out.quality.to_pylist()] == [
        ("unknown_descriptor", "unknown attendance category 'Sick'")
    ]


def test_it_writes_csv_files_in_the_house_format(result: EngineResult, tmp_path: Path) -> None:
    paths = write_outputs(result, tmp_path / "out" / "metrics.csv")
    assert [p.name for p in paths] == [
        "metrics.csv",
        "metrics.flags.csv",
        "metrics.quality.csv",
        "metrics.aggregates.csv",
        "metrics.trend.csv",
    ]
    with paths[0].open() as handle:
        metrics = list(csv.DictReader(handle))
    assert tuple(metrics[0]) == METRIC_COLUMNS
    assert {m["eligible"] for m in metrics} <= {"true", "false"}
    assert all(m["as_of"] == "2025-01-15" for m in metrics)
    ineligible = [m for m in metrics if m["eligible"] == "false"]
    assert all(m["chronic"] == "" and m["tier"] == "" for m in ineligible)
    with paths[1].open() as handle:
        flags = list(csv.DictReader(handle))
    assert tuple(flags[0]) == FLAG_COLUMNS
    first = flags[0]["evidence_dates"].split(";")
    assert all(date.fromisoformat(d) for d in first)
    with paths[2].open() as handle:
        assert tuple(next(csv.reader(handle))) == QUALITY_COLUMNS


def test_it_compares_chronic_exactly_in_the_csv(result: EngineResult, tmp_path: Path) -> None:
    from decimal import Decimal

    (path, *_) = write_outputs(result, tmp_path / "metrics.csv")
    with path.open() as handle:
        for row in csv.DictReader(handle):
            if row["eligible"] == "true":
                chronic = Decimal(row["absent_days"]) * 10 >= int(row["enrolled_days"])
                assert row["chronic"] == str(chronic).lower()


def test_it_writes_metrics_as_parquet(result: EngineResult, tmp_path: Path) -> None:
    paths = write_outputs(result, tmp_path / "metrics.parquet")
    assert pq.read_table(paths[0]).equals(result.metrics)
    assert paths[1].name == "metrics.flags.csv"


def test_it_aggregates_with_district_roll_up_and_suppression(con: Any) -> None:
    days = weekdays(date(2024, 9, 2), date(2024, 9, 27))  # 20 school days
    data: dict[str, list[dict[str, Any]]] = {
        "school_days": [
            {"school_id": s, "date": d, "school_year": 2025} for s in ("A", "B") for d in days
        ],
        "schools": [{"school_id": s, "district_id": "D"} for s in ("A", "B")],
        "enrollments": [
            {"student_id": f"a{i}", "school_id": "A", "entry_date": days[0], "grade": "First grade"}
            for i in range(12)
        ],
        "students": [
            {"student_id": f"a{i}", "sex": "Female" if i < 6 else "Male"} for i in range(12)
        ],
        # a0 moves to B for the second half: one student in the district, a row at each school.
        "events": [
            {"student_id": "a1", "school_id": "A", "date": d, "category": "Unexcused Absence"}
            for d in days[:2]
        ],
    }
    data["enrollments"][0]["exit_date"] = days[9]
    data["enrollments"].append(
        {"student_id": "a0", "school_id": "B", "entry_date": days[10], "grade": "First grade"}
    )
    out = compute(source=engine_input(data), as_of=date(2024, 10, 1), con=con)
    cells = {
        (c["scope"], c["school_id"], c["dimension"], c["value"]): c
        for c in out.aggregates.to_pylist()
    }
    district = cells[("district", None, "all", "all")]
    assert (
        district["enrolled_students"],
        district["enrolled_days"],
        district["chronic_students"],
    ) == (12, 240, 1)
    assert district["average_daily_attendance"] == 238 / 240
    assert district["satisfactory"] + district["moderate_chronic"] == 12
    school_a = cells[("school", "A", "all", "all")]
    assert (school_a["enrolled_students"], school_a["enrolled_days"]) == (12, 230)
    assert cells[("school", "B", "all", "all")]["suppressed"]
    assert cells[("school", "B", "all", "all")]["enrolled_students"] is None
    assert cells[("district", None, "sex", "Male")]["suppressed"]  # 6 students each
    assert cells[("district", None, "sex", "Female")]["suppressed"]
    assert not cells[("district", None, "grade", "First grade")]["suppressed"]
    weeks = [
        t for t in out.trend.to_pylist() if (t["scope"], t["dimension"]) == ("district", "all")
    ]
    assert [w["enrolled_days"] for w in weeks] == [60, 60, 60, 60]
    assert weeks[0]["absent_days"] == 2.0


def test_it_agrees_with_the_pandas_baseline(
    con: Any, district: dict[str, list[dict[str, Any]]]
) -> None:
    frames = {name: arrow_table(name, rows).to_pandas() for name, rows in district.items()}
    baseline = pandas_metrics(frames, as_of=AS_OF).to_dict("records")
    engine = run_metrics(prepared(district, as_of=AS_OF, con=con), con)
    assert len(engine) == len(baseline) > 0
    for mine, theirs in zip(engine, baseline, strict=True):
        theirs["as_of"] = AS_OF
        theirs = {k: (None if isinstance(v, float) and v != v else v) for k, v in theirs.items()}
        assert mine == theirs


def test_it_gives_the_same_pandas_baseline_in_student_chunks(
    district: dict[str, list[dict[str, Any]]],
) -> None:
    frames = {name: arrow_table(name, rows).to_pandas() for name, rows in district.items()}
    whole = pandas_metrics(frames, as_of=AS_OF)
    chunked = pandas_metrics(frames, as_of=AS_OF, chunk_students=7)
    assert len(whole) > 7
    assert chunked.equals(whole)


def test_it_adds_up_the_weekly_trend_to_each_cells_year(
    con: Any, district: dict[str, list[dict[str, Any]]]
) -> None:
    from attend.insights.engine import Policy

    out = compute(
        source=engine_input(district), as_of=AS_OF, con=con, policy=Policy(min_cell_students=1)
    )
    keys = ("scope", "school_id", "dimension", "value")
    weeks: dict[tuple[Any, ...], list[int | float]] = {}
    for row in out.trend.to_pylist():
        total = weeks.setdefault(tuple(row[k] for k in keys), [0, 0.0])
        total[0] += row["enrolled_days"]
        total[1] += row["absent_days"]
    cells = {tuple(c[k] for k in keys): c for c in out.aggregates.to_pylist()}
    movers = {e["student_id"] for e in district["enrollments"] if e.get("exit_date")}
    assert movers and len(weeks) == len(cells) > 20
    for key, (enrolled, absent) in weeks.items():
        assert enrolled == cells[key]["enrolled_days"], key
        assert absent == pytest.approx(cells[key]["absent_days"]), key
    # Week by week, each school's days match its students' enrolled days counted one by one.
    per_week: dict[tuple[str, date], int] = {}
    for day in daily(source=engine_input(district), as_of=AS_OF, con=con).to_pylist():
        week = day["date"] - timedelta(days=day["date"].weekday())
        per_week[(day["school_id"], week)] = per_week.get((day["school_id"], week), 0) + 1
    trend = {
        (t["school_id"], t["week_start"]): t["enrolled_days"]
        for t in out.trend.to_pylist()
        if (t["scope"], t["dimension"]) == ("school", "all")
    }
    assert trend == per_week
