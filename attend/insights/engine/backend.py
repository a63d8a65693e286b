"""Materialising an intermediate table, the same way on every backend.

DuckDB: Ibis's `cache()` (a temporary table). Spark: a local checkpoint registered as a view.
Spark's own `cache()` keeps the full logical plan behind the cached data, and the engine's
plans reference earlier ones several times over, so a chain of cached tables grows plans (and
the driver's heap) without bound; a checkpoint cuts the chain.
"""

from __future__ import annotations

from typing import Any

import ibis
import ibis.expr.types as ir

__all__ = ["materialise"]


def materialise(table: ir.Table) -> ir.Table:
    """The table computed once and stored on its backend; later queries read the result."""
    con: Any = table._find_backend()
    if con.name != "pyspark":
        return table.cache()
    name = ibis.util.gen_name("attend_stage")
    frame = con._session.sql(con.compile(table)).localCheckpoint(eager=True)
    frame.createOrReplaceTempView(name)
    return con.table(name)
