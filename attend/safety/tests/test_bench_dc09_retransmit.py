"""Found by `attend bench dc09_durability`: a panic committed but not ACKed (receiver killed, or
its handler timed out and committed late) came back in the next minute as a second alarm."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from django.utils import timezone

from attend.devices.actions import register_dc09_device
from attend.devices.dc09 import Event, decide, encode_message
from attend.devices.dc09.django_handler import handle_sync, load_accounts_sync
from attend.safety.models import Alarm
from attend.test import BaseTestCase


class RetransmissionAcrossMinutesTests(BaseTestCase):
    def setUp(self) -> None:
        register_dc09_device(officer=self.olivia, account="77AB", label="Badge")
        # Late in a minute, so a retransmission 20 s later falls in the next one.
        self.now = timezone.now().replace(second=50)

    def panic(self) -> Event:
        frame = encode_message("ADM-CID", 12, "77AB", "#77AB|1120 01 001")
        decision = decide(frame, self.now, load_accounts_sync())
        assert decision.event is not None, decision.reason
        return decision.event

    def test_it_raises_one_alarm_when_the_retransmission_lands_in_the_next_minute(self) -> None:
        event = self.panic()
        self.assertTrue(handle_sync(event))
        self.assertTrue(handle_sync(replace(event, received_at=self.now + timedelta(seconds=20))))
        self.assertTrue(handle_sync(replace(event, received_at=self.now + timedelta(minutes=4))))
        self.assertEqual(Alarm.objects.count(), 1)

    def test_it_still_raises_a_new_alarm_when_seq_comes_back_much_later(self) -> None:
        event = self.panic()
        handle_sync(event)
        handle_sync(replace(event, received_at=self.now + timedelta(minutes=7)))
        self.assertEqual(Alarm.objects.count(), 2)
