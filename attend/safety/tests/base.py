"""Safety tests meet the shared cast, plus PINs and a notification target for Lincoln's district."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.test import override_settings
from django.utils import timezone

from attend.notify.choices import TargetRole
from attend.notify.models import NotifyTarget
from attend.safety.actions import Location, raise_alarm, set_pins, start_visit
from attend.safety.models import Alarm, Visit
from attend.test import BaseTestCase

PIN, DURESS = "1234", "9999"
T0 = dt.datetime(2026, 3, 2, 14, 0, tzinfo=dt.UTC)


# Argon2 is right for production PINs and needlessly slow for tests.
FAST_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@override_settings(PASSWORD_HASHERS=FAST_HASHERS)
class SafetyTestCase(BaseTestCase):
    @classmethod
    def setUpTestData(cls) -> None:
        super().setUpTestData()
        set_pins(user=cls.olivia, pin=PIN, duress_pin=DURESS)
        NotifyTarget.objects.create(
            district=cls.district, role=TargetRole.OPERATORS, apprise_url="json://ops.example/hook"
        )

    def visit(self, **kwargs: Any) -> Visit:
        defaults: dict[str, Any] = {
            "officer": self.olivia,
            "address": "12 Elm St",
            "expected_minutes": 30,
            "at": T0,
        }
        return start_visit(**{**defaults, **kwargs})

    def alarm(self, **kwargs: Any) -> Alarm:
        defaults: dict[str, Any] = {
            "officer": self.olivia,
            "kind": "red_alert",
            "source": "app",
            "at": timezone.now(),
            "location": Location(40.7, -74.0, 12.0),
        }
        return raise_alarm(**{**defaults, **kwargs})
