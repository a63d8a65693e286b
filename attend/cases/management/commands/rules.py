"""`attend rules replay --state CA --edfi DIR --as-of 2026-03-01 --out reached.csv`."""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from attend.cases.rules.loader import RuleSetError
from attend.cases.rules.replay import replay_rows, write_replay


class Command(BaseCommand):
    help = "State truancy rules: replay a lake-mode Ed-Fi folder through a rule set."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="verb", required=True)
        replay = sub.add_parser("replay", help="write one row per student × classification reached")
        replay.add_argument("--state", required=True, choices=["CA", "TX", "ca", "tx"])
        replay.add_argument("--edfi", required=True, type=Path, help="lake-mode Ed-Fi folder")
        replay.add_argument("--as-of", required=True, type=dt.date.fromisoformat)
        replay.add_argument("--out", required=True, type=Path)
        replay.add_argument(
            "--day-minutes", type=int, default=None, help="school-day length (default 360)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        folder: Path = options["edfi"]
        if not folder.is_dir():
            raise CommandError(f"{folder} is not a folder")
        started = time.perf_counter()
        try:
            rows = replay_rows(folder, options["state"], options["as_of"], options["day_minutes"])
            with options["out"].open("w", encoding="utf-8", newline="") as out:
                count = write_replay(rows, out)
        except RuleSetError as exc:
            raise CommandError(str(exc)) from exc
        elapsed = time.perf_counter() - started
        self.stdout.write(f"{count} rows → {options['out']} in {elapsed:.2f} s")
