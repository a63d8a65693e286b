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
        scores = sub.add_parser(
            "score-detectors",
            help="replay a generated district and score each pattern against its answer file",
        )
        source = scores.add_mutually_exclusive_group(required=True)
        source.add_argument("--edfi", type=Path, help="a folder written by `attend generate`")
        source.add_argument(
            "--students", type=int, help="generate a district of this many students first"
        )
        scores.add_argument("--seed", type=int, default=1, help="with --students")
        scores.add_argument(
            "--as-of",
            type=dt.date.fromisoformat,
            default=None,
            help="last run date (default: the last day with attendance events)",
        )
        scores.add_argument(
            "--every", type=int, default=1, help="run the engine every N school days"
        )
        scores.add_argument("--out", type=Path, default=None, help="write the Markdown report")
        app = sub.add_parser("run", help="app mode: database → StudentSnapshot rows (a Job)")
        app.add_argument("--as-of", type=dt.date.fromisoformat, default=None)
        app.add_argument(
            "--no-rules", action="store_true", help="do not run the state truancy rules after"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        started = time.perf_counter()
        if options["verb"] == "compute":
            self._compute(options)
        elif options["verb"] == "score-detectors":
            self._score(options)
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

    def _score(self, options: dict[str, Any]) -> None:
        import tempfile

        if options["every"] < 1:
            raise CommandError("--every must be at least 1")
        if options["edfi"] is not None:
            if not (options["edfi"] / "_truth" / "life_events.csv").exists():
                raise CommandError(f"{options['edfi']} has no _truth/life_events.csv")
            self._score_folder(options["edfi"], options)
            return
        if options["students"] < 1:
            raise CommandError("--students must be at least 1")
        from attend.roster.generate import generate

        with tempfile.TemporaryDirectory(prefix="attend-scores-") as temp:
            folder = Path(temp) / "lake"
            as_of = options["as_of"] or dt.date(2026, 6, 30)
            generate(
                students=options["students"],
                seed=options["seed"],
                out=folder,
                fmt="parquet",
                as_of=as_of,
            )
            self._score_folder(folder, options)

    def _score_folder(self, folder: Path, options: dict[str, Any]) -> None:
        from rich.progress import Progress

        from attend.insights.detector_scores import render_report, score_folder

        with Progress(transient=True) as bar:
            task = bar.add_task("Replaying the year", total=None)
            history, scores = score_folder(
                folder,
                as_of=options["as_of"],
                every=options["every"],
                progress=lambda done, total: bar.update(task, completed=done, total=total),
            )
        report = render_report(history, scores, folder=folder, command=_command_line(options))
        if options["out"] is not None:
            options["out"].parent.mkdir(parents=True, exist_ok=True)
            options["out"].write_text(report, encoding="utf-8")
            self.stdout.write(f"wrote {options['out']}")
        self.stdout.write("\n".join(line for line in report.splitlines() if line.startswith("|")))

    def _run(self, options: dict[str, Any]) -> None:
        from attend.insights.services import run_app_mode

        as_of = options["as_of"] or timezone.localdate()
        run = run_app_mode(as_of=as_of)
        self.stdout.write(f"stored {run.students} snapshots as of {as_of} (job {run.job_id})")
        if not options["no_rules"]:
            from attend.cases.actions import rules_line, run_rules_job

            job = run_rules_job(as_of=as_of, why=f"insights run {run.pk}")
            self.stdout.write(rules_line(job.counts) + f" (job {job.pk})")


def _command_line(options: dict[str, Any]) -> str:
    """The `attend insights score-detectors` call that reproduces a report."""
    parts = ["attend insights score-detectors"]
    if options["edfi"] is not None:
        parts.append(f"--edfi {options['edfi']}")
    else:
        parts.append(f"--students {options['students']} --seed {options['seed']}")
    if options["as_of"] is not None:
        parts.append(f"--as-of {options['as_of'].isoformat()}")
    parts.append(f"--every {options['every']}")
    if options["out"] is not None:
        parts.append(f"--out {options['out']}")
    return " ".join(parts)
