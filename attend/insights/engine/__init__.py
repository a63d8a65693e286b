"""Insights engine: attendance metrics, patterns, aggregates and data quality, in Ibis.

The same expressions run on DuckDB (default, in-process) and PySpark. They implement
`ATTENDANCE-RULES.md` exactly; `reference.py` is the same contract written as plain loops and
`pandas_ref.py` the metrics in straightforward pandas (the benchmark's baseline).

Normalised input (what `load.py` makes of a lake folder, and what app mode reads from the
database; column types in `schema.SCHEMAS`; pass them as `EngineInput` of Ibis tables, in
memory or on the backend):

- `school_days(school_id, date, school_year)`: one row per school day (a calendar date with an
  `Instructional day`, `Make-up day` or `Student late arrival/early dismissal` event);
  `school_year` is the Ed-Fi ending year (2022 for 2021-22).
- `enrollments(student_id, school_id, school_year, entry_date, exit_date, exit_type, grade)`:
  Ed-Fi student-school associations; `exit_date` null while enrolled; `exit_type` and `grade`
  are descriptor code values (`No show`, `Invalid enrollment`, `Third grade`). Enrolled days
  come from the dates and the calendar; `school_year` here is informative only.
- `events(student_id, school_id, date, category, duration, recorded_at, school_year)`: school
  attendance events; `category` is an ATTENDANCE-RULES category (`Unexcused Absence`, ...),
  matched case-insensitively; `duration` the fraction of a day or null; `recorded_at` when the
  source recorded it (read only with `Policy.ignore_recorded_after_as_of`); `school_year`
  optional (when given it must match the calendar's year for the day).
- `section_events(student_id, school_id, section_id, date, category, homeroom, recorded_at,
  school_year)`: period-level events; `homeroom` true for a homeroom section. Optional (None:
  the period-level stage is skipped).
- `students(student_id, sex, race, el, disability, econ)`: demographics, one row per student.
- `schools(school_id, district_id, name)`: optional; districts for the roll-ups.

Outputs (`api.compute`, Arrow tables): `metrics` (the ATTENDANCE-RULES per-student columns,
`metrics.METRIC_COLUMNS`), `flags` (patterns with evidence dates, `patterns.FLAG_COLUMNS`),
`quality` (data-quality findings, `quality.QUALITY_COLUMNS`), `aggregates` (cells with
suppression, `aggregates.AGGREGATE_COLUMNS`) and `trend` (weekly attendance per cell).
`api.daily` gives every enrolled school day of chosen students with its flags (explanations,
the Ed-Fi AMT conformance check). `api.write_outputs` writes them as CSV/Parquet.

Internally day fractions are integer micro-days, rows are keyed by integers after the first
pass, and nothing is expanded to students × calendar days (see `days.py`).
"""

from .api import ENGINES, EngineResult, compute, connect, daily, inputs_for, write_outputs
from .load import LakeSource, load_lake
from .schema import SCHEMAS, EngineInput
from .settings import MICRO, Policy

__all__ = [
    "ENGINES",
    "MICRO",
    "SCHEMAS",
    "EngineInput",
    "EngineResult",
    "LakeSource",
    "Policy",
    "compute",
    "connect",
    "daily",
    "inputs_for",
    "load_lake",
    "write_outputs",
]
