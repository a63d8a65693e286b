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

Students are first grouped into *combinations* (a school, year and one value of every
dimension), each with an integer id. The yearly cells sum per combination, then spread the
sums over the seven dimensions. The weekly trend gives every school cell an integer id too,
so its groupings and joins over millions of event days run on integers, and the cell names
are attached at the end.
"""

from __future__ import annotations

import ibis
import ibis.expr.types as ir

from .backend import materialise
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
_COMBO = ("school_year", "district_id", "school_id", *_VALUE_COLUMNS)
_COUNTS = ("enrolled_students", "eligible_students", "chronic_students", *TIERS)


def student_rows(prep: Prepared, metrics: ir.Table) -> ir.Table:
    """Metric rows (from `metrics.keyed_metrics`) with `district_id`, the dimension values
    `v_*`, absent micro-days and `combo`, an integer id of the row's combination."""
    rows = metrics.filter(metrics.enrolled_days > 0)
    grades = enrollment_grades(prep.inputs.table("enrollments"), prep.day_index, policy=prep.policy)
    students = prep.inputs.table("students")
    schools = prep.inputs.table("schools").select("school_id", "district_id")
    joined = (
        rows.left_join(grades, list(KEYS))
        .left_join(students, "student_id")
        .left_join(schools, "school_id")
    )
    described = joined.select(
        "row_key",
        *KEYS,
        "enrolled_days",
        "eligible",
        "chronic",
        "tier",
        # The empty string stands for "no district" so that combinations join on equality.
        district_id=joined.district_id.fill_null(""),
        absent=(joined.absent_days * MICRO).round(0).cast("int64"),
        v_grade=joined.grade.fill_null("unknown"),
        v_sex=joined.sex.fill_null("unknown"),
        v_race=joined.race.fill_null("unknown"),
        v_el=_flag_value(joined.el),
        v_disability=_flag_value(joined.disability),
        v_econ=_flag_value(joined.econ),
    )
    # A new relation on each side: ibis would otherwise see a self-join of `described`.
    left = described.view()
    combos = described.select(*_COMBO).distinct()
    combos = combos.mutate(combo=ibis.row_number().over(order_by=[combos[c] for c in _COMBO]))
    right = combos.view()
    joined = left.join(right, [left[c] == right[c] for c in _COMBO])
    return joined.select(*[left[c] for c in left.columns], combo=right.combo)


def aggregates(prep: Prepared, rows: ir.Table) -> ir.Table:
    """The cells table, columns `AGGREGATE_COLUMNS`.

    1. School scope: every metric row is a member of its school's cells.
    2. District scope: roll each student up over the district's schools, re-derive the status.
    3. Count members per combination, spread over the dimensions, derive rates, suppress.
    """
    school = _cells(rows, "school")
    district = _cells(_district_rows(rows, prep.policy), "district")
    cells = finish_cells(school.union(district), prep.policy)
    return _restore_districts(cells).order_by(list(CELL_KEYS))


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

    1. Every school cell gets an integer id, and every combination the ids of its seven cells
       (`_cell_ids`); the heavy steps below group and join on those integers only.
    2. Enrolled days per cell and day come from +1/−1 marks at each enrollment range's first
       and last-plus-one school day, accumulated along the school's day index: no student ×
       day table is built.
    3. Absent days are summed from the event days per combination and week, then per cell.
    4. District cells add up their schools' days; suppression follows the yearly cell.
    """
    ids, members = _cell_ids(rows)
    enrolled = _enrolled_per_week(prep, rows, ids, members)
    absent = _absent_per_week(prep, rows, members)
    weekly = enrolled.left_join(absent, ["cell", "week_start"])
    weekly = weekly.select(
        "cell", "week_start", "enrolled_days", absent=weekly.absent.fill_null(0)
    ).join(ids, "cell")
    # Cached: both scopes read it, and Spark would otherwise plan the whole tree twice.
    school = materialise(weekly.select(*_SCHOOL_CELL, "week_start", "enrolled_days", "absent"))
    return _finish_trend(_add_district(school), cells)


_SCHOOL_CELL = ("school_year", "district_id", "school_id", "dimension", "value")


def _combos(rows: ir.Table) -> ir.Table:
    return rows.select("combo", *_COMBO).distinct()


def _spread_combos(combos: ir.Table) -> ir.Table:
    """Each combination once per dimension, with its school cell's keys (`_SCHOOL_CELL`)."""
    parts = [
        combos.select(
            "combo",
            *YEAR_KEYS,
            "district_id",
            dimension=ibis.literal(dim, type="string"),
            value=ibis.literal("all", type="string") if dim == "all" else combos[f"v_{dim}"],
        )
        for dim in DIMENSIONS
    ]
    return ibis.union(*parts)


