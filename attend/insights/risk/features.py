"""As-of features and labels for (student, school, date d), vectorised in DuckDB SQL.

A feature for d uses only what was known before d: an attendance day counts when the day is
before d *and* its events were recorded (`_lastModifiedDate`) before d. Labels use the final
record (what the district eventually knew), which is what the officer is trying to predict.

Counts follow ATTENDANCE-RULES: per student per school, enrolled school days only, a day's
absent fraction from its most severe event (Partial counts its duration), tardy and early
departure counted as tardy days.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

if TYPE_CHECKING:
    from .fast import AsOf

# Model inputs (never demographics unless the setting asks for them).
FEATURES = [
    "enrolled_days",
    "days_since_entry",
    "grade_num",
    "n_schools",
    "abs_ytd",
    "abs_rate_ytd",
    "unexcused_ytd",
    "tardy_ytd",
    "abs_10",
    "abs_20",
    "abs_40",
    "rate_10",
    "rate_20",
    "rate_40",
    "tardy_20",
    "current_streak",
    "longest_streak",
    "days_since_absence",
    "monfri_abs",
    "monfri_share",
    "break_abs",
    "skip_days_20",
    "skip_days_ytd",
    "ever_chronic",
    "month_trigger",
    "budget_used",
    "headroom",
    "proj_gap_20",
    "proj_gap_40",
    "proj_gap_ytd",
]
DEMOGRAPHICS = ["sex", "race", "el", "disability", "econ"]
KEYS = ["student_id", "school_id", "d"]

GRADES = {
    "infant/toddler": -2,
    "preschool/prekindergarten": -1,
    "kindergarten": 0,
    "first grade": 1,
    "second grade": 2,
    "third grade": 3,
    "fourth grade": 4,
    "fifth grade": 5,
    "sixth grade": 6,
    "seventh grade": 7,
    "eighth grade": 8,
    "ninth grade": 9,
    "tenth grade": 10,
    "eleventh grade": 11,
    "twelfth grade": 12,
}


@dataclass
class Lake:
    """The normalised tables the features read (pandas; the engine's column names).

    `known_through`: the last day the records cover. Calendars run to the end of the year
    while records stop at the extract date; labels are complete only up to that day. None:
    the latest event or record date in the lake.
    """

    school_days: pd.DataFrame
    enrollments: pd.DataFrame
    events: pd.DataFrame
    section_events: pd.DataFrame
    students: pd.DataFrame
    known_through: date | None = None

    def data_end(self) -> date:
        if self.known_through is not None:
            return self.known_through
        stamps = [self.events[c].max() for c in ("date", "recorded_at") if len(self.events)]
        stamps = [s for s in stamps if not pd.isna(s)]
        if not stamps:
            return pd.Timestamp(self.school_days["date"].max()).date()
        return pd.Timestamp(max(stamps)).date()


def read_lake(folder: Path) -> Lake:
    """Read a lake folder through the insights engine's loader (DuckDB backend)."""
    from attend.insights.engine import connect, load_lake

    tables = load_lake(Path(folder), connect())
    frames = {
        name: getattr(tables, name).to_pandas()
        for name in ("school_days", "enrollments", "events", "section_events", "students")
    }
    return Lake(**frames)


_BASE_SQL = """
CREATE OR REPLACE TEMP TABLE days AS
SELECT school_id, CAST(date AS DATE) AS date,
       row_number() OVER w AS idx,
       isodow(CAST(date AS DATE)) AS dow,
       (CAST(date AS DATE) - CAST(lag(date) OVER w AS DATE) - 1 >= 3
        OR CAST(lead(date) OVER w AS DATE) - CAST(date AS DATE) - 1 >= 3) AS near_break
FROM school_days WINDOW w AS (PARTITION BY school_id ORDER BY date);

-- Enrollment spans as school-day indexes. ASOF joins find the first school day on or after
-- entry and the last on or before exit without expanding every enrolled day (1M students x
-- 180 days would be 180M rows).
CREATE OR REPLACE TEMP TABLE spans AS
WITH valid AS (
  SELECT student_id, school_id, CAST(entry_date AS DATE) AS entry_date,
         coalesce(CAST(exit_date AS DATE), DATE '9999-12-31') AS exit_date, lower(grade) AS grade
  FROM enrollments
  WHERE coalesce(lower(exit_type), '') NOT IN ('no show', 'invalid enrollment')
    AND (exit_date IS NULL OR exit_date >= entry_date)
), entered AS (
  SELECT v.*, d.idx AS entry_idx
  FROM valid v ASOF JOIN days d ON d.school_id = v.school_id AND d.date >= v.entry_date
), bounded AS (
  SELECT n.*, d.idx AS exit_idx
  FROM entered n ASOF JOIN days d ON d.school_id = n.school_id AND d.date <= n.exit_date
)
SELECT student_id, school_id, min(entry_idx) AS entry_idx, max(exit_idx) AS exit_idx,
       min(entry_date) AS entry_date, arg_max(grade, entry_date) AS grade
FROM bounded WHERE entry_idx <= exit_idx
GROUP BY 1, 2;

CREATE OR REPLACE TEMP TABLE n_schools AS
SELECT student_id, entry_date, count(*) OVER (PARTITION BY student_id ORDER BY entry_date
       RANGE BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS n_schools, school_id
FROM spans;

CREATE OR REPLACE TEMP TABLE evd AS
SELECT v.student_id, v.school_id, d.idx, d.dow, d.near_break,
       CASE lower(v.category)
         WHEN 'unexcused absence' THEN coalesce(v.duration, 1)
         WHEN 'excused absence' THEN coalesce(v.duration, 1)
         WHEN 'partial' THEN coalesce(v.duration, 0) ELSE 0 END AS absent,
       CASE WHEN lower(v.category) = 'unexcused absence' THEN 1 ELSE 0 END AS unexcused,
       CASE WHEN lower(v.category) IN ('tardy', 'early departure') THEN 1 ELSE 0 END AS tardy,
       CAST(v.recorded_at AS DATE) AS recorded
FROM events v
JOIN days d ON d.school_id = v.school_id AND d.date = CAST(v.date AS DATE)
JOIN spans s ON s.student_id = v.student_id AND s.school_id = v.school_id
 AND d.idx BETWEEN s.entry_idx AND s.exit_idx;

-- The final record of each day (labels only): the most severe event's absent fraction.
CREATE OR REPLACE TEMP TABLE evday AS
SELECT student_id, school_id, idx, max(absent) AS absent FROM evd GROUP BY 1, 2, 3;

CREATE OR REPLACE TEMP TABLE skips AS
SELECT v.student_id, v.school_id, d.idx, CAST(v.recorded_at AS DATE) AS recorded
FROM section_events v
JOIN days d ON d.school_id = v.school_id AND d.date = CAST(v.date AS DATE)
WHERE lower(v.category) IN ('unexcused absence', 'excused absence');
"""

_FEATURE_SQL = """
WITH known AS (
  -- Each day as it stood before d: only events recorded before d, most severe wins.
  SELECT x.student_id, x.school_id, x.d, x.nb, s.entry_idx, e.idx, e.dow, e.near_break,
         max(e.absent) AS absent, max(e.unexcused) AS unexcused, max(e.tardy) AS tardy
  FROM examples x
  JOIN spans s ON s.student_id = x.student_id AND s.school_id = x.school_id
  JOIN evd e ON e.student_id = x.student_id AND e.school_id = x.school_id
   AND e.idx <= x.nb AND e.recorded < x.d
  GROUP BY ALL
), j AS (
  SELECT *, sum(absent) OVER (PARTITION BY student_id, school_id, d ORDER BY idx) AS cum
  FROM known
), full_days AS (
  SELECT student_id, school_id, d, nb, idx,
         idx - row_number() OVER (PARTITION BY student_id, school_id, d ORDER BY idx) AS grp
  FROM j WHERE absent >= 0.5
), streaks AS (
  SELECT student_id, school_id, d, max(n) AS longest_streak,
         max(CASE WHEN last_idx = nb THEN n ELSE 0 END) AS current_streak
  FROM (SELECT student_id, school_id, d, nb, grp, count(*) AS n, max(idx) AS last_idx
        FROM full_days GROUP BY ALL) GROUP BY ALL
), agg AS (
  SELECT student_id, school_id, d,
    sum(absent) AS abs_ytd,
    sum(absent * unexcused) AS unexcused_ytd,
    sum(tardy) AS tardy_ytd,
    coalesce(sum(absent) FILTER (WHERE idx > nb - 10), 0) AS abs_10,
    coalesce(sum(absent) FILTER (WHERE idx > nb - 20), 0) AS abs_20,
    coalesce(sum(absent) FILTER (WHERE idx > nb - 40), 0) AS abs_40,
    coalesce(sum(tardy) FILTER (WHERE idx > nb - 20), 0) AS tardy_20,
    count(*) FILTER (WHERE absent >= 0.5 AND dow IN (1, 5)) AS monfri_abs,
    count(*) FILTER (WHERE absent >= 0.5) AS full_abs,
    count(*) FILTER (WHERE absent >= 0.5 AND near_break) AS break_abs,
    max(idx) FILTER (WHERE absent > 0) AS last_abs_idx,
    max(CASE WHEN idx - entry_idx + 1 >= 10 AND cum >= 0.1 * (idx - entry_idx + 1)
             THEN 1 ELSE 0 END) AS ever_chronic,
    (coalesce(sum(absent) FILTER (WHERE idx - entry_idx < 20), 0) >= 2
     OR coalesce(sum(absent) FILTER (WHERE idx - entry_idx < 40), 0) >= 4
     OR coalesce(sum(absent) FILTER (WHERE idx - entry_idx < 60), 0) >= 6) AS month_trigger
  FROM j GROUP BY ALL
), sk AS (
  SELECT x.student_id, x.school_id, x.d,
         count(DISTINCT k.idx) FILTER (WHERE k.idx > x.nb - 20) AS skip_days_20,
         count(DISTINCT k.idx) AS skip_days_ytd
  FROM examples x JOIN skips k ON k.student_id = x.student_id AND k.school_id = x.school_id
   AND k.idx <= x.nb AND k.recorded < x.d
  GROUP BY ALL
)
SELECT x.student_id, x.school_id, x.d, x.nb,
  x.nb - s.entry_idx + 1 AS enrolled_days,
  x.d - s.entry_date AS days_since_entry,
  s.grade AS grade,
  ns.n_schools,
  coalesce(a.abs_ytd, 0) AS abs_ytd,
  coalesce(a.abs_ytd, 0) / (x.nb - s.entry_idx + 1) AS abs_rate_ytd,
  coalesce(a.unexcused_ytd, 0) AS unexcused_ytd,
  coalesce(a.tardy_ytd, 0) AS tardy_ytd,
  coalesce(a.abs_10, 0) AS abs_10, coalesce(a.abs_20, 0) AS abs_20,
  coalesce(a.abs_40, 0) AS abs_40,
  coalesce(a.abs_10, 0) / least(10, x.nb - s.entry_idx + 1) AS rate_10,
  coalesce(a.abs_20, 0) / least(20, x.nb - s.entry_idx + 1) AS rate_20,
  coalesce(a.abs_40, 0) / least(40, x.nb - s.entry_idx + 1) AS rate_40,
  coalesce(a.tardy_20, 0) AS tardy_20,
  coalesce(st.current_streak, 0) AS current_streak,
  coalesce(st.longest_streak, 0) AS longest_streak,
  x.nb - coalesce(a.last_abs_idx, s.entry_idx - 1) AS days_since_absence,
  coalesce(a.monfri_abs, 0) AS monfri_abs,
  coalesce(a.monfri_abs / nullif(a.full_abs, 0), 0) AS monfri_share,
  coalesce(a.break_abs, 0) AS break_abs,
  coalesce(sk.skip_days_20, 0) AS skip_days_20,
  coalesce(sk.skip_days_ytd, 0) AS skip_days_ytd,
  coalesce(a.ever_chronic, 0) AS ever_chronic,
  coalesce(a.month_trigger, false)::INT AS month_trigger,
  coalesce(a.abs_ytd, 0) / greatest(1, 0.1 * (x.nb - s.entry_idx + 1)) AS budget_used,
  (x.nb - s.entry_idx + 1 >= 10 AND coalesce(a.abs_ytd, 0) < x.nb - s.entry_idx + 1
   AND coalesce(a.abs_ytd, 0) >= 0.1 * (x.nb - s.entry_idx + 1)) AS chronic_known
FROM examples x
JOIN spans s ON s.student_id = x.student_id AND s.school_id = x.school_id
LEFT JOIN n_schools ns ON ns.student_id = x.student_id AND ns.school_id = x.school_id
LEFT JOIN agg a ON a.student_id = x.student_id AND a.school_id = x.school_id AND a.d = x.d
LEFT JOIN streaks st ON st.student_id = x.student_id AND st.school_id = x.school_id AND st.d = x.d
LEFT JOIN sk ON sk.student_id = x.student_id AND sk.school_id = x.school_id AND sk.d = x.d
"""

_LABEL_SQL = """
WITH panel AS (
  SELECT s.student_id, s.school_id, d.idx, d.idx - s.entry_idx + 1 AS enrolled,
         sum(coalesce(e.absent, 0)) OVER w AS cum
  FROM spans s JOIN days d ON d.school_id = s.school_id AND d.idx BETWEEN s.entry_idx AND s.exit_idx
  LEFT JOIN evday e ON e.student_id = s.student_id AND e.school_id = s.school_id
   AND e.idx = d.idx
  WINDOW w AS (PARTITION BY s.student_id, s.school_id ORDER BY d.idx)
), nxt AS (
  SELECT student_id, school_id, idx,
         min(CASE WHEN enrolled >= 10 AND cum < enrolled AND cum >= 0.1 * enrolled THEN idx END)
           OVER (PARTITION BY student_id, school_id ORDER BY idx
                 ROWS BETWEEN CURRENT ROW AND UNBOUNDED FOLLOWING) AS next_chronic
  FROM panel
)
SELECT x.student_id, x.school_id, x.d,
       coalesce(n.next_chronic <= x.nb + $horizon, false)::INT AS label,
       (n.next_chronic IS NOT NULL)::INT AS label_year_end,
       x.nb + $horizon <= k.known_idx AS label_complete,
       k.known_idx = k.last_idx AS label_year_end_complete
FROM examples x JOIN nxt n ON n.student_id = x.student_id AND n.school_id = x.school_id
 AND n.idx = x.nb + 1
JOIN known_days k ON k.school_id = x.school_id
"""


def _connect(lake: Lake) -> duckdb.DuckDBPyConnection:
    """Tables go in as Arrow: DuckDB scans pandas' string columns through Python objects,
    which made reading a million students' events 30x slower than the same data as Arrow."""
    con = duckdb.connect()
    con.execute("SET threads TO 2")
    con.execute("SET enable_progress_bar = false")  # jobs and benches report their own
    for name in ("school_days", "enrollments", "events", "section_events"):
        con.register(name, pa.Table.from_pandas(getattr(lake, name), preserve_index=False))
    con.execute(_BASE_SQL)
    con.execute(
        """CREATE OR REPLACE TEMP TABLE known_days AS
        SELECT school_id, max(idx) AS last_idx,
               coalesce(max(idx) FILTER (WHERE date <= $end), 0) AS known_idx
        FROM days GROUP BY 1""",
        {"end": lake.data_end()},
    )
    return con


def _training_examples(con: duckdb.DuckDBPyConnection, step: int, first: int) -> None:
    """Every `step`-th school day from day `first` on, for each enrolled student (d = that day)."""
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE examples AS
        SELECT s.student_id, s.school_id, d.date AS d, d.idx - 1 AS nb
        FROM spans s JOIN days d ON d.school_id = s.school_id
        JOIN known_days k ON k.school_id = s.school_id
        WHERE d.idx >= $first AND (d.idx - $first) % $step = 0
          AND d.idx - 1 >= s.entry_idx AND d.idx <= s.exit_idx
          AND d.idx - 1 <= k.known_idx""",
        {"first": int(first), "step": int(step)},
    )


def _scoring_examples(con: duckdb.DuckDBPyConnection, as_of: date) -> None:
    """Predictions 'as of' a date use everything recorded up to and including it: d = as_of + 1."""
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE examples AS
        WITH nb AS (SELECT school_id, max(idx) AS nb FROM days
                    WHERE date <= $as_of GROUP BY 1)
        SELECT s.student_id, s.school_id, CAST($as_of AS DATE) + 1 AS d, nb.nb
        FROM spans s JOIN nb ON nb.school_id = s.school_id
        WHERE nb.nb >= s.entry_idx AND nb.nb < s.exit_idx + 1
          AND (s.exit_idx > nb.nb OR s.exit_idx = (SELECT max(idx) FROM days dd
                                                   WHERE dd.school_id = s.school_id))""",
        {"as_of": as_of},
    )


