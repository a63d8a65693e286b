"""`attend devices …` and `attend dc09 --listen …`."""

from __future__ import annotations

from io import StringIO
from unittest.mock import patch

from django.core.management import CommandError, call_command

from attend.audit.models import ChangeLog
from attend.devices.dc09 import django_handler
from attend.devices.models import Device
from attend.test import BaseTestCase


def run(*args: str) -> str:
    out = StringIO()
    call_command(*args, stdout=out, stderr=StringIO())
    return out.getvalue()


class DevicesCommandTests(BaseTestCase):
    def test_it_registers_lists_and_revokes_devices(self) -> None:
        run(
            "devices",
            "add-dc09",
            "olivia",
            "--account",
            "12ab",
            "--key",
            "0A" * 16,
            "--supervision",
            "90",
            "--receiver",
            "579bdf",
        )
        run("devices", "add-osmand", "omar", "--id", "867530", "--label", "Omar's phone")
        badge = Device.objects.get(kind="dc09")
        self.assertEqual((badge.dc09_account, badge.dc09_receiver), ("12AB", "579BDF"))
        self.assertEqual((badge.dc09_key_hex, badge.supervision_seconds), ("0a" * 16, 90))
        listing = run("devices", "list")
        self.assertIn("12AB", listing)
        self.assertIn("867530", listing)
        run("devices", "revoke", str(badge.pk))
        self.assertIsNotNone(Device.objects.get(pk=badge.pk).revoked_at)
        self.assertEqual(ChangeLog.objects.filter(action__startswith="device.").count(), 3)

    def test_it_refuses_bad_input(self) -> None:
        run("devices", "add-dc09", "olivia", "--account", "1234")
        for args in (
            ("add-dc09", "olivia", "--account", "1234"),  # already registered
            ("add-dc09", "olivia", "--account", "12"),
            ("add-dc09", "olivia", "--account", "9999", "--key", "00" * 15),
            ("add-dc09", "nobody", "--account", "9999"),
            ("add-dc09", "olivia", "--account", "9999", "--line", "XYZ"),
            ("revoke", "999"),
        ):
            with self.subTest(args=args), self.assertRaises(CommandError):
                run("devices", *args)


class Dc09CommandTests(BaseTestCase):
    def test_it_starts_and_stops_the_receiver(self) -> None:
        # The loader runs in a worker thread, which cannot see this test's transaction.
        async def no_accounts() -> dict[str, object]:
            return {}

        with patch.object(django_handler, "load_accounts", no_accounts):
            output = run("dc09", "--listen", "127.0.0.1:0", "--for-seconds", "0.2")
        self.assertIn("DC-09 receiver on 127.0.0.1:", output)
        self.assertIn("stopped", output)

    def test_it_refuses_a_bad_listen_address(self) -> None:
        with self.assertRaises(CommandError):
            run("dc09", "--listen", "nowhere")
