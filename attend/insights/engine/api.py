"""Entry points: `compute()` runs the engine, `write_outputs()` writes its files."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any, TypeVar

import ibis
import ibis.expr.types as ir
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
from ibis.backends import BaseBackend

from .aggregates import aggregates, student_rows, weekly_trend
from .backend import materialise
from .days import enrolled_day_rows
from .load import LakeSource, load_lake
from .metrics import keyed_metrics, student_metrics
from .patterns import flags
from .prepare import Prepared, prepare
from .quality import quality_report
from .resolve import day_detail
from .schema import EngineInput, empty
from .settings import Policy

__all__ = [
    "ENGINES",
    "EngineResult",
    "compute",
    "connect",
    "daily",
    "inputs_for",
    "write_outputs",
]

ENGINES = ("duckdb", "pyspark")
_INPUT_NAMES = ("school_days", "enrollments", "events", "section_events", "students", "schools")
_EVENT_FILES = {
    "events": "studentSchoolAttendanceEvents",
    "section_events": "studentSectionAttendanceEvents",
}
Source = LakeSource | EngineInput | Path | str
_T = TypeVar("_T")


@dataclass(frozen=True)
class EngineResult:
    """The engine's outputs as Arrow tables (`.to_pandas()` on each for pandas)."""

    metrics: pa.Table
    flags: pa.Table
    quality: pa.Table
    aggregates: pa.Table
    trend: pa.Table


def connect(engine: str = "duckdb") -> BaseBackend:
    """A fresh in-process DuckDB connection or a local[2] Spark session."""
    if engine == "duckdb":
        con = ibis.duckdb.connect()
        # Row order is never relied on (every output is sorted): let DuckDB write in parallel.
        con.raw_sql("SET preserve_insertion_order = false")
        return con
    if engine == "pyspark":
        return ibis.pyspark.connect(_spark_session())
    raise ValueError(f"unknown engine {engine!r}; use one of {ENGINES}")


