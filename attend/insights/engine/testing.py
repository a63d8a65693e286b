"""Helpers for tests and benchmarks: build normalised inputs from plain rows, run parts of the
engine on a given connection, and read results back as plain Python rows."""

from __future__ import annotations

import json
import random
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import ibis
import pyarrow as pa
import pyarrow.parquet as pq
from ibis.backends import BaseBackend

from .api import inputs_for
from .metrics import student_metrics
from .patterns import flags
from .prepare import Prepared, prepare
from .quality import quality_report
from .schema import SCHEMAS, EngineInput
from .settings import Policy

__all__ = [
    "arrow_table",
    "edfi_resources",
    "engine_input",
    "prepared",
    "rows",
    "run_flags",
    "run_metrics",
    "run_quality",
    "school_days",
    "synthetic_district",
    "weekdays",
    "write_lake",
]

Row = Mapping[str, Any]


def weekdays(start: date, end: date, *, skip: Iterable[date] = ()) -> list[date]:
    """Monday-to-Friday dates from `start` to `end` inclusive, leaving out `skip`."""
    skipped = set(skip)
    count = (end - start).days + 1
    days = (start + timedelta(days=i) for i in range(count))
    return [d for d in days if d.weekday() < 5 and d not in skipped]


def school_days(school_id: str, school_year: int, days: Iterable[date]) -> list[dict[str, Any]]:
    """`school_days` rows for one school and year."""
    return [{"school_id": school_id, "date": d, "school_year": school_year} for d in days]


def arrow_table(name: str, data: Sequence[Row]) -> pa.Table:
    """Rows as an Arrow table of the normalised schema `name` (missing keys are null)."""
    schema = SCHEMAS[name].to_pyarrow()
    columns = {f.name: [row.get(f.name) for row in data] for f in schema}
    return pa.table(columns, schema=schema)


def engine_input(data: Mapping[str, Sequence[Row]]) -> EngineInput:
    """Normalised in-memory tables from rows: `{"school_days": [...], "events": [...], ...}`."""
    tables = {name: ibis.memtable(arrow_table(name, rows)) for name, rows in data.items()}
    for required in ("school_days", "enrollments", "events"):
        tables.setdefault(required, ibis.memtable(arrow_table(required, [])))
    return EngineInput(**tables)


def prepared(
    data: Mapping[str, Sequence[Row]],
    *,
    as_of: date,
    con: BaseBackend,
    policy: Policy | None = None,
) -> Prepared:
    """The engine's shared stage on `con`."""
    inputs = inputs_for(engine_input(data), con)
    return prepare(inputs, as_of=as_of, policy=policy or Policy())


def rows(table: pa.Table) -> list[dict[str, Any]]:
    """An Arrow table as a list of row dicts."""
    listed: list[dict[str, Any]] = table.to_pylist()
    return listed


def run_metrics(prep: Prepared, con: BaseBackend) -> list[dict[str, Any]]:
    return rows(con.to_pyarrow(student_metrics(prep)))


def run_flags(prep: Prepared, con: BaseBackend) -> list[dict[str, Any]]:
    return rows(con.to_pyarrow(flags(prep)))


def run_quality(prep: Prepared, con: BaseBackend) -> list[dict[str, Any]]:
    return rows(con.to_pyarrow(quality_report(prep)))


def synthetic_district(
    *,
    students: int,
    schools: int = 4,
    seed: int = 1,
    start: date = date(2024, 9, 2),
    weeks: int = 36,
) -> dict[str, list[dict[str, Any]]]:
    """A deterministic synthetic district in the normalised shape.

    Every school shares one calendar (weekdays, a few holidays); most students stay all year,
    some transfer once; each student has a personal absence rate, so a few are chronic, and
    some tardies, partial days, late-excused absences and section absences.
    """
    rng = random.Random(seed)
    end = start + timedelta(weeks=weeks) - timedelta(days=3)
    holidays = {start + timedelta(days=rng.randrange(weeks * 7)) for _ in range(8)}
    days = weekdays(start, end, skip=holidays)
    ids = [f"S{s:03d}" for s in range(schools)]
    data: dict[str, list[dict[str, Any]]] = {
        "school_days": [row for s in ids for row in school_days(s, start.year + 1, days)],
        "enrollments": [],
        "events": [],
        "section_events": [],
        "students": [],
        "schools": [{"school_id": s, "district_id": "D1", "name": f"School {s}"} for s in ids],
    }
    for n in range(students):
        _synthetic_student(rng, f"P{n:07d}", ids, days, data)
    return data


