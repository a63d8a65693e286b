"""`attend safetyd`: visit deadlines, escalation steps, the stuck sweep and a heartbeat.

Polls every second. All timers are rows in the database, so a restart loses nothing: a step whose
time passed while the process was down runs at once and records how late it was.
"""

from __future__ import annotations

import signal
import time
from typing import Any

from django.core.management.base import BaseCommand

from attend.safety.loop import safe_tick


class Command(BaseCommand):
    help = "Run the field-safety loop (visit timers, alarm escalation, stuck sweep, heartbeat)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--interval", type=float, default=1.0, help="seconds between ticks")
        parser.add_argument("--once", action="store_true", help="run one tick and exit")
        parser.add_argument("--name", default="safetyd", help="heartbeat row name")
        parser.add_argument(
            "--no-deliver", action="store_true", help="leave the outbox to `attend notify deliver`"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        self.stopping = False
        signal.signal(signal.SIGTERM, self._stop)
        signal.signal(signal.SIGINT, self._stop)
        deliver = not options["no_deliver"]
        self.stdout.write(f"safetyd: polling every {options['interval']} s")
        while not self.stopping:
            started = time.monotonic()
            tick = safe_tick(name=options["name"], deliver=deliver)
            if tick and (tick.steps or tick.escalated or tick.overdue or tick.stuck):
                self.stdout.write(
                    f"overdue={tick.overdue} escalated={tick.escalated} steps={tick.steps} "
                    f"stuck={tick.stuck} delivered={tick.delivered} max_late={tick.max_late:.1f}s"
                )
            if options["once"]:
                break
            # Sleep in small slices so SIGTERM ends the loop promptly, between ticks.
            while not self.stopping and time.monotonic() - started < options["interval"]:
                time.sleep(0.05)
        self.stdout.write("safetyd: stopped")

    def _stop(self, signum: int, frame: Any) -> None:
        self.stopping = True
