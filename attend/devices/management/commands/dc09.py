"""`attend dc09 --listen HOST:PORT`: the SIA DC-09 receiver (TCP and UDP on one port)."""

from __future__ import annotations

import asyncio
import contextlib
import signal
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from attend.devices.dc09 import django_handler
from attend.devices.dc09.batch import GroupCommit, HeardLater, TwoLanes
from attend.devices.dc09.crypto import default_cipher
from attend.devices.dc09.server import Receiver


def parse_listen(value: str) -> tuple[str, int]:
    host, _, port = value.rpartition(":")
    if not host or not port.isdigit() or not 0 <= int(port) <= 65535:
        raise CommandError(f"--listen wants HOST:PORT, got {value!r}")
    return host.strip("[]"), int(port)


def receiver_handler(commits: django_handler.CommitProcess) -> TwoLanes:
    """Two lanes (see dc09/batch.py): alarms, cancels and positions in one durable transaction
    per batch of waiting frames — the commit, not the frame, is the unit of cost — each ACKed
    after it; link tests ACKed at once, their "last heard" written once a second. The
    database work runs in the `commits` child process (see `CommitProcess`)."""
    return TwoLanes(
        urgent=django_handler.writes_records,
        durable=GroupCommit(commits.handle_batch),
        relaxed=HeardLater(commits.touch_heard),
    )


class Command(BaseCommand):
    help = "Run the SIA DC-09 receiver: alarms are ACKed only after they are committed."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--listen", default="0.0.0.0:12300", help="HOST:PORT (TCP and UDP)")
        parser.add_argument("--duplicate-seconds", type=float, default=300.0)
        parser.add_argument("--for-seconds", type=float, help="stop after this long (smoke tests)")

    def handle(self, *args: Any, **options: Any) -> None:
        host, port = parse_listen(options["listen"])
        if default_cipher() is None:
            self.stderr.write(
                "The `cryptography` package is not installed: encrypted (*) messages get DUH."
            )
        asyncio.run(self._run(host, port, options["duplicate_seconds"], options["for_seconds"]))

    async def _run(self, host: str, port: int, duplicate: float, limit: float | None) -> None:
        """1. Start TCP + UDP. 2. Wait for SIGINT/SIGTERM (or `limit`). 3. Close cleanly."""
        commits = django_handler.CommitProcess()
        receiver = Receiver(
            handler=receiver_handler(commits),
            load_accounts=django_handler.load_accounts,
            on_supervision=django_handler.report,
            duplicate_seconds=duplicate,
        )
        bound = await receiver.start(host, port)
        self.stdout.write(f"DC-09 receiver on {host}:{bound} (TCP and UDP)")
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.add_signal_handler(sig, stop.set)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), limit)
        await receiver.stop()
        commits.close()
        self.stdout.write(f"stopped; {dict(receiver.counts)}")
