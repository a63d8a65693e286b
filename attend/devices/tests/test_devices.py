from __future__ import annotations

import hashlib

from attend.devices.actions import (
    device_for_token,
    register_app_device,
    register_dc09_device,
    register_osmand_device,
    revoke_device,
    touch_device,
)
from attend.devices.models import Device
from attend.test import BaseTestCase


class DeviceTests(BaseTestCase):
    def test_it_stores_only_the_hash_of_the_app_token(self) -> None:
        device, token = register_app_device(officer=self.olivia, label="Pixel")
        self.assertEqual(device.token_hash, hashlib.sha256(token.encode()).hexdigest())
        self.assertNotIn(token, str(Device.objects.values().get()))
        self.assertEqual(device_for_token(token), device)

    def test_it_refuses_a_revoked_token(self) -> None:
        device, token = register_app_device(officer=self.olivia, label="Pixel")
        revoke_device(device=device, by=self.dana)
        self.assertIsNone(device_for_token(token))
        self.assertIsNone(device_for_token(""))

    def test_it_registers_protocol_devices(self) -> None:
        osmand = register_osmand_device(officer=self.olivia, osmand_id="123456")
        dc09 = register_dc09_device(
            officer=self.omar, account="1234", key_hex="00" * 16, supervision_seconds=90
        )
        self.assertEqual((osmand.kind, dc09.kind, dc09.supervision_seconds), ("osmand", "dc09", 90))

    def test_it_touches_and_flags_low_battery(self) -> None:
        device, _ = register_app_device(officer=self.olivia, label="Pixel")
        touch_device(device=device, battery=12)
        device.refresh_from_db()
        self.assertTrue(device.low_battery)
        self.assertIsNotNone(device.last_seen_at)
