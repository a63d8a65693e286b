from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser


class Command(BaseCommand):
    help = "Receive Traccar Client (OsmAnd protocol) reports over HTTP on their own port."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--listen", default="0.0.0.0:5055", help="HOST:PORT (default 5055)")

    def handle(self, *args: Any, **options: Any) -> None:
        import uvicorn

        host, _, port = options["listen"].rpartition(":")
        if not host or not port.isdigit():
            raise CommandError("--listen takes HOST:PORT, e.g. 0.0.0.0:5055")
        self.stdout.write(f"Traccar Client endpoint on http://{host}:{port}/")
        uvicorn.run(
            "attend.devices.osmand.asgi:application",
            host=host,
            port=int(port),
            log_level="warning",
            lifespan="off",
        )
