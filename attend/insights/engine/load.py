"""Lake mode: read a folder of Ed-Fi resources into the engine's normalised tables.

The folder holds one file per resource (`docs/lake-format.md`): `<resource>.parquet`,
`<resource>.ndjson` or `<resource>.json` (an array). JSON is read with an explicit schema of the
fields the engine uses, so a field missing from the first records (an `exitWithdrawDate` that
only late leavers carry) is still read, and the rest of each record is skipped. Descriptors are
matched on their code value after `#`, case-insensitively, and normalised to the spellings of
ATTENDANCE-RULES.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import ibis
import ibis.expr.types as ir
from ibis.backends import BaseBackend

from .schema import (
    CATEGORIES,
    EXIT_TYPES_IGNORED,
    SCHOOL_DAY_EVENTS,
    EngineInput,
    canonical,
    code_value,
    conform,
    descriptor,
    is_descriptor,
)

__all__ = ["RAW_SCHEMAS", "LakeSource", "load_lake", "read_resource"]

_ID = "struct<studentUniqueId: string>"
_SECTION = (
    "struct<localCourseCode: string, schoolId: string, schoolYear: int64, "
    "sectionIdentifier: string, sessionName: string>"
)
RAW_SCHEMAS: Mapping[str, ibis.Schema] = {
    "schools": ibis.schema(
        {
            "schoolId": "string",
            "nameOfInstitution": "string",
            "localEducationAgencyReference": "struct<localEducationAgencyId: string>",
        }
    ),
    "students": ibis.schema({"studentUniqueId": "string"}),
    "studentEducationOrganizationAssociations": ibis.schema(
        {
            "studentReference": _ID,
            "sexDescriptor": "string",
            "hispanicLatinoEthnicity": "boolean",
            "races": "array<struct<raceDescriptor: string>>",
            "limitedEnglishProficiencyDescriptor": "string",
            "disabilities": "array<struct<disabilityDescriptor: string>>",
            "studentCharacteristics": "array<struct<studentCharacteristicDescriptor: string>>",
        }
    ),
    "calendarDates": ibis.schema(
        {
            "calendarReference": "struct<schoolId: string, schoolYear: int64>",
            "date": "string",
            "calendarEvents": "array<struct<calendarEventDescriptor: string>>",
        }
    ),
    "studentSchoolAssociations": ibis.schema(
        {
            "studentReference": _ID,
            "schoolReference": "struct<schoolId: string>",
            "entryDate": "string",
            "exitWithdrawDate": "string",
            "exitWithdrawTypeDescriptor": "string",
            "entryGradeLevelDescriptor": "string",
            "schoolYear": "int64",
        }
    ),
    "studentSchoolAttendanceEvents": ibis.schema(
        {
            "studentReference": _ID,
            "schoolReference": "struct<schoolId: string>",
            # Only the year is used; every field listed here is read from every event.
            "sessionReference": "struct<schoolYear: int64>",
            "eventDate": "string",
            "attendanceEventCategoryDescriptor": "string",
            "eventDuration": "float64",
            "_lastModifiedDate": "string",
        }
    ),
    "studentSectionAttendanceEvents": ibis.schema(
        {
            "studentReference": _ID,
            "sectionReference": _SECTION,
            "eventDate": "string",
            "attendanceEventCategoryDescriptor": "string",
            "_lastModifiedDate": "string",
        }
    ),
    "studentSectionAssociations": ibis.schema(
        {
            "studentReference": _ID,
            "sectionReference": _SECTION,
            "homeroomIndicator": "boolean",
        }
    ),
}
_SUFFIXES = (".parquet", ".ndjson", ".json")


@dataclass(frozen=True)
class LakeSource:
    """A lake-mode folder (see `docs/lake-format.md`)."""

    folder: Path


def load_lake(folder: Path, con: BaseBackend) -> EngineInput:
    """Read the folder's resources on `con` and normalise them (`schema.SCHEMAS`)."""
    raw = {name: read_resource(con, folder, name) for name in RAW_SCHEMAS}
    for required in ("calendarDates", "studentSchoolAssociations"):
        if raw[required] is None:
            raise FileNotFoundError(f"{folder} has no {required} file")
    return EngineInput(
        school_days=_school_days(_need(raw["calendarDates"])),
        enrollments=_enrollments(_need(raw["studentSchoolAssociations"])),
        events=_events(raw["studentSchoolAttendanceEvents"]),
        section_events=_section_events(
            raw["studentSectionAttendanceEvents"], raw["studentSectionAssociations"]
        ),
        students=_students(raw["students"], raw["studentEducationOrganizationAssociations"]),
        schools=_schools(raw["schools"]),
    )


