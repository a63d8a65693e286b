from __future__ import annotations

import datetime as dt
from unittest import mock

from django.core.management import call_command
from django.utils import timezone

from attend.notify.actions import MAX_ATTEMPTS, deliver_due, enqueue
from attend.notify.choices import OutboxStatus
from attend.notify.models import Outbox
from attend.test import BaseTestCase

SEND = "attend.notify.actions.send_apprise"


class OutboxTests(BaseTestCase):
    def test_it_writes_each_key_once(self) -> None:
        enqueue(key="k1", url="json://x", title="t", body="b")
        enqueue(key="k1", url="json://y", title="t2", body="b2")
        self.assertEqual(Outbox.objects.get().url, "json://x")

    def test_it_delivers_through_apprise(self) -> None:
        enqueue(key="k1", url="json://x", title="t", body="b")
        with mock.patch(SEND, return_value=True) as send:
            self.assertEqual(deliver_due(), 1)
        send.assert_called_once_with("json://x", "t", "b")
        row = Outbox.objects.get()
        self.assertEqual((row.status, row.attempts), (OutboxStatus.SENT, 1))

    def test_it_retries_with_backoff_then_fails(self) -> None:
        enqueue(key="k1", url="json://x", title="t", body="b")
        now = timezone.now()
        with mock.patch(SEND, side_effect=OSError("connection refused")):
            for _ in range(MAX_ATTEMPTS + 2):
                deliver_due(now=now)
                now += dt.timedelta(hours=1)
        row = Outbox.objects.get()
        self.assertEqual((row.status, row.attempts), (OutboxStatus.FAILED, MAX_ATTEMPTS))
        self.assertIn("connection refused", row.last_error)

    def test_it_waits_for_the_backoff(self) -> None:
        enqueue(key="k1", url="json://x", title="t", body="b")
        now = timezone.now()
        with mock.patch(SEND, return_value=False) as send:
            deliver_due(now=now)
            deliver_due(now=now + dt.timedelta(seconds=5))
        self.assertEqual(send.call_count, 1)

    def test_it_runs_as_a_command(self) -> None:
        enqueue(key="k1", url="json://x", title="t", body="b")
        with mock.patch(SEND, return_value=True):
            call_command("notify", "deliver", "--once")
        self.assertEqual(Outbox.objects.get().status, OutboxStatus.SENT)
