from __future__ import annotations

import subprocess
import sys
from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser

from attend.core import demo


class Command(BaseCommand):
    help = "Set up the demo (database, synthetic district, one login per role) and serve it."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--students", type=int, default=2000)
        parser.add_argument("--seed", type=int, default=2026)
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--no-serve", action="store_true", help="set up, print logins, exit")

    def handle(self, *args: Any, **options: Any) -> None:
        from django.conf import settings

        if not settings.DEMO:
            raise CommandError("run this as `attend demo` (it switches on demo mode)")
        settings.VAR_DIR.mkdir(parents=True, exist_ok=True)
        call_command("migrate", interactive=False, verbosity=0)
        district = demo.ensure_district(
            students=options["students"], seed=options["seed"], log=self.stdout.write
        )
        users = demo.ensure_accounts(district)
        self._print_logins(users, options["port"])
        if not options["no_serve"]:
            self._serve(options["port"])

    def _serve(self, port: int) -> None:
        """The web server in this process; the safety deadline loop and the worker beside it."""
        loops = [
            subprocess.Popen([sys.executable, "-m", "attend.cli", name])
            for name in ("safetyd", "worker")
        ]
        try:
            call_command("serve", host="127.0.0.1", port=port)
        finally:
            for loop in loops:
                loop.terminate()
            for loop in loops:
                loop.wait(timeout=10)

    def _print_logins(self, users: list[Any], port: int) -> None:
        out = self.stdout.write
        out(self.style.SUCCESS(f"\nAttend demo on http://127.0.0.1:{port}/"))
        out(f"Every demo account's password: {demo.DEMO_PASSWORD}")
        for user in users:
            out(f"  {user.username:<11} {user.get_role_display()}")
        out(
            "Officers, operators and the admin also need a two-factor code: add the key "
            f"{demo.DEMO_TOTP_SECRET} to an authenticator app, or run "
            "`.venv/bin/attend totp officer` for the current code."
        )
