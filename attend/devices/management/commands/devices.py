"""`attend devices add-dc09 | add-osmand | list | revoke`: device registration from the shell."""

from __future__ import annotations

import re
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from attend.accounts.models import User
from attend.devices import actions
from attend.devices.dc09.crypto import parse_key
from attend.devices.models import Device

HEX_ACCOUNT = re.compile(r"[0-9A-Fa-f]{3,16}")
HEX_ROUTE = re.compile(r"[0-9A-Fa-f]{1,6}")


class Command(BaseCommand):
    help = "Register, list and revoke officer devices (DC-09 badges, Traccar Client phones)."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="verb", required=True)
        dc09 = sub.add_parser("add-dc09", help="register a DC-09 badge or panel account")
        dc09.add_argument("officer", help="username")
        dc09.add_argument("--account", required=True, help="3-16 hex digits")
        dc09.add_argument("--receiver", default="", help="R field (hex), if the badge sends one")
        dc09.add_argument("--line", default="", help="L field (hex), if it must match")
        dc09.add_argument("--key", default="", help="AES key, 32/48/64 hex digits")
        dc09.add_argument("--supervision", type=int, help="seconds between link tests")
        dc09.add_argument("--label", default="")
        osmand = sub.add_parser("add-osmand", help="register a Traccar Client phone")
        osmand.add_argument("officer", help="username")
        osmand.add_argument("--id", required=True, dest="osmand_id", help="the client's device id")
        osmand.add_argument("--label", default="")
        sub.add_parser("list", help="list devices")
        revoke = sub.add_parser("revoke", help="revoke a device")
        revoke.add_argument("device_id", type=int)

    def handle(self, *args: Any, **options: Any) -> None:
        verb = options["verb"]
        if verb == "list":
            self._list()
        elif verb == "revoke":
            self._revoke(options["device_id"])
        elif verb == "add-osmand":
            self._add_osmand(options)
        else:
            self._add_dc09(options)

    def _add_dc09(self, options: dict[str, Any]) -> None:
        account = options["account"].upper()
        if not HEX_ACCOUNT.fullmatch(account):
            raise CommandError("--account is 3 to 16 hex digits")
        for name in ("receiver", "line"):
            if options[name] and not HEX_ROUTE.fullmatch(options[name]):
                raise CommandError(f"--{name} is 1 to 6 hex digits")
        if Device.objects.filter(dc09_account__iexact=account, revoked_at=None).exists():
            raise CommandError(f"DC-09 account {account} is already registered")
        if options["key"]:
            try:
                parse_key(options["key"])
            except ValueError as exc:
                raise CommandError(str(exc)) from exc
        device = actions.register_dc09_device(
            officer=_officer(options["officer"]),
            account=account,
            receiver=options["receiver"].upper(),
            line=options["line"].upper(),
            key_hex=options["key"],
            supervision_seconds=options["supervision"],
            label=options["label"],
        )
        self.stdout.write(f"registered DC-09 device {device.pk} (account {account})")

    def _add_osmand(self, options: dict[str, Any]) -> None:
        if Device.objects.filter(osmand_id=options["osmand_id"]).exists():
            raise CommandError(f"Traccar Client id {options['osmand_id']!r} is already registered")
        device = actions.register_osmand_device(
            officer=_officer(options["officer"]),
            osmand_id=options["osmand_id"],
            label=options["label"],
        )
        self.stdout.write(f"registered Traccar Client device {device.pk}")

    def _list(self) -> None:
        for device in Device.objects.select_related("officer").order_by("pk"):
            ident = device.dc09_account or device.osmand_id or ""
            state = "revoked" if device.revoked_at else "active"
            seen = device.last_seen_at.isoformat() if device.last_seen_at else "never"
            self.stdout.write(
                f"{device.pk:>5} {device.kind:<7} {ident:<18} {device.officer.username:<16} "
                f"{state:<8} last seen {seen}  {device.label}"
            )

    def _revoke(self, device_id: int) -> None:
        device = Device.objects.filter(pk=device_id).first()
        if device is None:
            raise CommandError(f"no device {device_id}")
        actions.revoke_device(device=device, by=None)
        self.stdout.write(f"revoked device {device_id}")


def _officer(username: str) -> User:
    officer = User.objects.filter(username=username).first()
    if officer is None:
        raise CommandError(f"no user {username!r}")
    return officer