def _synthetic_student(
    rng: random.Random,
    student: str,
    schools: list[str],
    days: list[date],
    data: dict[str, list[dict[str, Any]]],
) -> None:
    first, second = rng.sample(schools, 2) if len(schools) > 1 else (schools[0], schools[0])
    grade = rng.choice(["Third grade", "Fourth grade", "Fifth grade"])
    split = rng.randrange(1, len(days)) if rng.random() < 0.1 else len(days)
    moves = split < len(days)
    data["enrollments"].append(
        {
            "student_id": student,
            "school_id": first,
            "entry_date": days[0],
            "grade": grade,
            "exit_date": days[split - 1] if moves else None,
            "exit_type": "Transferred" if moves else None,
        }
    )
    if moves:
        data["enrollments"].append(
            {"student_id": student, "school_id": second, "entry_date": days[split], "grade": grade}
        )
    data["students"].append(
        {
            "student_id": student,
            "sex": rng.choice(["Female", "Male"]),
            "race": rng.choice(["White", "Black - African American", "Asian", "Hispanic/Latino"]),
            "el": rng.random() < 0.15,
            "disability": rng.random() < 0.12,
            "econ": rng.random() < 0.5,
        }
    )
    rate = rng.choice([0.01, 0.03, 0.05, 0.08, 0.12, 0.2])
    for i, day in enumerate(days):
        base = {"student_id": student, "school_id": first if i < split else second, "date": day}
        _synthetic_day(rng, rate, base, data)


def _synthetic_day(
    rng: random.Random, rate: float, base: dict[str, Any], data: dict[str, list[dict[str, Any]]]
) -> None:
    roll = rng.random()
    if roll < rate:
        category = rng.choice(["Unexcused Absence", "Excused Absence", "Partial"])
        duration = rng.choice([None, None, 0.5]) if category != "Partial" else 0.25
        data["events"].append({**base, "category": category, "duration": duration})
    elif roll < rate + 0.03:
        data["events"].append({**base, "category": "Tardy"})
    elif roll < rate + 0.04:
        section = {"section_id": "MATH", "category": "Unexcused Absence"}
        data["section_events"].append({**base, **section})


_URI = "uri://ed-fi.org/{}#{}"


def edfi_resources(data: Mapping[str, Sequence[Row]]) -> dict[str, list[dict[str, Any]]]:
    """Normalised rows as Ed-Fi API resources (`docs/lake-format.md`), descriptors as URIs."""
    calendar = [
        {
            "calendarReference": {
                "calendarCode": f"{r['school_id']}-{r['school_year']}",
                "schoolId": r["school_id"],
                "schoolYear": r["school_year"],
            },
            "date": r["date"].isoformat(),
            "calendarEvents": [
                {
                    "calendarEventDescriptor": _URI.format(
                        "CalendarEventDescriptor", "Instructional day"
                    )
                }
            ],
        }
        for r in data.get("school_days", [])
    ]
    return {
        "calendarDates": calendar,
        "studentSchoolAssociations": [_association(r) for r in data.get("enrollments", [])],
        "studentSchoolAttendanceEvents": [_event(r) for r in data.get("events", [])],
        "studentSectionAttendanceEvents": [
            _section_event(r) for r in data.get("section_events", [])
        ],
        "students": [{"studentUniqueId": r["student_id"]} for r in data.get("students", [])],
        "studentEducationOrganizationAssociations": [
            _demographics(r) for r in data.get("students", [])
        ],
        "schools": [
            {
                "schoolId": r["school_id"],
                "nameOfInstitution": r.get("name"),
                "localEducationAgencyReference": {"localEducationAgencyId": r["district_id"]},
            }
            for r in data.get("schools", [])
        ],
    }


