"""`attend notify deliver [--once]`: send due outbox rows through Apprise, with bounded retries."""

from __future__ import annotations

import signal
import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.db import OperationalError, connection

from attend.notify.actions import deliver_due
from attend.notify.choices import OutboxStatus
from attend.notify.models import Outbox


class Command(BaseCommand):
    help = "Deliver the notification outbox (deliver) or show its state (status)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("what", choices=["deliver", "status"])
        parser.add_argument("--once", action="store_true")
        parser.add_argument("--interval", type=float, default=1.0)

    def handle(self, *args: Any, **options: Any) -> None:
        if options["what"] == "status":
            for status in OutboxStatus:
                count = Outbox.objects.filter(status=status).count()
                self.stdout.write(f"{status.label}: {count}")
            return
        self.stopping = False
        signal.signal(signal.SIGTERM, lambda *_: setattr(self, "stopping", True))
        while not self.stopping:
            try:
                sent = deliver_due()
            except OperationalError as exc:
                connection.close()
                self.stderr.write(f"database unavailable: {exc}")
                sent = 0
            if sent:
                self.stdout.write(f"sent {sent}")
            if options["once"]:
                return
            time.sleep(options["interval"])
        if self.stopping and options["once"]:
            raise CommandError("interrupted")
