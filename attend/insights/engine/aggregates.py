"""Aggregates by district, school, grade and subgroup, with small-cell suppression.

A cell is a school year × scope (`district` or `school`) × dimension (`all`, `grade`, `sex`,
`race`, `el`, `disability`, `econ`) × value. School cells count a student at every school
(rule 4); district cells count a student once, from their days summed over the district's
schools, with eligibility, chronic status and tier decided on those sums (as NYC DOE does).
Grade is the grade of the latest enrollment; demographics come from the `students` table.

Average daily attendance is present days / enrolled days of the cell (the NYC DOE "% Attendance"
formula); the chronic rate is chronic students / eligible students. Cells with fewer than
`min_cell_students` students (or, when set, fewer than `min_cell_days` enrolled days) are
suppressed: `suppressed` is true and every measure is null; the chronic measures alone are
suppressed (`chronic_suppressed`) when fewer than `min_cell_students` students are eligible.
"""

from __future__ import annotations

import ibis
import ibis.expr.types as ir

from .days import KEYS, YEAR_KEYS, enrollment_grades
from .metrics import status
from .prepare import Prepared
from .settings import MICRO, Policy

__all__ = [
    "AGGREGATE_COLUMNS",
    "DIMENSIONS",
    "TREND_COLUMNS",
    "aggregates",
    "finish_cells",
    "student_rows",
    "weekly_trend",
]

DIMENSIONS = ("all", "grade", "sex", "race", "el", "disability", "econ")
CELL_KEYS = ("school_year", "scope", "district_id", "school_id", "dimension", "value")
TIERS = ("satisfactory", "at_risk", "moderate_chronic", "severe_chronic")
MEASURES = (
    "enrolled_students",
    "eligible_students",
    "chronic_students",
    "chronic_rate",
    *TIERS,
    "enrolled_days",
    "absent_days",
    "present_days",
    "average_daily_attendance",
)
CHRONIC_MEASURES = ("eligible_students", "chronic_students", "chronic_rate", *TIERS)
AGGREGATE_COLUMNS = (*CELL_KEYS, *MEASURES, "suppressed", "chronic_suppressed")
TREND_COLUMNS = (
    *CELL_KEYS,
    "week_start",
    "enrolled_days",
    "absent_days",
    "attendance_rate",
    "suppressed",
)
_VALUE_COLUMNS = tuple(f"v_{dim}" for dim in DIMENSIONS[1:])


def student_rows(prep: Prepared, metrics: ir.Table) -> ir.Table:
    """Metric rows (from `metrics.keyed_metrics`) with `district_id`, the dimension values
    `v_*` and absent micro-days."""
    rows = metrics.filter(metrics.enrolled_days > 0)
    grades = enrollment_grades(prep.inputs.table("enrollments"), prep.day_index, policy=prep.policy)
    students = prep.inputs.table("students")
    schools = prep.inputs.table("schools").select("school_id", "district_id")
    joined = (
        rows.left_join(grades, list(KEYS))
        .left_join(students, "student_id")
        .left_join(schools, "school_id")
    )
    return joined.select(
        "row_key",
        *KEYS,
        "district_id",
        "enrolled_days",
        "eligible",
        "chronic",
        "tier",
        absent=(joined.absent_days * MICRO).round(0).cast("int64"),
        v_grade=joined.grade.fill_null("unknown"),
        v_sex=joined.sex.fill_null("unknown"),
        v_race=joined.race.fill_null("unknown"),
        v_el=_flag_value(joined.el),
        v_disability=_flag_value(joined.disability),
        v_econ=_flag_value(joined.econ),
    )


def aggregates(prep: Prepared, rows: ir.Table) -> ir.Table:
    """The cells table, columns `AGGREGATE_COLUMNS`.

    1. School scope: every metric row is a member of its school's cells.
    2. District scope: roll each student up over the district's schools, re-derive the status.
    3. Count members per cell, derive rates, suppress small cells.
    """
    school = _cells(_explode(rows, "school"))
    district = _cells(_explode(_district_rows(rows, prep.policy), "district"))
    return finish_cells(school.union(district), prep.policy).order_by(list(CELL_KEYS))