def _add_projections(frame: pd.DataFrame, ahead: int = 30) -> None:
    """Distance to the 10% line now and after `ahead` more days at recent rates.

    Trees cannot extrapolate counts that grow through the year (train in autumn, score in
    spring); these differences mean the same thing in any month.
    """
    enrolled = frame["enrolled_days"].astype(float)
    absent = frame["abs_ytd"].astype(float)
    frame["headroom"] = 0.1 * enrolled - absent
    for name, rate in (("20", "rate_20"), ("40", "rate_40"), ("ytd", "abs_rate_ytd")):
        projected = absent + frame[rate].astype(float) * ahead
        frame[f"proj_gap_{name}"] = projected - 0.1 * (enrolled + ahead)


def _finish(
    frame: pd.DataFrame, lake: Lake, demographics: bool, presorted: bool = False
) -> pd.DataFrame:
    """Grade number, projections, the audit's demographics; rows in `KEYS` order."""
    frame["grade_num"] = frame["grade"].map(GRADES).astype("float64")
    _add_projections(frame)
    frame["d"] = pd.to_datetime(frame["d"])
    frame = _with_students(frame.reset_index(drop=True), lake.students)
    for column in ("sex", "race"):
        frame[column] = frame[column].fillna("Unknown").astype("category")
    for column in ("el", "disability", "econ"):
        frame[column] = frame[column].fillna(False).astype(bool)
    if presorted:
        return frame
    return frame.sort_values(KEYS, kind="stable").reset_index(drop=True)