def _cell_ids(rows: ir.Table) -> tuple[ir.Table, ir.Table]:
    """`ids`: one row per school cell, `cell` (an integer) and its keys; `members`: the
    cells of each combination, `combo, dimension, cell` (seven per combination)."""
    spread = materialise(_spread_combos(_combos(rows)))
    keys = spread.select(*_SCHOOL_CELL).distinct()
    ids = materialise(
        keys.mutate(cell=ibis.row_number().over(order_by=[keys[c] for c in _SCHOOL_CELL]))
    )
    members = materialise(spread.join(ids, list(_SCHOOL_CELL)).select("combo", "dimension", "cell"))
    return ids, members


def _enrolled_per_week(
    prep: Prepared, rows: ir.Table, ids: ir.Table, members: ir.Table
) -> ir.Table:
    spans = prep.intervals.filter(prep.intervals.days > 0)
    spans = spans.select("row_key", "start_idx", "counted_end").join(
        rows.select("row_key", "combo"), "row_key"
    )
    one = ibis.literal(1, type="int64")
    marks = spans.select("combo", idx=spans.start_idx.cast("int64"), mark=one).union(
        spans.select("combo", idx=(spans.counted_end + 1).cast("int64"), mark=-one)
    )
    marks = marks.group_by(["combo", "idx"]).aggregate(mark=marks.mark.sum())
    marks = marks.join(members.select("combo", "cell"), "combo")
    by_cell = marks.group_by(["cell", "idx"]).aggregate(mark=marks.mark.sum())
    return _accumulate_weeks(prep, by_cell, ids)


def _accumulate_weeks(prep: Prepared, by_cell: ir.Table, ids: ir.Table) -> ir.Table:
    """Enrolled days per cell and week from the day marks (`cell, idx, mark`), a week at a
    time: a mark on school day `m` of a week adds its value to that week's days `m` to the
    week's last (`last_idx - m + 1` days) and to every day of later weeks. So a week holds
    `days_in_week × (marks of earlier weeks) + (this week's marks, each × its days)`, and
    only cells × weeks (not cells × days) go through the running sum. Marks after the
    year's last school day touch no day."""
    days = prep.day_index.select(*YEAR_KEYS, "idx", week_start=_monday(prep.day_index.date))
    weeks = days.group_by([*YEAR_KEYS, "week_start"]).aggregate(
        last_idx=days.idx.max(), n_days=days.count()
    )
    # Each school day with its week's last day first (a small table), so the marks meet a
    # single equality join on the school day.
    day_weeks = days.join(weeks.drop("n_days"), [*YEAR_KEYS, "week_start"])
    placed = by_cell.join(ids.select("cell", *YEAR_KEYS), "cell").join(
        day_weeks, [*YEAR_KEYS, "idx"]
    )
    in_week = placed.group_by(["cell", "week_start"]).aggregate(
        added=placed.mark.sum(),
        partial=(placed.mark * (placed.last_idx - placed.idx + 1)).sum(),
    )
    grid = ids.select("cell", *YEAR_KEYS).join(weeks, list(YEAR_KEYS))
    filled = grid.select("cell", "week_start", "n_days").left_join(in_week, ["cell", "week_start"])
    before = ibis.window(group_by=filled.cell, order_by=filled.week_start, rows=(None, -1))
    active = filled.added.fill_null(0).sum().over(before).fill_null(0)
    return filled.select(
        "cell",
        "week_start",
        enrolled_days=filled.n_days * active + filled.partial.fill_null(0),
    )


def _absent_per_week(prep: Prepared, rows: ir.Table, members: ir.Table) -> ir.Table:
    """Absent micro-days per cell and week, one grouping per dimension straight from the
    event days (combinations are nearly as many as students, so summing per combination
    first would not shrink the days much)."""
    wide = members.group_by("combo").aggregate(
        **{f"c_{dim}": members.cell.max(where=members.dimension == dim) for dim in DIMENSIONS}
    )
    cells = rows.select("row_key", "combo").join(wide, "combo")
    days = prep.days.filter(prep.days.absent > 0).select("row_key", "date", "absent")
    days = days.join(cells, "row_key")
    days = days.select(*[f"c_{dim}" for dim in DIMENSIONS], "absent", week_start=_monday(days.date))
    parts = [
        days.group_by(cell=days[f"c_{dim}"], week_start=days.week_start).aggregate(
            absent=days.absent.sum()
        )
        for dim in DIMENSIONS
    ]
    return ibis.union(*parts)