def _spark_session() -> Any:
    from pyspark.sql import SparkSession

    builder: Any = SparkSession.builder
    session = (
        builder.master("local[2]")
        .appName("attend-insights")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.shuffle.partitions", "2")
        .config("spark.sql.adaptive.enabled", "false")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.driver.memory", "4g")
        .config("spark.sql.execution.arrow.pyspark.enabled", "true")
        # The engine's plans are deep; Spark would otherwise render each one in full (and can
        # run out of heap doing so) just to log it.
        .config("spark.sql.maxPlanStringLength", "20000")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    return session


def inputs_for(source: Source, con: BaseBackend) -> EngineInput:
    """Normalised input tables on `con` from a lake folder or from given tables."""
    if isinstance(source, str | Path):
        source = LakeSource(Path(source))
    if isinstance(source, LakeSource):
        inputs = load_lake(source.folder, con)
        if not _has_file(source.folder, _EVENT_FILES["section_events"]):
            # No period-level data: the engine then skips that stage.
            inputs = replace(inputs, section_events=None)
        return _materialise(_bind(inputs, con), source.folder)
    return _bind(source, con)


def compute(
    *,
    source: Source,
    as_of: date,
    policy: Policy | None = None,
    engine: str = "duckdb",
    con: BaseBackend | None = None,
    timings: dict[str, float] | None = None,
) -> EngineResult:
    """Run the engine on a lake folder or on normalised Ibis tables.

    `source` is a lake folder (`LakeSource`, or its path) or an `EngineInput`; `con` reuses a
    backend connection, otherwise a new one is opened for `engine` ("duckdb" or "pyspark").
    `timings`, when given, receives the wall seconds of each stage (the benchmark's profile).

    1. Load (lake mode) or bind (given tables) the normalised inputs on the backend.
    2. Prepare the shared tables once; compute metrics and keep them cached.
    3. Flags, quality report, aggregates and weekly trend read the prepared tables.
    """
    policy = policy or Policy()
    clock = _Stopwatch(timings)
    con = con or connect(engine)
    inputs = clock.lap("load", lambda: inputs_for(source, con))
    prep = clock.lap("prepare", lambda: prepare(inputs, as_of=as_of, policy=policy))
    keyed = clock.lap("metrics", lambda: materialise(keyed_metrics(prep)))
    metrics = clock.lap("metrics", lambda: con.to_pyarrow(student_metrics(prep, keyed)))
    found = clock.lap("flags", lambda: con.to_pyarrow(flags(prep)))
    quality = clock.lap("quality", lambda: con.to_pyarrow(quality_report(prep)))
    rows = clock.lap("aggregates", lambda: materialise(student_rows(prep, keyed)))
    cells = clock.lap("aggregates", lambda: materialise(aggregates(prep, rows)))
    table = clock.lap("aggregates", lambda: con.to_pyarrow(cells))
    trend = clock.lap("trend", lambda: con.to_pyarrow(weekly_trend(prep, rows, cells)))
    return EngineResult(
        metrics=metrics, flags=found, quality=quality, aggregates=table, trend=trend
    )


class _Stopwatch:
    """Adds each step's wall time to `timings[stage]` (does nothing without a dict)."""

    def __init__(self, timings: dict[str, float] | None) -> None:
        self.timings = timings

    def lap(self, stage: str, step: Callable[[], _T]) -> _T:
        if self.timings is None:
            return step()
        started = time.perf_counter()
        value = step()
        self.timings[stage] = self.timings.get(stage, 0.0) + time.perf_counter() - started
        return value


def daily(
    *,
    source: Source,
    as_of: date,
    policy: Policy | None = None,
    engine: str = "duckdb",
    con: BaseBackend | None = None,
    students: list[str] | None = None,
) -> pa.Table:
    """Every counted enrolled school day with its attendance flags (for explanations and the
    Ed-Fi AMT conformance check). Materialises student × day rows: select students at scale."""
    con = con or connect(engine)
    prep = prepare(inputs_for(source, con), as_of=as_of, policy=policy or Policy(), cache=False)
    return con.to_pyarrow(_daily(prep, students))


def _daily(prep: Prepared, students: list[str] | None) -> ir.Table:
    intervals = prep.intervals
    if students is not None:
        intervals = intervals.filter(intervals.student_id.isin(students))
    enrolled = enrolled_day_rows(intervals, prep.day_index)
    detail = day_detail(enrolled, prep.days, prep.section_days)
    return detail.order_by(["student_id", "school_id", "date"])


def _bind(inputs: EngineInput, con: BaseBackend) -> EngineInput:
    """Register in-memory tables on `con`, so caching and execution happen there (Spark's
    cache cannot see an unregistered in-memory table). Missing section events stay missing:
    the engine then skips the period-level stage."""
    bound: dict[str, ir.Table | None] = {}
    for name in _INPUT_NAMES:
        table = getattr(inputs, name)
        if table is None and name == "section_events":
            bound[name] = None
            continue
        if table is None:
            table = empty(name)
        bound[name] = table if _has_backend(table) else _register(con, table)
    return EngineInput(**bound)


def _materialise(inputs: EngineInput, folder: Path) -> EngineInput:
    """Normalise the lake files once, so later queries read materialised tables; except the
    events when they are Parquet: the engine reads them in two passes, and scanning Parquet
    twice costs less than building a 20M-row table."""
    streamed = {
        name for name, resource in _EVENT_FILES.items() if (folder / f"{resource}.parquet").exists()
    }
    tables: dict[str, ir.Table | None] = {}
    for name in _INPUT_NAMES:
        table = getattr(inputs, name)
        tables[name] = (
            table if table is None or name in streamed else materialise(inputs.table(name))
        )
    return EngineInput(**tables)


def _has_file(folder: Path, resource: str) -> bool:
    return any(
        (folder / f"{resource}{suffix}").exists() for suffix in (".parquet", ".ndjson", ".json")
    )


def _has_backend(table: ir.Table) -> bool:
    try:
        table._find_backend()
    except Exception:
        return False
    return True


def _register(con: BaseBackend, table: ir.Table) -> ir.Table:
    name = ibis.util.gen_name("attend_input")
    if con.name == "duckdb":
        # Hand DuckDB the Arrow data itself: no SQL to compile for an in-memory table.
        return con.create_table(name, _arrow(table), temp=True)
    # Spark: build the frame from Arrow and cache it. Ibis would go through pandas into a
    # Python-backed RDD, which starts Python workers on every scan of the table.
    session: Any = con._session
    frame = session.createDataFrame(_arrow(table)).cache()
    frame.createOrReplaceTempView(name)
    return con.table(name)


def _arrow(table: ir.Table) -> pa.Table:
    op: Any = table.op()
    if isinstance(op, ibis.expr.operations.InMemoryTable):
        return op.data.to_pyarrow(op.schema)
    return table.to_pyarrow()


def write_outputs(result: EngineResult, out: Path) -> list[Path]:
    """Write `FILE.csv` or `FILE.parquet` (metrics) beside `FILE.flags.csv`,
    `FILE.quality.csv`, `FILE.aggregates.csv` and `FILE.trend.csv`; return the paths.

    CSV: booleans `true`/`false`, null as empty, ISO dates, plain decimals, lists `;`-joined.
    """
    out = Path(out)
    if out.suffix not in (".csv", ".parquet"):
        raise ValueError(f"{out}: the output must end in .csv or .parquet")
    stem = out.with_suffix("")
    out.parent.mkdir(parents=True, exist_ok=True)
    if out.suffix == ".parquet":
        pq.write_table(result.metrics, out)
    else:
        write_csv(result.metrics, out)
    paths = [out]
    for name in ("flags", "quality", "aggregates", "trend"):
        path = stem.with_name(f"{stem.name}.{name}.csv")
        write_csv(getattr(result, name), path)
        paths.append(path)
    return paths


def write_csv(table: pa.Table, path: Path) -> None:
    """Write a table as CSV in the house format (see `write_outputs`)."""
    columns = [_csv_column(table.column(i)) for i in range(table.num_columns)]
    text = pa.table(columns, names=table.column_names)
    try:
        # Unquoted when no value needs quotes (the usual case): the files diff and grep well.
        pacsv.write_csv(text, path, pacsv.WriteOptions(quoting_style="none"))
    except pa.ArrowInvalid:
        pacsv.write_csv(text, path, pacsv.WriteOptions(quoting_style="needed"))


def _csv_column(column: pa.ChunkedArray) -> pa.ChunkedArray:
    kind = column.type
    if pa.types.is_list(kind) or pa.types.is_large_list(kind):
        return pc.binary_join(pc.cast(column, pa.list_(pa.string())), ";")
    text = pc.cast(column, pa.string())
    if pa.types.is_floating(kind):
        return _without_exponents(column, text)
    return text


def _without_exponents(column: pa.ChunkedArray, text: pa.ChunkedArray) -> pa.ChunkedArray:
    """Arrow prints tiny floats as `2.5e-7`; rewrite just those few as plain decimals."""
    exponent = pc.fill_null(pc.match_substring(text, "e"), False)
    if not pc.any(exponent).as_py():
        return text
    values = column.to_pylist()
    fixed = [
        _plain(value) if flag else item
        for value, item, flag in zip(values, text.to_pylist(), exponent.to_pylist(), strict=True)
    ]
    return pa.chunked_array([pa.array(fixed, type=pa.string())])


def _plain(value: float) -> str:
    # repr is the shortest round-trip text; Decimal only moves its exponent into the digits.
    return format(Decimal(repr(value)), "f")