def _with_students(frame: pd.DataFrame, students: pd.DataFrame) -> pd.DataFrame:
    """A left join on student_id by position lookup (one row per student in `students`);
    a hash merge on a million string keys cost seconds of the scoring budget."""
    ids = pa.array(students["student_id"]).cast(pa.large_string())
    wanted = pa.array(frame["student_id"]).cast(pa.large_string())
    found = np.asarray(pc.index_in(wanted, value_set=ids).fill_null(-1), dtype=np.int64)
    for column in students.columns.drop("student_id"):
        values = students[column].reset_index(drop=True)
        picked = values.take(np.where(found >= 0, found, 0)).reset_index(drop=True)
        frame[column] = picked.where(pd.Series(found >= 0), None)
    return frame


def training_frame(
    lake: Lake, *, step: int = 5, first: int = 15, horizon: int = 30, demographics: bool = False
) -> pd.DataFrame:
    """Examples (student, school, d) every `step` school days with features and labels.

    `label` = chronic at some school day within the next `horizon` school days (from d on),
    `label_year_end` = at some day by the end of the year; `label_complete` is false when the
    horizon runs past the last day the records cover, `label_year_end_complete` until the
    records reach the end of the year (incomplete rows are not used for training).

    Students already chronic on what was known before d are left out: they need no prediction.
    """
    con = _connect(lake)
    _training_examples(con, step, first)
    features = con.execute(_FEATURE_SQL).df()
    labels = con.execute(_LABEL_SQL, {"horizon": int(horizon)}).df()
    labels["d"] = pd.to_datetime(labels["d"])
    features["d"] = pd.to_datetime(features["d"])
    frame = features.merge(labels, on=KEYS, how="inner")
    # Capacity k is a share of all enrolled students; only those not yet chronic are candidates.
    frame["n_enrolled_d"] = frame.groupby("d")["student_id"].transform("size")
    # Two fixed halves of the students, for validation that must not see a student twice.
    frame["group"] = student_group(frame["student_id"])
    frame["n_enrolled_dg"] = frame.groupby(["d", "group"])["student_id"].transform("size")
    frame = frame[~frame["chronic_known"].astype(bool)]
    return _finish(frame, lake, demographics)