def read_resource(con: BaseBackend, folder: Path, name: str) -> ir.Table | None:
    """The resource's file as a raw table with exactly the `RAW_SCHEMAS` fields, or None."""
    for suffix in _SUFFIXES:
        path = folder / f"{name}{suffix}"
        if path.exists():
            return _conform_raw(_read(con, path, RAW_SCHEMAS[name]), RAW_SCHEMAS[name])
    return None


def _read(con: BaseBackend, path: Path, schema: ibis.Schema) -> ir.Table:
    if path.suffix == ".parquet":
        return con.read_parquet(str(path))
    array = path.suffix == ".json"
    if con.name == "duckdb":
        from ibis.backends.sql.datatypes import DuckDBType

        columns = {col: DuckDBType.to_string(dtype) for col, dtype in schema.items()}
        fmt = "array" if array else "newline_delimited"
        return con.read_json(str(path), columns=columns, format=fmt)
    from ibis.backends.pyspark.datatypes import PySparkSchema

    return con.read_json(str(path), schema=PySparkSchema.from_ibis(schema), multiLine=array)


def _conform_raw(table: ir.Table, schema: ibis.Schema) -> ir.Table:
    """Cast to the raw schema; fields missing from a Parquet file become nulls."""
    return table.select(**{col: _cast(table, col, dtype) for col, dtype in schema.items()})


def _cast(table: ir.Table, col: str, dtype: Any) -> ir.Value:
    if col not in table.columns:
        return ibis.null(dtype)
    have = table.schema()[col]
    if dtype.is_struct() and have.is_struct():
        fields = {
            name: table[col][name].cast(sub) if name in have.names else ibis.null(sub)
            for name, sub in dtype.items()
        }
        return ibis.struct(fields)
    if have.is_date() or have.is_timestamp():
        return table[col].cast("string").cast(dtype)
    return table[col].cast(dtype)


def _need(table: ir.Table | None) -> ir.Table:
    assert table is not None
    return table


def _date(value: ir.StringValue) -> ir.DateValue:
    # Ed-Fi dates are ISO "YYYY-MM-DD" strings (Parquet dates arrive here as such too).
    return value.cast("date")


def _timestamp(value: ir.StringValue) -> ir.TimestampValue:
    # "2025-10-03T16:12:00Z"; only read with `ignore_recorded_after_as_of`, so an odd format
    # becomes null rather than an error.
    return value.try_cast("timestamp")


def _school_days(calendar: ir.Table) -> ir.Table:
    events = calendar.select(
        school_id=calendar.calendarReference.schoolId,
        school_year=calendar.calendarReference.schoolYear,
        date=_date(calendar.date),
        event=calendar.calendarEvents,
    ).unnest("event")
    days = events.filter(is_descriptor(events.event.calendarEventDescriptor, SCHOOL_DAY_EVENTS))
    return conform(days.select("school_id", "date", "school_year").distinct(), "school_days")


def _enrollments(ssa: ir.Table) -> ir.Table:
    exit_type = canonical(code_value(ssa.exitWithdrawTypeDescriptor), EXIT_TYPES_IGNORED)
    table = ssa.select(
        student_id=ssa.studentReference.studentUniqueId,
        school_id=ssa.schoolReference.schoolId,
        school_year=ssa.schoolYear,
        entry_date=_date(ssa.entryDate),
        exit_date=_date(ssa.exitWithdrawDate),
        exit_type=exit_type,
        grade=code_value(ssa.entryGradeLevelDescriptor),
    )
    return conform(table, "enrollments")


