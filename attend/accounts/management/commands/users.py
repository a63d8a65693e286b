from __future__ import annotations

import getpass
import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from attend.accounts import actions
from attend.accounts.choices import Role
from attend.accounts.models import User
from attend.roster.models import District, School


class Command(BaseCommand):
    help = "Manage user accounts from the shell: `attend users add|list`."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="verb", required=True)
        add = sub.add_parser("add", help="create a user")
        add.add_argument("username")
        add.add_argument("--role", required=True, choices=[r.value for r in Role])
        add.add_argument("--school", action="append", default=[], help="Ed-Fi schoolId (repeat)")
        add.add_argument("--district", help="LEA id; defaults to the only district")
        add.add_argument("--email", default="")
        add.add_argument("--password", help="omit to be asked (or for an unusable password)")
        sub.add_parser("list", help="list users and their roles")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["verb"] == "list":
            for user in User.objects.select_related("district").order_by("username"):
                self.stdout.write(f"{user.username:<20} {user.role:<15} {user.district or ''}")
            return
        self._add(options)

    def _add(self, options: dict[str, Any]) -> None:
        if User.objects.filter(username=options["username"]).exists():
            raise CommandError(f"user {options['username']!r} already exists")
        district = _district(options["district"])
        schools = _schools(options["school"], district)
        password = options["password"]
        if password is None and sys.stdin.isatty():
            password = getpass.getpass("Password (empty for none): ") or None
        user = actions.create_user(
            username=options["username"],
            password=password,
            role=Role(options["role"]),
            district=district,
            schools=schools,
            email=options["email"],
        )
        self.stdout.write(f"created {user.username} ({user.get_role_display()})")


def _district(lea_id: str | None) -> District:
    districts = District.objects.all()
    if lea_id:
        districts = districts.filter(lea_id=lea_id)
    if districts.count() != 1:
        raise CommandError("name the district with --district LEA_ID (none or several match)")
    return districts.get()


def _schools(ids: list[str], district: District) -> list[School]:
    schools = list(School.objects.filter(district=district, school_id__in=ids))
    missing = set(ids) - {s.school_id for s in schools}
    if missing:
        raise CommandError(f"unknown school id(s) in this district: {', '.join(sorted(missing))}")
    return schools
