"""Traccar Client reports through the Django sink: positions, one alarm per SOS run."""

from __future__ import annotations

import json

from attend.devices.actions import register_osmand_device, revoke_device
from attend.devices.models import Device
from attend.devices.osmand import handle
from attend.devices.osmand.django_sink import RUNS, lookup_device
from attend.safety.models import Alarm, Position
from attend.test import BaseTestCase


class OsmandSinkTests(BaseTestCase):
    def setUp(self) -> None:
        self.device = register_osmand_device(officer=self.olivia, osmand_id="867530")
        RUNS._started.clear()

    def get(self, query: str) -> int:
        return handle("GET", query, b"", "", lookup_device)[0]

    def test_it_records_a_position_with_battery(self) -> None:
        self.assertEqual(self.get("id=867530&lat=51.5&lon=-0.12&batt=10&timestamp=1795435200"), 200)
        position = Position.objects.get()
        self.assertEqual(
            (position.lat, position.lon, position.device_id), (51.5, -0.12, self.device.pk)
        )
        self.assertTrue(Device.objects.get(pk=self.device.pk).low_battery)

    def test_it_raises_one_alarm_for_consecutive_sos_positions(self) -> None:
        for second in (0, 30, 60):
            self.assertEqual(
                self.get(f"id=867530&lat=51.5&lon=-0.12&alarm=sos&timestamp={1795435200 + second}"),
                200,
            )
        RUNS._started.clear()  # as if another process took the next one
        self.assertEqual(self.get("id=867530&lat=51.5&lon=-0.12&alarm=sos"), 200)
        alarm = Alarm.objects.get()
        self.assertEqual(
            (alarm.kind, alarm.source, alarm.device_id), ("red_alert", "osmand", self.device.pk)
        )
        self.assertEqual(Position.objects.count(), 4)

    def test_it_raises_an_sos_from_the_json_form(self) -> None:
        body = {
            "device_id": "867530",
            "location": {
                "timestamp": "2026-11-23T12:00:00Z",
                "coords": {
                    "latitude": 1.0,
                    "longitude": 2.0,
                    "accuracy": 5,
                    "speed": -1,
                    "heading": -1,
                    "altitude": 0,
                },
                "battery": {"level": 0.5, "is_charging": True},
                "extras": {"alarm": "sos"},
            },
        }
        status, _ = handle("POST", "", json.dumps(body).encode(), "application/json", lookup_device)
        self.assertEqual(status, 200)
        self.assertEqual(Alarm.objects.get().lat, 1.0)

    def test_it_refuses_unknown_and_revoked_devices(self) -> None:
        revoke_device(device=self.device, by=self.dana)
        self.assertEqual(self.get("id=867530&lat=1&lon=2"), 400)
        body = json.dumps({"device_id": "867530", "location": {"timestamp": 0}}).encode()
        self.assertEqual(handle("POST", "", body, "application/json", lookup_device)[0], 404)
