from __future__ import annotations

import datetime as dt
import resource
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser


class Command(BaseCommand):
    help = "Write a synthetic district as a lake-mode folder of Ed-Fi resources."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--students", type=int, default=2000)
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument("--out", type=Path, required=True)
        parser.add_argument("--format", choices=["json", "ndjson", "parquet"], default="ndjson")
        parser.add_argument("--as-of", type=dt.date.fromisoformat, default=None)
        parser.add_argument("--schools", type=int, default=None)

    def handle(self, *args: Any, **options: Any) -> None:
        from rich.progress import Progress

        from attend.roster.generate import generate

        if options["students"] < 1:
            raise CommandError("--students must be at least 1")
        with Progress(transient=True) as bar:
            task = bar.add_task("Generating students", total=options["students"])
            result = generate(
                students=options["students"],
                seed=options["seed"],
                out=options["out"],
                fmt=options["format"],
                as_of=options["as_of"],
                schools=options["schools"],
                progress=lambda done, total: bar.update(task, completed=done, total=total),
            )
        peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        for name, count in sorted(result.counts.items()):
            self.stdout.write(f"  {name:<45} {count:>12,}")
        elapsed = result.elapsed_seconds
        out = options["out"]
        self.stdout.write(f"wrote {out} in {elapsed:.1f} s, peak memory {peak_mb:,.0f} MB")
