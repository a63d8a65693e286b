from __future__ import annotations

import datetime as dt
import time
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone


class Command(BaseCommand):
    help = "Attendance insights: `compute` a lake folder to files, or `run` on the database."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="verb", required=True)
        lake = sub.add_parser("compute", help="lake mode: Ed-Fi folder → CSV/Parquet files")
        lake.add_argument("--edfi", type=Path, required=True)
        lake.add_argument("--as-of", type=dt.date.fromisoformat, required=True)
        lake.add_argument("--out", type=Path, required=True, help="FILE.csv or FILE.parquet")
        lake.add_argument("--engine", choices=["duckdb", "pyspark"], default="duckdb")
        app = sub.add_parser("run", help="app mode: database → StudentSnapshot rows (a Job)")
        app.add_argument("--as-of", type=dt.date.fromisoformat, default=None)

    def handle(self, *args: Any, **options: Any) -> None:
        started = time.perf_counter()
        if options["verb"] == "compute":
            self._compute(options)
        else:
            self._run(options)
        self.stdout.write(f"done in {time.perf_counter() - started:.1f} s")

    def _compute(self, options: dict[str, Any]) -> None:
        from attend.insights.services import run_lake_mode

        if not options["edfi"].is_dir():
            raise CommandError(f"{options['edfi']} is not a folder")
        if options["out"].suffix not in (".csv", ".parquet"):
            raise CommandError("--out must end in .csv or .parquet")
        paths = run_lake_mode(
            folder=options["edfi"],
            as_of=options["as_of"],
            out=options["out"],
            engine=options["engine"],
        )
        for path in paths:
            self.stdout.write(f"wrote {path}")

    def _run(self, options: dict[str, Any]) -> None:
        from attend.insights.services import run_app_mode

        as_of = options["as_of"] or timezone.localdate()
        run = run_app_mode(as_of=as_of)
        self.stdout.write(f"stored {run.students} snapshots as of {as_of} (job {run.job_id})")
