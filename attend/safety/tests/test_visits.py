from __future__ import annotations

import datetime as dt

from attend.audit.models import ChangeLog
from attend.safety.actions import (
    SafetyError,
    check_in,
    check_out,
    escalate_visit,
    extend_visit,
    mark_overdue,
)
from attend.safety.choices import AlarmKind, VisitStatus
from attend.safety.models import Alarm, VisitTransition
from attend.safety.tests.base import DURESS, PIN, T0, SafetyTestCase


class VisitTests(SafetyTestCase):
    def test_it_starts_an_active_visit_with_a_deadline(self) -> None:
        visit = self.visit(student=self.ada, expected_people="mother, uncle")
        self.assertEqual(visit.status, VisitStatus.ACTIVE)
        self.assertEqual(visit.escalate_after, T0 + dt.timedelta(minutes=30))
        self.assertEqual(
            list(visit.transitions.values_list("to_status", flat=True)), ["planned", "active"]
        )
        self.assertTrue(ChangeLog.objects.filter(action="safety.visit.start").exists())

    def test_it_prefills_hazards_from_earlier_visits_to_the_address(self) -> None:
        first = self.visit(hazards=["large dog"])
        check_out(visit=first, pin=PIN, at=T0)
        second = self.visit(address="12 elm st.", officer=self.omar)
        self.assertEqual(second.hazards, ["large dog"])

    def test_it_refuses_a_student_outside_the_caseload(self) -> None:
        with self.assertRaises(SafetyError):
            self.visit(student=self.cora)

    def test_it_refuses_a_second_open_visit(self) -> None:
        self.visit()
        with self.assertRaises(SafetyError):
            self.visit()

    def test_it_checks_out_with_the_normal_pin(self) -> None:
        visit = check_out(visit=self.visit(), pin=PIN, at=T0)
        self.assertEqual(visit.status, VisitStatus.CHECKED_OUT)
        self.assertIsNone(visit.escalate_after)
        self.assertFalse(Alarm.objects.exists())

    def test_it_refuses_a_wrong_pin(self) -> None:
        with self.assertRaises(SafetyError):
            check_out(visit=self.visit(), pin="0000", at=T0)

    def test_it_raises_a_silent_alarm_on_the_duress_pin(self) -> None:
        visit = self.visit()
        check_out(visit=visit, pin=DURESS, at=T0)
        alarm = Alarm.objects.get()
        self.assertEqual(
            (alarm.kind, alarm.silent, alarm.visit_id), (AlarmKind.DURESS, True, visit.pk)
        )
        visit.refresh_from_db()
        self.assertEqual(visit.status, VisitStatus.ESCALATED)

    def test_it_extends_from_the_expected_end(self) -> None:
        visit = extend_visit(visit=self.visit(), minutes=15, at=T0 + dt.timedelta(minutes=5))
        self.assertEqual(visit.escalate_after, T0 + dt.timedelta(minutes=45))

    def test_it_marks_overdue_then_escalates_exactly_once(self) -> None:
        visit = self.visit()
        late = T0 + dt.timedelta(minutes=40)
        self.assertTrue(mark_overdue(visit_id=visit.pk, now=late))
        self.assertFalse(mark_overdue(visit_id=visit.pk, now=late))
        alarm = escalate_visit(visit_id=visit.pk, now=late)
        self.assertIsNotNone(alarm)
        self.assertIsNone(escalate_visit(visit_id=visit.pk, now=late))
        self.assertEqual(Alarm.objects.filter(kind=AlarmKind.OVERRUN).count(), 1)
        overdue = VisitTransition.objects.get(visit=visit, to_status=VisitStatus.OVERDUE)
        self.assertEqual(overdue.late_seconds, 600)

    def test_it_returns_an_overdue_visit_to_active_on_check_in(self) -> None:
        visit = self.visit()
        mark_overdue(visit_id=visit.pk, now=T0 + dt.timedelta(minutes=31))
        visit = check_in(visit=visit, at=T0 + dt.timedelta(minutes=32))
        self.assertEqual(visit.status, VisitStatus.ACTIVE)
        assert visit.escalate_after is not None
        self.assertGreater(visit.escalate_after, T0 + dt.timedelta(minutes=32))
