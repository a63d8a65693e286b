"""The engine's normalised input shape and the Ed-Fi code values it understands.

Lake mode (`load.py`) and, later, app mode (tables read from the database) both feed the engine
tables of exactly these schemas; everything downstream relies on nothing else.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import ibis
import ibis.expr.types as ir

__all__ = [
    "ABSENCE_CATEGORIES",
    "CATEGORIES",
    "EXIT_TYPES_IGNORED",
    "IGNORED_EXIT_CODES",
    "PRESENT_CATEGORIES",
    "SCHEMAS",
    "SCHOOL_DAY_EVENTS",
    "SEVERITY",
    "EngineInput",
    "canonical",
    "code_value",
    "conform",
    "descriptor",
    "empty",
    "is_descriptor",
]

UNEXCUSED = "Unexcused Absence"
EXCUSED = "Excused Absence"
PARTIAL = "Partial"
EARLY_DEPARTURE = "Early departure"
TARDY = "Tardy"
IN_ATTENDANCE = "In Attendance"
PRESENT = "Present"

# Rule 7: severity order; the most severe event of a day decides its category.
SEVERITY: Mapping[str, int] = {
    UNEXCUSED: 5,
    EXCUSED: 4,
    PARTIAL: 3,
    EARLY_DEPARTURE: 2,
    TARDY: 1,
    IN_ATTENDANCE: 0,
    PRESENT: 0,
}
CATEGORIES: tuple[str, ...] = tuple(SEVERITY)
ABSENCE_CATEGORIES: tuple[str, ...] = (UNEXCUSED, EXCUSED, PARTIAL)
PRESENT_CATEGORIES: tuple[str, ...] = (IN_ATTENDANCE, PRESENT)
SCHOOL_DAY_EVENTS: tuple[str, ...] = (
    "Instructional day",
    "Make-up day",
    "Student late arrival/early dismissal",
)
EXIT_TYPES_IGNORED: tuple[str, ...] = ("No show", "Invalid enrollment")
IGNORED_EXIT_CODES: tuple[str, ...] = tuple(x.lower() for x in EXIT_TYPES_IGNORED)

SCHEMAS: Mapping[str, ibis.Schema] = {
    "school_days": ibis.schema({"school_id": "string", "date": "date", "school_year": "int64"}),
    "enrollments": ibis.schema(
        {
            "student_id": "string",
            "school_id": "string",
            "school_year": "int64",
            "entry_date": "date",
            "exit_date": "date",
            "exit_type": "string",
            "grade": "string",
        }
    ),
    "events": ibis.schema(
        {
            "student_id": "string",
            "school_id": "string",
            "date": "date",
            "category": "string",
            "duration": "float64",
            "recorded_at": "timestamp",
            "school_year": "int64",
        }
    ),
    "section_events": ibis.schema(
        {
            "student_id": "string",
            "school_id": "string",
            "section_id": "string",
            "date": "date",
            "category": "string",
            "homeroom": "boolean",
            "recorded_at": "timestamp",
            "school_year": "int64",
        }
    ),
    "students": ibis.schema(
        {
            "student_id": "string",
            "sex": "string",
            "race": "string",
            "el": "boolean",
            "disability": "boolean",
            "econ": "boolean",
        }
    ),
    "schools": ibis.schema({"school_id": "string", "district_id": "string", "name": "string"}),
}


def empty(name: str) -> ir.Table:
    """An empty table of one of the normalised schemas (for optional inputs)."""
    return ibis.memtable(SCHEMAS[name].to_pyarrow().empty_table())


def code_value(uri: ir.StringValue) -> ir.StringValue:
    """The Ed-Fi code value of a descriptor URI: the text after the `#`, trimmed."""
    # find/substr rather than split()[-1] (Ibis turns a negative index into an invalid Spark
    # element_at(…, 0)) or a regular expression (three times slower in DuckDB).
    return uri.substr(uri.find("#") + 1).strip()


def descriptor(uri: ir.StringValue, names: tuple[str, ...]) -> ir.StringValue:
    """The canonical code value of a descriptor URI (or bare code value), case-insensitively.

    URIs that already end in `#<canonical name>` (nearly all) take a cheap suffix test; only
    the others are split, trimmed and lower-cased: at 20M events that is the difference
    between a tenth of a second and several seconds.
    """
    exact = [(uri.endswith("#" + name), ibis.literal(name)) for name in names]
    return ibis.cases(*exact, else_=canonical(code_value(uri), names))


def is_descriptor(uri: ir.StringValue, names: tuple[str, ...]) -> ir.BooleanValue:
    """Whether a descriptor URI (or bare code value) is one of `names`, case-insensitively;
    like `descriptor(uri, names).isin(names)`, but the slow path is written out once."""
    exact = ibis.or_(*[uri.endswith("#" + name) for name in names])
    lowered = code_value(uri).lower().isin([name.lower() for name in names])
    return exact.ifelse(True, lowered).fill_null(False)


def canonical(code: ir.StringValue, names: tuple[str, ...]) -> ir.StringValue:
    """Map a code value case-insensitively onto its canonical spelling; unknown values pass."""
    lowered = code.strip().lower()
    mapping = {name.lower(): name for name in names}
    return lowered.substitute(mapping, else_=code.strip())


@dataclass(frozen=True)
class EngineInput:
    """Normalised input tables (see the package docstring for their columns).

    Optional tables may be None; the engine treats them as empty.
    """

    school_days: ir.Table
    enrollments: ir.Table
    events: ir.Table
    section_events: ir.Table | None = None
    students: ir.Table | None = None
    schools: ir.Table | None = None

    def table(self, name: str) -> ir.Table:
        """The named table cast to its normalised schema (empty when not given)."""
        value: Any = getattr(self, name)
        if value is None:
            return empty(name)
        return conform(value, name)


def conform(table: ir.Table, name: str) -> ir.Table:
    """Select and cast a table's columns to the normalised schema; missing columns become null."""
    schema = SCHEMAS[name]
    columns = {}
    for col, dtype in schema.items():
        if col in table.columns:
            columns[col] = _no_nan(table[col].cast(dtype))
        else:
            columns[col] = ibis.null(dtype)
    return table.select(**columns)


def _no_nan(value: ir.Value) -> ir.Value:
    """NaN means "no value" here (pandas carries nulls in float columns as NaN)."""
    if not value.type().is_floating():
        return value
    number: Any = value
    return (number.isnan().fill_null(False)).ifelse(ibis.null(value.type()), number)