def _add_district(school: ir.Table) -> ir.Table:
    school_scope = school.select(
        "school_year",
        "district_id",
        "school_id",
        "dimension",
        "value",
        "week_start",
        "enrolled_days",
        "absent",
        scope=ibis.literal("school"),
    )
    district = school.group_by(
        ["school_year", "district_id", "dimension", "value", "week_start"]
    ).aggregate(enrolled_days=school.enrolled_days.sum(), absent=school.absent.sum())
    district_scope = district.select(
        "school_year",
        "district_id",
        school_id=ibis.literal("", type="string"),
        dimension=district.dimension,
        value=district.value,
        week_start=district.week_start,
        enrolled_days=district.enrolled_days,
        absent=district.absent,
        scope=ibis.literal("district"),
    )
    return school_scope.union(district_scope)


def _finish_trend(weeks: ir.Table, cells: ir.Table) -> ir.Table:
    weeks = weeks.filter(weeks.enrolled_days > 0)
    flags = cells.select(*CELL_KEYS, "suppressed").mutate(
        district_id=cells.district_id.fill_null(""), school_id=cells.school_id.fill_null("")
    )
    joined = weeks.left_join(flags, list(CELL_KEYS))
    suppressed = joined.suppressed.fill_null(True)
    absent = joined.absent.cast("float64") / MICRO
    rate = (joined.enrolled_days * MICRO - joined.absent).cast("float64") / (
        joined.enrolled_days * MICRO
    ).cast("float64")
    out = joined.select(
        *CELL_KEYS,
        week_start=joined.week_start,
        enrolled_days=suppressed.ifelse(ibis.null("int64"), joined.enrolled_days.cast("int64")),
        absent_days=suppressed.ifelse(ibis.null("float64"), absent),
        attendance_rate=suppressed.ifelse(ibis.null("float64"), rate),
        suppressed=suppressed,
    )
    return _restore_districts(out).order_by([*CELL_KEYS, "week_start"])


def _restore_districts(table: ir.Table) -> ir.Table:
    """Back from the empty-string stand-in to null district and school ids."""
    return table.mutate(
        district_id=table.district_id.nullif(""), school_id=table.school_id.nullif("")
    )


def _district_rows(rows: ir.Table, policy: Policy) -> ir.Table:
    """One row per student × district × year: days summed, the dimension values of the
    largest enrollment."""
    keys = ["student_id", "district_id", "school_year"]
    rolled = rows.group_by(keys).aggregate(
        enrolled_days=rows.enrolled_days.sum(),
        absent=rows.absent.sum(),
        **{col: rows[col].argmax(rows.enrolled_days) for col in _VALUE_COLUMNS},
    )
    derived = status(rolled.enrolled_days, rolled.absent, policy)
    return rolled.mutate(school_id=ibis.literal("", type="string"), **derived)


def _cells(members: ir.Table, scope: str) -> ir.Table:
    """Per-cell sums: first per combination, then spread over the dimensions."""
    combos = members.group_by(list(_COMBO)).aggregate(
        enrolled_students=members.count(),
        eligible_students=members.count(where=members.eligible),
        chronic_students=members.count(where=members.chronic.fill_null(False)),
        **{tier: members.count(where=members.tier == tier) for tier in TIERS},
        enrolled_days=members.enrolled_days.sum(),
        absent=members.absent.sum(),
    )
    combos = materialise(combos)  # read once per dimension below
    measures = [*_COUNTS, "enrolled_days", "absent"]
    parts = [
        combos.select(
            *YEAR_KEYS,
            "district_id",
            *measures,
            dimension=ibis.literal(dim, type="string"),
            value=ibis.literal("all", type="string") if dim == "all" else combos[f"v_{dim}"],
        )
        for dim in DIMENSIONS
    ]
    spread = ibis.union(*parts)
    sums = spread.group_by(list(_SCHOOL_CELL)).aggregate(**{m: spread[m].sum() for m in measures})
    return sums.select(
        *[c for c in CELL_KEYS if c != "scope"],
        *_COUNTS,
        "enrolled_days",
        scope=ibis.literal(scope, type="string"),
        absent_days=sums.absent.cast("float64") / MICRO,
        present_days=(sums.enrolled_days * MICRO - sums.absent).cast("float64") / MICRO,
    )


def _monday(day: ir.DateValue) -> ir.DateValue:
    # Not truncate("W"): Spark's date_trunc returns a timestamp where Ibis expects a date.
    return day - day.day_of_week.index().as_interval("D")


def _ratio(part: ir.NumericValue, whole: ir.NumericValue) -> ir.FloatingValue:
    return (whole > 0).ifelse(part.cast("float64") / whole.cast("float64"), ibis.null("float64"))


def _flag_value(flag: ir.BooleanValue) -> ir.StringValue:
    return flag.cast("string").lower().fill_null("unknown")
