from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from attend.accounts.models import User
from attend.lib import totp


class Command(BaseCommand):
    help = "Demo only: print a demo user's current two-factor code."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")

    def handle(self, *args: Any, **options: Any) -> None:
        from attend.core.demo import DEMO_TOTP_SECRET

        user = User.objects.filter(username=options["username"]).first()
        if user is None:
            raise CommandError(f"no user {options['username']!r}")
        # Outside the demo this would let a shell user bypass a real person's second factor.
        if user.totp_secret != DEMO_TOTP_SECRET and not settings.DEMO:
            raise CommandError("only demo accounts (with the published demo key) have codes here")
        if not user.totp_secret:
            raise CommandError(f"{user.username} has no two-factor key")
        self.stdout.write(totp.code_at(user.totp_secret))
