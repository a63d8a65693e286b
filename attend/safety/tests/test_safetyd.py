from __future__ import annotations

import datetime as dt
from unittest import mock

from django.db import OperationalError
from django.utils import timezone

from attend.accounts.choices import Role
from attend.notify.models import Outbox
from attend.safety.actions import start_visit
from attend.safety.choices import AlarmKind, VisitStatus
from attend.safety.loop import run_once, safe_tick
from attend.safety.models import Alarm, AlarmTransition, SafetydHeartbeat, Visit, VisitTransition
from attend.safety.tests.base import T0, SafetyTestCase


# Between ticks the loop recycles stale connections; inside a TestCase's transaction that would
# close the test's own connection, so it is a no-op here.
@mock.patch("attend.safety.loop.close_old_connections", lambda: None)
class SafetydTests(SafetyTestCase):
    def _visits(self, n: int) -> None:
        officers = [self._user(f"field{i}", Role.OFFICER, self.lincoln) for i in range(n)]
        for officer in officers:
            start_visit(officer=officer, address="1 Main St", expected_minutes=10, at=T0)

    def test_it_escalates_200_visits_that_fell_due_while_stopped_once_each(self) -> None:
        self._visits(200)
        later = T0 + dt.timedelta(hours=2)  # safetyd was down for almost two hours
        with mock.patch("attend.notify.actions.send_apprise", return_value=True):
            tick = run_once(later)
            again = run_once(later)
        self.assertEqual((tick.overdue, tick.escalated), (200, 200))
        self.assertEqual((again.overdue, again.escalated), (0, 0))
        self.assertEqual(Alarm.objects.filter(kind=AlarmKind.OVERRUN).count(), 200)
        self.assertEqual(Visit.objects.filter(status=VisitStatus.ESCALATED).count(), 200)
        lateness = set(
            VisitTransition.objects.filter(to_status=VisitStatus.OVERDUE).values_list(
                "late_seconds", flat=True
            )
        )
        self.assertEqual(lateness, {110 * 60.0})
        # The first step of each overrun alarm ran in the same tick, once, with its outbox row.
        self.assertEqual(AlarmTransition.objects.filter(event="step").count(), 200)
        self.assertEqual(Outbox.objects.filter(alarm_id__isnull=False).count(), 200)

    def test_it_runs_nothing_before_the_deadline(self) -> None:
        self._visits(3)
        tick = run_once(T0 + dt.timedelta(minutes=9), deliver=False)
        self.assertEqual((tick.overdue, tick.steps), (0, 0))

    def test_it_survives_the_database_going_away(self) -> None:
        # The loop drops its connection to reconnect; here that connection holds the test's
        # transaction, so only the drop itself is mocked.
        failing = mock.patch("attend.safety.loop.run_once", side_effect=OperationalError("gone"))
        with failing, mock.patch("attend.safety.loop.connection") as connection:
            self.assertIsNone(safe_tick(name="t", deliver=False))
        connection.close.assert_called_once()
        self.assertIsNotNone(safe_tick(name="t", deliver=False))

    def test_it_writes_a_heartbeat_each_tick(self) -> None:
        safe_tick(name="safetyd", deliver=False)
        safe_tick(name="safetyd", deliver=False)
        beat = SafetydHeartbeat.objects.get(name="safetyd")
        self.assertEqual(beat.ticks, 2)
        self.assertLess(timezone.now() - beat.beat_at, dt.timedelta(seconds=5))

    def test_it_keeps_going_when_one_row_fails(self) -> None:
        self._visits(2)
        real = __import__("attend.safety.actions", fromlist=["x"]).mark_overdue
        calls: list[int] = []

        def flaky(*, visit_id: int, now: dt.datetime) -> bool:
            calls.append(visit_id)
            if len(calls) == 1:
                raise ValueError("boom")
            return real(visit_id=visit_id, now=now)

        with mock.patch("attend.safety.loop.mark_overdue", flaky):
            tick = run_once(T0 + dt.timedelta(minutes=11), deliver=False)
        self.assertEqual((tick.overdue, len(tick.errors)), (1, 1))