def finish_cells(cells: ir.Table, policy: Policy) -> ir.Table:
    """Rates and suppression from per-cell sums.

    Input columns: the cell keys, `enrolled_students`, `eligible_students`, `chronic_students`,
    the tier counts, `enrolled_days`, `absent_days`, `present_days`.

    1. A cell is `suppressed` (every measure null) when it has fewer than `min_cell_students`
       students or, when `min_cell_days` is set, fewer enrolled days. An unknown (null) student
       count leaves the decision to the days (published data may not give it).
    2. Its chronic measures (eligible and chronic counts, chronic rate, tiers) are also null,
       and `chronic_suppressed` true, when fewer than `min_cell_students` students are eligible:
       the chronic rate is a rate over those students.
    """
    small = (cells.enrolled_students < policy.min_cell_students).fill_null(False)
    if policy.min_cell_days:
        small = small | (cells.enrolled_days < policy.min_cell_days).fill_null(True)
    few_eligible = (cells.eligible_students < policy.min_cell_students).fill_null(True)
    chronic_hidden = small | few_eligible
    values = {
        **{name: cells[name] for name in MEASURES if name in cells.columns},
        "chronic_rate": _ratio(cells.chronic_students, cells.eligible_students),
        "average_daily_attendance": _ratio(cells.present_days, cells.enrolled_days),
    }
    hidden = {
        name: (chronic_hidden if name in CHRONIC_MEASURES else small).ifelse(
            ibis.null(value.type()), value
        )
        for name, value in values.items()
    }
    return cells.select(
        *CELL_KEYS,
        **{name: hidden[name] for name in MEASURES},
        suppressed=small,
        chronic_suppressed=chronic_hidden,
    )


def weekly_trend(prep: Prepared, rows: ir.Table, cells: ir.Table) -> ir.Table:
    """Enrolled days, absent days and attendance rate per cell and school week (Monday).

    1. Enrolled days per cell and day come from +1/−1 marks at each enrollment range's first
       and last-plus-one school day, summed over members and accumulated along the school's day
       index; no student × day table is built.
    2. Absent days are summed from the event days; both are grouped by the combination of
       dimension values first, so each event day is touched once.
    3. District cells add up their schools' days; suppression follows the yearly cell.
    """
    per_day = _enrolled_per_day(prep, rows)
    enrolled = per_day.group_by([*_SCHOOL_CELL, "week_start"]).aggregate(
        enrolled_days=per_day.enrolled.sum()
    )
    school = enrolled.left_join(_absent_per_week(prep, rows), [*_SCHOOL_CELL, "week_start"])
    school = school.select(
        *_SCHOOL_CELL, "week_start", "enrolled_days", absent=school.absent.fill_null(0)
    )
    with_district = _add_district(prep, school)
    return _finish_trend(with_district, cells)


_SCHOOL_CELL = ("school_id", "school_year", "dimension", "value")


def _enrolled_per_day(prep: Prepared, rows: ir.Table) -> ir.Table:
    spans = prep.intervals.filter(prep.intervals.days > 0).select(
        "row_key", "start_idx", "counted_end"
    )
    members = spans.join(rows.select("row_key", *YEAR_KEYS, *_VALUE_COLUMNS), "row_key")
    marks = members.select(*YEAR_KEYS, *_VALUE_COLUMNS, idx=members.start_idx, mark=1).union(
        members.select(*YEAR_KEYS, *_VALUE_COLUMNS, idx=members.counted_end + 1, mark=-1)
    )
    combos = marks.group_by([*YEAR_KEYS, *_VALUE_COLUMNS, "idx"]).aggregate(mark=marks.mark.sum())
    exploded = _explode_values(combos, ["idx"], "mark")
    by_cell = exploded.group_by([*_SCHOOL_CELL, "idx"]).aggregate(mark=exploded.mark.sum())
    cell_days = (
        by_cell.select(*_SCHOOL_CELL)
        .distinct()
        .join(prep.day_index.select(*YEAR_KEYS, "idx", "date"), list(YEAR_KEYS))
    )
    filled = cell_days.left_join(by_cell, [*_SCHOOL_CELL, "idx"])
    running = ibis.window(group_by=list(_SCHOOL_CELL), order_by=filled.idx, rows=(None, 0))
    return filled.select(
        *_SCHOOL_CELL,
        week_start=filled.date.truncate("W"),
        enrolled=filled.mark.fill_null(0).sum().over(running),
    )


def _absent_per_week(prep: Prepared, rows: ir.Table) -> ir.Table:
    days = prep.days.filter(prep.days.absent > 0).select("row_key", "date", "absent")
    members = days.join(rows.select("row_key", *YEAR_KEYS, *_VALUE_COLUMNS), "row_key")
    members = members.mutate(week_start=members.date.truncate("W"))
    combos = members.group_by([*YEAR_KEYS, *_VALUE_COLUMNS, "week_start"]).aggregate(
        absent=members.absent.sum()
    )
    exploded = _explode_values(combos, ["week_start"], "absent")
    return exploded.group_by([*_SCHOOL_CELL, "week_start"]).aggregate(absent=exploded.absent.sum())


