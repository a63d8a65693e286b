"""The same expressions on PySpark (local[2]) give the same rows as on DuckDB."""

from __future__ import annotations

import os
import shutil
from datetime import date
from pathlib import Path

import pytest

from attend.insights.engine import Policy, connect, inputs_for
from attend.insights.engine.metrics import student_metrics
from attend.insights.engine.patterns import flags
from attend.insights.engine.prepare import prepare
from attend.insights.engine.testing import synthetic_district, write_lake

pytestmark = pytest.mark.slow


def _java() -> bool:
    return shutil.which("java") is not None or bool(os.environ.get("JAVA_HOME"))


@pytest.mark.skipif(not _java(), reason="PySpark needs Java (17) on the PATH or JAVA_HOME")
def test_it_gives_identical_metric_and_flag_rows_on_duckdb_and_pyspark(tmp_path: Path) -> None:
    folder = write_lake(synthetic_district(students=24, seed=7), tmp_path / "lake", "ndjson")
    as_of, policy = date(2025, 1, 15), Policy(recent_window_days=10)
    results = {}
    for engine in ("duckdb", "pyspark"):
        con = connect(engine)
        prep = prepare(inputs_for(folder, con), as_of=as_of, policy=policy)
        results[engine] = (
            con.to_pyarrow(student_metrics(prep)).to_pylist(),
            con.to_pyarrow(flags(prep)).to_pylist(),
        )
    duck, spark = results["duckdb"], results["pyspark"]
    assert len(duck[0]) > 20 and len(duck[1]) > 0
    assert spark[0] == duck[0]
    assert spark[1] == duck[1]
