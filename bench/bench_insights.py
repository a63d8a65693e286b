"""Insights engine benchmark (not a test): a whole district, end to end, beside pandas.

    attend bench insights [--students 1000000] [--seed 7] [--lake DIR]
                          [--spark-students 100000] [--no-pandas] [--no-spark]

1. Generate the district as a Parquet lake folder (`attend.roster.generate`, school year
   2025-26 up to its last day, ~180 school days), or reuse it: lakes are kept under
   `VAR_DIR/bench/insights/s<seed>-n<students>` (or `--lake DIR`).
2. The engine, end to end on DuckDB, in its own process: read the lake, metrics, flags,
   quality report, aggregates and weekly trend (`engine.compute`, all five outputs as Arrow).
   Prints wall time, the time of each stage and the process's peak RSS.
3. The pandas reference (`engine/pandas_ref.py`: the per-student metrics written the way an
   analyst would, one student × day frame, 100,000 students at a time so that a million fit
   in memory) in its own process, on the same lake. It is
   handed the normalised tables the engine's loader makes (read apart, not timed), so its
   time is the metrics alone against the engine's whole run; the two metric tables must be
   equal row for row, and the ratio is printed.
4. PySpark in local mode (`local[2]`) on a `--spark-students` district: session start-up and
   the same end-to-end run, beside DuckDB on the same lake.

Targets (issue 4): engine <= 60 s and <= 8 GB at 1M students, >= 5x the pandas reference.
The machine is shared (2 CPUs): each line carries the process's CPU seconds and the load
average. A missed target is printed as such; the run fails (exit 1) only when results differ.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
AS_OF = date(2026, 6, 30)  # the generated year's last day: the whole year is counted
TARGET_SECONDS, TARGET_GB, TARGET_RATIO = 60.0, 8.0, 5.0
# The reference's student × day frame takes ~50 KB per student (5 GB at 100,000 students):
# it works through 100,000 students at a time, with the same result.
PANDAS_CHUNK = 100_000


def main(argv: list[str]) -> int:
    args = _parser().parse_args(argv)
    if args.child:
        return _child(args)
    lake = args.lake or ensure_lake(args.students, args.seed)
    _header(lake)
    with tempfile.TemporaryDirectory(prefix="attend-bench-insights-") as temp:
        engine = _spawn("engine", lake, Path(temp) / "engine.parquet")
        print(_engine_line(engine), flush=True)
        print(f"  stages: {_stages(engine['stages'])}", flush=True)
        same = True
        if not args.no_pandas:
            baseline = _spawn("pandas", lake, Path(temp) / "pandas.parquet")
            same = _compare(engine, baseline, Path(temp))
    if not args.no_spark:
        same &= _spark(args.spark_students, args.seed)
    # A missed speed target is printed; only results that differ fail the run.
    return 0 if same else 1


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="attend bench insights", description=(__doc__ or "").split("\n")[0]
    )
    parser.add_argument("--students", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--lake", type=Path, help="use this lake folder instead of generating")
    parser.add_argument("--spark-students", type=int, default=100_000)
    parser.add_argument("--no-pandas", action="store_true")
    parser.add_argument("--no-spark", action="store_true")
    parser.add_argument("--child", choices=["engine", "pandas", "spark", "duckdb"])
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    return parser


def lake_dir(students: int, seed: int) -> Path:
    """Where a generated lake is kept between runs."""
    try:
        from django.conf import settings

        base = Path(settings.VAR_DIR)
    except Exception:  # run outside `attend bench`: Django is not configured
        base = ROOT / "var"
    return base / "bench" / "insights" / f"s{seed}-n{students}"


def ensure_lake(students: int, seed: int) -> Path:
    """The cached lake folder of `students` students, generated when absent (the manifest is
    written last, so a folder without it is an interrupted run and is regenerated)."""
    folder = lake_dir(students, seed)
    if (folder / "_truth" / "manifest.json").is_file():
        return folder
    from attend.roster.generate import generate

    print(f"generating {students:,} students into {folder} ...", flush=True)
    started = time.perf_counter()
    generate(students=students, seed=seed, out=folder, fmt="parquet", as_of=AS_OF)
    print(f"generated in {time.perf_counter() - started:.0f} s", flush=True)
    return folder


def _header(lake: Path) -> None:
    manifest = json.loads((lake / "_truth" / "manifest.json").read_text(encoding="utf-8"))
    counts = manifest["counts"]
    print(
        f"insights bench: {manifest['students_on_file']:,} students, "
        f"{manifest['schools']} schools, {manifest['school_days_to_as_of']} school days, "
        f"{counts['studentSchoolAttendanceEvents']:,} school + "
        f"{counts['studentSectionAttendanceEvents']:,} section events (lake {lake}); "
        f"{_load()}",
        flush=True,
    )


def _spawn(kind: str, lake: Path, out: Path) -> dict[str, Any]:
    """Run one measured part in a fresh process (its peak RSS is its own); its last stdout
    line is a JSON summary."""
    command = [sys.executable, "-m", "bench.bench_insights", "--child", kind]
    command += ["--lake", str(lake), "--out", str(out)]
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        sys.stderr.write(done.stdout + done.stderr)
        raise SystemExit(f"the {kind} run failed (exit {done.returncode})")
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def _child(args: argparse.Namespace) -> int:
    """One measured part; prints its summary as JSON on the last line."""
    started_cpu = time.process_time()
    if args.child == "pandas":
        summary = _pandas_child(args.lake, args.out)
    else:
        summary = _engine_child(args.lake, args.out, args.child)
    summary["cpu"] = time.process_time() - started_cpu
    summary["peak_gb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2
    print(json.dumps(summary))
    return 0


def _engine_child(lake: Path, out: Path, kind: str) -> dict[str, Any]:
    import pyarrow.parquet as pq

    from attend.insights.engine import compute, connect

    engine = "pyspark" if kind == "spark" else "duckdb"
    started = time.perf_counter()
    con = connect(engine)
    start_up = time.perf_counter() - started
    stages: dict[str, float] = {}
    started = time.perf_counter()
    result = compute(source=lake, as_of=AS_OF, con=con, timings=stages)
    seconds = time.perf_counter() - started
    pq.write_table(result.metrics, out)
    rows = {name: getattr(result, name).num_rows for name in ("metrics", "flags", "quality")}
    rows |= {"aggregates": result.aggregates.num_rows, "trend": result.trend.num_rows}
    return {"seconds": seconds, "start_up": start_up, "stages": stages, "rows": rows}


def _pandas_child(lake: Path, out: Path) -> dict[str, Any]:
    import pyarrow as pa
    import pyarrow.parquet as pq

    from attend.insights.engine import connect, load_lake
    from attend.insights.engine.pandas_ref import pandas_metrics

    started = time.perf_counter()
    con = connect("duckdb")
    inputs = load_lake(lake, con)
    frames = {
        name: con.to_pyarrow(inputs.table(name)).to_pandas()
        for name in ("school_days", "enrollments", "events", "section_events")
    }
    del con, inputs
    read = time.perf_counter() - started
    started = time.perf_counter()
    metrics = pandas_metrics(frames, as_of=AS_OF, chunk_students=PANDAS_CHUNK)
    seconds = time.perf_counter() - started
    pq.write_table(pa.Table.from_pandas(metrics, preserve_index=False), out)
    return {"seconds": seconds, "read": read, "rows": {"metrics": len(metrics)}}


def _compare(engine: dict[str, Any], baseline: dict[str, Any], folder: Path) -> bool:
    """Print the pandas line; True when the two metric tables are equal."""
    mismatched = _mismatches(folder / "engine.parquet", folder / "pandas.parquet")
    same = "equal" if not mismatched else f"DIFFERENT in {', '.join(mismatched)}"
    ratio = baseline["seconds"] / engine["seconds"]
    print(
        f"pandas reference (metrics only, tables read apart in {baseline['read']:.1f} s): "
        f"{baseline['seconds']:.1f} s wall, {baseline['cpu']:.0f} s CPU in all, peak RSS "
        f"{baseline['peak_gb']:.2f} GB; {baseline['rows']['metrics']:,} metric rows {same}; "
        f"engine {ratio:.1f}x faster end to end (target >= {TARGET_RATIO:.0f}x: "
        f"{'met' if ratio >= TARGET_RATIO else 'MISSED'}); {_load()}",
        flush=True,
    )
    return not mismatched


def _mismatches(engine_path: Path, pandas_path: Path) -> list[str]:
    """Columns whose values differ (rows matched on the keys; NaN and null are the same)."""
    import pandas as pd

    keys = ["school_year", "school_id", "student_id"]
    ours = pd.read_parquet(engine_path).sort_values(keys, ignore_index=True)
    theirs = pd.read_parquet(pandas_path).sort_values(keys, ignore_index=True)
    if len(ours) != len(theirs):
        return [f"row count ({len(ours):,} vs {len(theirs):,})"]
    wrong = []
    for column in ours.columns:
        left, right = ours[column], theirs[column]
        if column == "as_of":
            left, right = pd.to_datetime(left), pd.to_datetime(right)
        both_null = left.isna() & right.isna()
        equal = (left.astype(object) == right.astype(object)) | both_null
        if not bool(equal.all()):
            wrong.append(f"{column} ({int((~equal).sum()):,} rows)")
    return wrong


def _spark(students: int, seed: int) -> bool:
    """Print the PySpark line; True when its metrics equal DuckDB's."""
    lake = ensure_lake(students, seed)
    with tempfile.TemporaryDirectory(prefix="attend-bench-spark-") as temp:
        spark = _spawn("spark", lake, Path(temp) / "spark.parquet")
        duck = _spawn("duckdb", lake, Path(temp) / "duck.parquet")
        wrong = _mismatches(Path(temp) / "duck.parquet", Path(temp) / "spark.parquet")
    print(
        f"PySpark local[2], {students:,} students: {spark['seconds']:.1f} s end to end "
        f"(+{spark['start_up']:.1f} s session start-up; stages {_stages(spark['stages'])}); "
        f"DuckDB on the same lake {duck['seconds']:.1f} s; metrics "
        f"{'equal' if not wrong else 'DIFFERENT in ' + ', '.join(wrong)}; {_load()}",
        flush=True,
    )
    return not wrong


def _engine_line(run: dict[str, Any]) -> str:
    verdict = (
        "met" if run["seconds"] <= TARGET_SECONDS and run["peak_gb"] <= TARGET_GB else "MISSED"
    )
    rows = run["rows"]
    return (
        f"engine (DuckDB) end to end: {run['seconds']:.1f} s wall, {run['cpu']:.0f} s CPU, "
        f"peak RSS {run['peak_gb']:.2f} GB (targets <= {TARGET_SECONDS:.0f} s, "
        f"<= {TARGET_GB:.0f} GB: {verdict}); {rows['metrics']:,} metric rows, "
        f"{rows['flags']:,} flags, {rows['quality']:,} quality findings, "
        f"{rows['aggregates']:,} cells, {rows['trend']:,} trend rows; {_load()}"
    )


def _stages(stages: dict[str, float]) -> str:
    return ", ".join(f"{name} {seconds:.1f} s" for name, seconds in stages.items())


def _load() -> str:
    one, five, _ = os.getloadavg()
    return f"load avg {one:.1f}/{five:.1f} on {os.cpu_count()} CPUs"


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
