"""`attend letters bulk --worklist watch --user olivia [--key supportive] [--workers 2]`."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from attend.accounts.models import User
from attend.cases import bulk
from attend.cases.worklists import worklists
from attend.roster.models import Student

LISTS = ("watch", "tier2", "tier3")


def worklist_students(user: User, name: str) -> list[Student]:
    """The students on one of the officer's worklists, as the worklist page shows them."""
    found = worklists(user, timezone.localdate())[name]
    if name == "watch":
        return list(found)
    return [case.student for case in found]


class Command(BaseCommand):
    help = "Family letters: generate the supportive letter for everyone on a worklist, as a Job."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="verb", required=True)
        run = sub.add_parser("bulk", help="one letter per student on the worklist, kept as sent")
        run.add_argument("--worklist", required=True, choices=LISTS)
        run.add_argument("--user", required=True, help="the officer approving the letters")
        run.add_argument("--key", default="supportive", help="letter template key")
        run.add_argument("--workers", type=int, default=2, help="PDF processes (0: this one)")

    def handle(self, *args: Any, **options: Any) -> None:
        user = User.objects.filter(username=options["user"], is_active=True).first()
        if user is None:
            raise CommandError(f"no active user {options['user']!r}")
        students = worklist_students(user, options["worklist"])
        if not students:
            self.stdout.write(f"Nobody on {user.username}'s {options['worklist']} list.")
            return
        job = bulk.create_bulk_job(students=students, by=user, key=options["key"])
        started = time.perf_counter()
        counts = bulk.run_bulk(job=job, workers=options["workers"])
        seconds = time.perf_counter() - started
        self.stdout.write(
            f"Job {job.pk}: {counts.get('letters', 0)} letters kept, "
            f"{counts.get('refused', 0)} refused, in {seconds:.1f} s"
        )
