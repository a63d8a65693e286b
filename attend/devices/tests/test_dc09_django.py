"""The DC-09 adapter against the real actions: events become alarms, positions, touches."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from django.utils import timezone

from attend.devices.actions import register_dc09_device, revoke_device
from attend.devices.dc09 import Event, Transition, decide, encode_message
from attend.devices.dc09.django_handler import (
    alarm_key,
    handle_sync,
    load_accounts_sync,
    report_sync,
)
from attend.devices.models import Device
from attend.safety.models import Alarm, Position
from attend.test import BaseTestCase


class Dc09AdapterTests(BaseTestCase):
    def setUp(self) -> None:
        self.device = register_dc09_device(
            officer=self.olivia, account="12ab", supervision_seconds=120, label="Badge"
        )
        self.now = timezone.now()

    def event(self, token: str, data: str = "", seq: int = 1, **extra: object) -> Event:
        frame = encode_message(token, seq, "12AB", data, **extra)  # type: ignore[arg-type]
        decision = decide(frame, self.now, load_accounts_sync())
        assert decision.event is not None, decision.reason
        return decision.event

    def test_it_loads_active_devices_as_accounts(self) -> None:
        register_dc09_device(officer=self.omar, account="ABCD", key_hex="0F" * 24)
        gone = register_dc09_device(officer=self.omar, account="DEAD")
        revoke_device(device=gone, by=self.dana)
        accounts = load_accounts_sync()
        self.assertEqual(sorted(accounts), ["12AB", "ABCD"])
        self.assertEqual(accounts["ABCD"].key, bytes([15]) * 24)
        self.assertEqual(accounts["12AB"].device_id, self.device.pk)
        self.assertEqual(accounts["12AB"].supervision_seconds, 120)

    def test_it_raises_one_red_alert_for_a_panic_and_its_retransmission(self) -> None:
        xdata = ["X-0.1276", "Y51.5072"]
        event = self.event("ADM-CID", "#12AB|1120 01 001", xdata=xdata)
        self.assertTrue(handle_sync(event))
        self.assertTrue(handle_sync(event))
        alarm = Alarm.objects.get()
        self.assertEqual(
            (alarm.kind, alarm.source, alarm.device_id), ("red_alert", "dc09", self.device.pk)
        )
        self.assertEqual((alarm.lat, alarm.lon), (51.5072, -0.1276))
        self.assertEqual(alarm.dedupe_key, alarm_key(event, self.now))
        self.assertTrue((alarm.dedupe_key or "").startswith(event.dedupe_key))

    def test_it_raises_a_new_alarm_when_seq_and_content_come_back_later(self) -> None:
        event = self.event("ADM-CID", "#12AB|1120 01 001")
        handle_sync(event)
        later = replace(event, received_at=self.now + timedelta(hours=1))
        handle_sync(later)
        self.assertEqual(Alarm.objects.count(), 2)

    def test_it_raises_a_silent_duress_alarm(self) -> None:
        self.assertTrue(handle_sync(self.event("SIA-DCS", "#12AB|NHA001")))
        alarm = Alarm.objects.get()
        self.assertEqual((alarm.kind, alarm.silent), ("duress", True))

    def test_it_maps_medical_and_overrun(self) -> None:
        handle_sync(self.event("ADM-CID", "#12AB|1100 01 001", seq=1))
        handle_sync(self.event("ADM-CID", "#12AB|1102 01 001", seq=2))
        self.assertEqual(
            sorted(Alarm.objects.values_list("kind", flat=True)), ["medical", "overrun"]
        )

    def test_it_records_a_position_and_touches_the_device(self) -> None:
        self.assertTrue(handle_sync(self.event("NULL", xdata=["X2.35", "Y48.85"])))
        position = Position.objects.get()
        self.assertEqual(
            (position.lat, position.lon, position.device_id), (48.85, 2.35, self.device.pk)
        )
        self.assertIsNotNone(Device.objects.get(pk=self.device.pk).last_seen_at)

    def test_it_touches_the_device_on_a_link_test(self) -> None:
        self.assertTrue(handle_sync(self.event("NULL")))
        self.assertEqual(Device.objects.get(pk=self.device.pk).last_seen_at, self.now)
        self.assertFalse(Alarm.objects.exists())

    def test_it_cancels_the_badges_open_alarm(self) -> None:
        handle_sync(self.event("ADM-CID", "#12AB|1120 01 001", seq=1))
        self.assertTrue(handle_sync(self.event("ADM-CID", "#12AB|1406 01 001", seq=2)))
        alarm = Alarm.objects.get()
        self.assertEqual((alarm.status, alarm.resolution), ("resolved", "cancelled_by_officer"))

    def test_it_does_not_ack_for_a_revoked_device(self) -> None:
        event = self.event("ADM-CID", "#12AB|1120 01 001")
        revoke_device(device=self.device, by=self.dana)
        self.assertFalse(handle_sync(event))
        self.assertFalse(Alarm.objects.exists())

    def test_it_raises_communication_lost_once(self) -> None:
        lost = Transition("12AB", lost=True, last_seen=self.now - timedelta(minutes=5), at=self.now)
        report_sync(lost)
        report_sync(lost)
        report_sync(Transition("12AB", lost=False, last_seen=self.now, at=self.now))
        alarm = Alarm.objects.get()
        self.assertEqual((alarm.kind, alarm.source), ("communication_lost", "dc09"))