def _association(row: Row) -> dict[str, Any]:
    record: dict[str, Any] = {
        "studentReference": {"studentUniqueId": row["student_id"]},
        "schoolReference": {"schoolId": row["school_id"]},
        "entryDate": row["entry_date"].isoformat(),
        "entryGradeLevelDescriptor": _URI.format("GradeLevelDescriptor", row.get("grade")),
    }
    if row.get("exit_date") is not None:
        record["exitWithdrawDate"] = row["exit_date"].isoformat()
    if row.get("exit_type"):
        record["exitWithdrawTypeDescriptor"] = _URI.format(
            "ExitWithdrawTypeDescriptor", row["exit_type"]
        )
    return record


def _event(row: Row) -> dict[str, Any]:
    record: dict[str, Any] = {
        "studentReference": {"studentUniqueId": row["student_id"]},
        "schoolReference": {"schoolId": row["school_id"]},
        "eventDate": row["date"].isoformat(),
        "attendanceEventCategoryDescriptor": _URI.format(
            "AttendanceEventCategoryDescriptor", row["category"]
        ),
        "_lastModifiedDate": f"{row['date'].isoformat()}T16:12:00Z",
    }
    if row.get("duration") is not None:
        record["eventDuration"] = row["duration"]
    return record


def _section_event(row: Row) -> dict[str, Any]:
    return {
        "studentReference": {"studentUniqueId": row["student_id"]},
        "sectionReference": {
            "localCourseCode": row.get("section_id"),
            "schoolId": row["school_id"],
            "sectionIdentifier": "1",
            "sessionName": "Fall",
        },
        "eventDate": row["date"].isoformat(),
        "attendanceEventCategoryDescriptor": _URI.format(
            "AttendanceEventCategoryDescriptor", row["category"]
        ),
    }


def _demographics(row: Row) -> dict[str, Any]:
    traits = ["Economic Disadvantaged"] if row.get("econ") else []
    return {
        "studentReference": {"studentUniqueId": row["student_id"]},
        "educationOrganizationReference": {"educationOrganizationId": 100},
        "sexDescriptor": _URI.format("SexDescriptor", row.get("sex")),
        "hispanicLatinoEthnicity": row.get("race") == "Hispanic/Latino",
        "races": []
        if row.get("race") in (None, "Hispanic/Latino")
        else [{"raceDescriptor": _URI.format("RaceDescriptor", row["race"])}],
        "limitedEnglishProficiencyDescriptor": _URI.format(
            "LimitedEnglishProficiencyDescriptor", "Limited" if row.get("el") else "NotLimited"
        ),
        "disabilities": [{"disabilityDescriptor": _URI.format("DisabilityDescriptor", "Autism")}]
        if row.get("disability")
        else [],
        "studentCharacteristics": [
            {"studentCharacteristicDescriptor": _URI.format("StudentCharacteristicDescriptor", t)}
            for t in traits
        ],
    }


def write_lake(data: Mapping[str, Sequence[Row]], folder: Path, fmt: str = "ndjson") -> Path:
    """Write normalised rows as a lake folder of Ed-Fi resources (`json`, `ndjson`, `parquet`)."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, records in edfi_resources(data).items():
        path = folder / f"{name}.{fmt}"
        if fmt == "parquet":
            # Arrow infers the schema from the first record; give every record every field.
            fields = list(dict.fromkeys(key for record in records for key in record))
            full = [{key: record.get(key) for key in fields} for record in records]
            pq.write_table(pa.Table.from_pylist(full), path)
        elif fmt == "json":
            path.write_text(json.dumps(records))
        else:
            path.write_text("".join(json.dumps(record) + "\n" for record in records))
    return folder
