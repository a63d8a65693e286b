from __future__ import annotations

from io import StringIO

from django.core.management import call_command
from django.core.management.base import CommandError

from attend.accounts.models import User
from attend.audit.models import ChangeLog
from attend.test import BaseTestCase


class UsersCommandTests(BaseTestCase):
    def _run(self, *args: str) -> str:
        out = StringIO()
        call_command("users", *args, stdout=out)
        return out.getvalue()

    def test_it_adds_a_user_with_a_role_and_school(self) -> None:
        out = self._run(
            "add",
            "pat",
            "--role",
            "officer",
            "--school",
            "100001",
            "--district",
            "100",
            "--password",
            "a long enough password",
        )
        self.assertIn("created pat", out)
        pat = User.objects.get(username="pat")
        self.assertEqual(list(pat.schools.all()), [self.lincoln])
        self.assertTrue(pat.check_password("a long enough password"))
        self.assertTrue(ChangeLog.objects.filter(action="user.create", target_id=pat.pk).exists())

    def test_it_refuses_unknown_schools_and_duplicates(self) -> None:
        with self.assertRaisesMessage(CommandError, "unknown school id"):
            self._run(
                "add",
                "pat",
                "--role",
                "officer",
                "--school",
                "999",
                "--district",
                "100",
                "--password",
                "x" * 12,
            )
        with self.assertRaisesMessage(CommandError, "already exists"):
            self._run("add", "olivia", "--role", "officer", "--district", "100", "--password", "x")
        self.assertFalse(User.objects.filter(username="pat").exists())