def scoring_frame(lake: Lake, as_of: date, *, demographics: bool = False) -> pd.DataFrame:
    """One row per enrolled student-school as of a date (known-chronic students included),
    computed by the one-date path (`fast.py`); same values as `scoring_frame_sql`."""
    return scoring(lake, as_of, demographics=demographics).frame


def scoring(lake: Lake, as_of: date, *, demographics: bool = False) -> AsOf:
    """The scoring frame with what it was built from (for the reasons' evidence days)."""
    from .fast import scoring as fast_scoring

    asof = fast_scoring(lake, as_of)
    asof.frame = _finish(asof.frame, lake, demographics, presorted=True)
    return asof


def scoring_frame_sql(lake: Lake, as_of: date, *, demographics: bool = False) -> pd.DataFrame:
    """The same rows through the training SQL (the reference `fast.py` is tested against)."""
    con = _connect(lake)
    _scoring_examples(con, as_of)
    return _finish(con.execute(_FEATURE_SQL).df(), lake, demographics)


def student_group(ids: pd.Series) -> np.ndarray:
    """0 or 1 per student, the same in every run (a fixed hash of the id)."""
    hashed = pd.util.hash_pandas_object(ids.astype(str), index=False).to_numpy()
    return (hashed % 2).astype(np.int8)


def model_columns(demographics: bool = False) -> list[str]:
    return FEATURES + (DEMOGRAPHICS if demographics else [])