def _explode_values(table: ir.Table, extra: list[str], measure: str) -> ir.Table:
    parts = [
        table.select(
            *YEAR_KEYS,
            *extra,
            measure,
            dimension=ibis.literal(dim, type="string"),
            value=ibis.literal("all", type="string") if dim == "all" else table[f"v_{dim}"],
        )
        for dim in DIMENSIONS
    ]
    return ibis.union(*parts)


def _add_district(prep: Prepared, school: ir.Table) -> ir.Table:
    schools = prep.inputs.table("schools").select("school_id", "district_id")
    located = school.left_join(schools, "school_id")
    school_scope = located.select(
        "school_year",
        scope=ibis.literal("school"),
        district_id=located.district_id,
        school_id=located.school_id,
        dimension=located.dimension,
        value=located.value,
        week_start=located.week_start,
        enrolled_days=located.enrolled_days,
        absent=located.absent,
    )
    district = located.group_by(
        ["school_year", "district_id", "dimension", "value", "week_start"]
    ).aggregate(enrolled_days=located.enrolled_days.sum(), absent=located.absent.sum())
    district_scope = district.select(
        "school_year",
        scope=ibis.literal("district"),
        district_id=district.district_id,
        school_id=ibis.null("string"),
        dimension=district.dimension,
        value=district.value,
        week_start=district.week_start,
        enrolled_days=district.enrolled_days,
        absent=district.absent,
    )
    return school_scope.union(district_scope)


def _finish_trend(weeks: ir.Table, cells: ir.Table) -> ir.Table:
    weeks = weeks.filter(weeks.enrolled_days > 0)
    flags = cells.select(*CELL_KEYS, "suppressed")
    joined = weeks.left_join(flags, _null_safe_keys(weeks, flags))
    suppressed = joined.suppressed.fill_null(True)
    absent = joined.absent.cast("float64") / MICRO
    rate = (joined.enrolled_days * MICRO - joined.absent).cast("float64") / (
        joined.enrolled_days * MICRO
    ).cast("float64")
    return joined.select(
        *[joined[key] for key in CELL_KEYS],
        week_start=joined.week_start,
        enrolled_days=suppressed.ifelse(ibis.null("int64"), joined.enrolled_days.cast("int64")),
        absent_days=suppressed.ifelse(ibis.null("float64"), absent),
        attendance_rate=suppressed.ifelse(ibis.null("float64"), rate),
        suppressed=suppressed,
    ).order_by([*CELL_KEYS, "week_start"])


def _null_safe_keys(left: ir.Table, right: ir.Table) -> list[ir.BooleanValue]:
    # district_id and school_id may be null (no schools table, district scope).
    return [left[key].identical_to(right[key]) for key in CELL_KEYS]


def _district_rows(rows: ir.Table, policy: Policy) -> ir.Table:
    """One row per student × district × year: days summed, grade of the largest enrollment."""
    keys = ["student_id", "district_id", "school_year"]
    rolled = rows.group_by(keys).aggregate(
        enrolled_days=rows.enrolled_days.sum(),
        absent=rows.absent.sum(),
        **{col: rows[col].argmax(rows.enrolled_days) for col in _VALUE_COLUMNS},
    )
    derived = status(rolled.enrolled_days, rolled.absent, policy)
    return rolled.mutate(school_id=ibis.null("string"), **derived)


def _explode(rows: ir.Table, scope: str) -> ir.Table:
    common = [
        "school_year",
        "district_id",
        "school_id",
        "enrolled_days",
        "absent",
        "eligible",
        "chronic",
        "tier",
    ]
    parts = [
        rows.select(
            *common,
            scope=ibis.literal(scope, type="string"),
            dimension=ibis.literal(dim, type="string"),
            value=ibis.literal("all", type="string") if dim == "all" else rows[f"v_{dim}"],
        )
        for dim in DIMENSIONS
    ]
    return ibis.union(*parts)


def _cells(members: ir.Table) -> ir.Table:
    absent = members.absent.sum()
    return members.group_by(list(CELL_KEYS)).aggregate(
        enrolled_students=members.count(),
        eligible_students=members.count(where=members.eligible),
        chronic_students=members.count(where=members.chronic.fill_null(False)),
        **{tier: members.count(where=members.tier == tier) for tier in TIERS},
        enrolled_days=members.enrolled_days.sum(),
        absent_days=absent.cast("float64") / MICRO,
        present_days=(members.enrolled_days.sum() * MICRO - absent).cast("float64") / MICRO,
    )


def _ratio(part: ir.NumericValue, whole: ir.NumericValue) -> ir.FloatingValue:
    return (whole > 0).ifelse(part.cast("float64") / whole.cast("float64"), ibis.null("float64"))


def _flag_value(flag: ir.BooleanValue) -> ir.StringValue:
    return flag.cast("string").lower().fill_null("unknown")