def _events(raw: ir.Table | None) -> ir.Table:
    if raw is None:
        return _empty_like("events")
    table = raw.select(
        student_id=raw.studentReference.studentUniqueId,
        school_id=raw.schoolReference.schoolId,
        date=_date(raw.eventDate),
        category=descriptor(raw.attendanceEventCategoryDescriptor, CATEGORIES),
        duration=raw.eventDuration,
        recorded_at=_timestamp(raw._lastModifiedDate),
        school_year=raw.sessionReference.schoolYear,
    )
    return conform(table, "events")


def _section_key(ref: ir.StructValue) -> ir.StringValue:
    parts = [
        ref.schoolId,
        ref.localCourseCode,
        ref.sectionIdentifier,
        ref.sessionName,
        ref.schoolYear.cast("string"),
    ]
    return ibis.literal("|").join([part.fill_null("") for part in parts])


def _section_events(raw: ir.Table | None, associations: ir.Table | None) -> ir.Table:
    if raw is None:
        return _empty_like("section_events")
    table = raw.select(
        student_id=raw.studentReference.studentUniqueId,
        school_id=raw.sectionReference.schoolId,
        section_id=_section_key(raw.sectionReference),
        date=_date(raw.eventDate),
        category=descriptor(raw.attendanceEventCategoryDescriptor, CATEGORIES),
        recorded_at=_timestamp(raw._lastModifiedDate),
        school_year=raw.sectionReference.schoolYear,
    )
    if associations is not None:
        homerooms = associations.group_by(
            student_id=associations.studentReference.studentUniqueId,
            section_id=_section_key(associations.sectionReference),
        ).aggregate(homeroom=associations.homeroomIndicator.any())
        table = table.left_join(homerooms, ["student_id", "section_id"])
    return conform(table, "section_events")


def _students(students: ir.Table | None, seoa: ir.Table | None) -> ir.Table:
    if seoa is None:
        ids = students.select(student_id=students.studentUniqueId) if students is not None else None
        return conform(ids, "students") if ids is not None else _empty_like("students")
    demo = seoa.select(
        student_id=seoa.studentReference.studentUniqueId,
        sex=code_value(seoa.sexDescriptor),
        race=_race(seoa),
        el=code_value(seoa.limitedEnglishProficiencyDescriptor).lower() == "limited",
        disability=seoa.disabilities.length().fill_null(0) > 0,
        econ=seoa.studentCharacteristics.map(
            lambda c: code_value(c.studentCharacteristicDescriptor).lower()
        )
        .contains("economic disadvantaged")
        .fill_null(False),
    )
    # A student may have one association per education organisation; take one value each.
    one = demo.group_by("student_id").aggregate(
        sex=demo.sex.max(),
        race=demo.race.max(),
        el=demo.el.any(),
        disability=demo.disability.any(),
        econ=demo.econ.any(),
    )
    return conform(one, "students")


def _race(seoa: ir.Table) -> ir.StringValue:
    """Hispanic/Latino first (federal rule), then the single race, or "Two or more races"."""
    count = seoa.races.length().fill_null(0)
    first = code_value(seoa.races[0].raceDescriptor)
    return ibis.cases(
        (seoa.hispanicLatinoEthnicity.fill_null(False), "Hispanic/Latino"),
        (count > 1, "Two or more races"),
        (count == 1, first),
        else_=ibis.null("string"),
    )


def _schools(schools: ir.Table | None) -> ir.Table:
    if schools is None:
        return _empty_like("schools")
    table = schools.select(
        school_id=schools.schoolId,
        district_id=schools.localEducationAgencyReference.localEducationAgencyId,
        name=schools.nameOfInstitution,
    )
    return conform(table, "schools")


def _empty_like(name: str) -> ir.Table:
    from .schema import empty

    return empty(name)
