"""The same expressions on PySpark (local[2]) give the same rows as on DuckDB."""

from __future__ import annotations

import os
import shutil
from datetime import date
from pathlib import Path

import pytest

from attend.insights.engine import Policy, compute, connect
from attend.insights.engine.testing import synthetic_district, write_lake

pytestmark = pytest.mark.slow


def _java() -> bool:
    return shutil.which("java") is not None or bool(os.environ.get("JAVA_HOME"))


@pytest.mark.skipif(not _java(), reason="PySpark needs Java (17) on the PATH or JAVA_HOME")
def test_it_gives_identical_rows_on_duckdb_and_pyspark(tmp_path: Path) -> None:
    folder = write_lake(synthetic_district(students=24, seed=7), tmp_path / "lake", "ndjson")
    as_of, policy = date(2025, 1, 15), Policy(recent_window_days=10, min_cell_students=3)
    duck = compute(source=folder, as_of=as_of, policy=policy, engine="duckdb")
    spark_con = connect("pyspark")
    try:
        spark = compute(source=folder, as_of=as_of, policy=policy, con=spark_con)
    finally:
        spark_con._session.stop()
    assert duck.metrics.num_rows > 20 and duck.flags.num_rows > 0
    for name in ("metrics", "flags", "quality", "aggregates", "trend"):
        assert getattr(spark, name).to_pylist() == getattr(duck, name).to_pylist(), name
