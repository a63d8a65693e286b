"""`attend worker`: runs the scheduled work (today: the nightly run) when its deadline passes.

Polls the schedule rows; all state is in the database, so a restart loses nothing, and a night
whose time passed while no worker ran is run once when one starts.
"""

from __future__ import annotations

import signal
import time
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from attend.jobs import actions as jobs
from attend.jobs.choices import ScheduleKind
from attend.jobs.models import Job
from attend.jobs.nightly import KIND, night_of, run_nightly


class Command(BaseCommand):
    help = "Run scheduled work: the nightly insights, truancy rules and risk scores."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--interval", type=float, default=30.0, help="seconds between polls")
        parser.add_argument("--once", action="store_true", help="one poll, then exit")
        parser.add_argument(
            "--now", action="store_true", help="run the nightly work now (for the last school day)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            at_time = jobs.parse_time_of_day(settings.ATTEND_NIGHTLY_AT)
        except ValueError as error:
            raise CommandError(str(error)) from None
        schedule = jobs.ensure_schedule(
            kind=ScheduleKind.NIGHTLY, at_time=at_time, now=timezone.now()
        )
        if options["now"]:
            self._run(timezone.now())
            return
        self.stopping = False
        signal.signal(signal.SIGTERM, self._stop)
        signal.signal(signal.SIGINT, self._stop)
        next_at = timezone.localtime(schedule.next_run_at)
        self.stdout.write(f"worker: nightly run at {at_time:%H:%M}, next {next_at:%Y-%m-%d %H:%M}")
        while not self.stopping:
            started = time.monotonic()
            deadline = jobs.claim_due(kind=ScheduleKind.NIGHTLY, now=timezone.now())
            if deadline is not None:
                self._run(deadline)
            if options["once"]:
                break
            while not self.stopping and time.monotonic() - started < options["interval"]:
                time.sleep(0.2)
        self.stdout.write("worker: stopped")

    def _run(self, deadline: Any) -> None:
        as_of = night_of(deadline)
        try:
            job = run_nightly(as_of=as_of)
        except Exception as error:  # the Job shows the failure; the worker lives to run tomorrow
            self.stderr.write(f"nightly run for {as_of} failed: {type(error).__name__}: {error}")
            failed = Job.objects.filter(kind=KIND).first()
            if failed is not None:
                jobs.record_schedule_job(kind=ScheduleKind.NIGHTLY, job=failed)
            return
        jobs.record_schedule_job(kind=ScheduleKind.NIGHTLY, job=job)
        counts = ", ".join(f"{name} {value}" for name, value in job.counts.items())
        status = job.get_status_display()
        self.stdout.write(f"nightly run for {as_of}: {status}, {counts} (job {job.pk})")
        for problem in job.errors:
            self.stderr.write(problem)

    def _stop(self, signum: int, frame: Any) -> None:
        self.stopping = True
