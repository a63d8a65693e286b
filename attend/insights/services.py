"""Running the engine as a visible Job, in app mode (database) or lake mode (files)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING

from attend.insights.actions import store_results
from attend.insights.app_source import database_input
from attend.insights.engine import compute, write_outputs
from attend.insights.models import InsightsRun
from attend.jobs import actions as jobs
from attend.lib.dates import school_year_bounds, school_year_of

if TYPE_CHECKING:
    from attend.accounts.models import User


def run_app_mode(*, as_of: dt.date, by: User | None = None) -> InsightsRun:
    """1. A Job row. 2. Read the year from the database. 3. Compute. 4. Store snapshots."""
    school_year = school_year_of(as_of)
    with jobs.running_job(
        kind="insights",
        title=f"Attendance insights as of {as_of}",
        created_by=by,
        params={"as_of": as_of.isoformat()},
        total=3,
    ) as job:
        start, _ = school_year_bounds(school_year)
        inputs = database_input(school_year, start, as_of)
        jobs.report_progress(job=job, done=1, line="read the ledger")
        result = compute(source=inputs, as_of=as_of)
        jobs.report_progress(job=job, done=2, line=f"computed {result.metrics.num_rows} rows")
        run = store_results(result=result, as_of=as_of, school_year=school_year, by=by, job=job)
        counts = {
            "students": result.metrics.num_rows,
            "flags": result.flags.num_rows,
            "quality findings": result.quality.num_rows,
        }
        jobs.report_progress(job=job, done=3)
        jobs.finish_job(job=job, counts=counts)
    return run


def run_lake_mode(*, folder: Path, as_of: dt.date, out: Path, engine: str) -> list[Path]:
    result = compute(source=folder, as_of=as_of, engine=engine)
    return write_outputs(result, out)
