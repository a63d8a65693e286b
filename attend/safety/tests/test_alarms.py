from __future__ import annotations

import datetime as dt

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

from attend.notify.models import Outbox
from attend.safety.actions import (
    SafetyError,
    acknowledge_alarm,
    cancel_alarm_by_officer,
    log_officer_call,
    record_dispatch,
    record_position,
    resolve_alarm,
    run_escalation_step,
    sweep_stuck,
    write_incident_report,
)
from attend.safety.choices import AlarmKind, AlarmStatus, Resolution, StepAction, VisitStatus
from attend.safety.live import GROUP
from attend.safety.models import Alarm, EscalationPolicy, EscalationStep
from attend.safety.tests.base import DURESS, PIN, SafetyTestCase


def _due(alarm: Alarm) -> dt.datetime:
    assert alarm.next_step_at is not None
    return alarm.next_step_at


def _policy(district, *steps: tuple[int, str, int]) -> EscalationPolicy:  # type: ignore[no-untyped-def]
    policy = EscalationPolicy.objects.create(district=district, name="Lincoln protocol")
    for order, (wait, action, times) in enumerate(steps):
        EscalationStep.objects.create(
            policy=policy, order=order, wait_seconds=wait, action=action, repeat_times=times
        )
    return policy


class AlarmTests(SafetyTestCase):
    def test_it_freezes_the_policy_when_raised(self) -> None:
        policy = _policy(self.district, (0, StepAction.NOTIFY_OPERATORS, 0))
        alarm = self.alarm()
        policy.steps.update(wait_seconds=999)
        alarm.refresh_from_db()
        self.assertEqual(alarm.policy, [{"wait": 0, "action": "notify_operators"}])
        self.assertEqual(alarm.policy_name, "Lincoln protocol")

    def test_it_is_idempotent_on_the_dedupe_key(self) -> None:
        first = self.alarm(dedupe_key="dc09:1234:0001")
        again = self.alarm(dedupe_key="dc09:1234:0001")
        self.assertEqual(first.pk, again.pk)
        self.assertEqual(Alarm.objects.count(), 1)

    def test_it_attaches_a_red_alert_to_the_open_visit(self) -> None:
        visit = self.visit()
        alarm = self.alarm()
        visit.refresh_from_db()
        self.assertEqual((alarm.visit_id, visit.status), (visit.pk, VisitStatus.ESCALATED))

    def test_it_runs_each_step_once_and_writes_its_outbox_row(self) -> None:
        alarm = self.alarm()
        now = _due(alarm)
        self.assertTrue(run_escalation_step(alarm_id=alarm.pk, now=now))
        self.assertFalse(run_escalation_step(alarm_id=alarm.pk, now=now))
        self.assertEqual(Outbox.objects.filter(alarm_id=alarm.pk).count(), 1)
        alarm.refresh_from_db()
        self.assertEqual(alarm.step_index, 1)
        self.assertEqual(alarm.next_step_at, now + dt.timedelta(seconds=30))

    def test_it_records_how_late_a_step_ran(self) -> None:
        alarm = self.alarm()
        late = _due(alarm) + dt.timedelta(seconds=90)
        run_escalation_step(alarm_id=alarm.pk, now=late)
        self.assertEqual(alarm.transitions.get(event="step").late_seconds, 90)

    def test_it_moves_to_escalating_when_unacknowledged_steps_run(self) -> None:
        alarm = self.alarm()
        for _ in range(2):
            alarm.refresh_from_db()
            run_escalation_step(alarm_id=alarm.pk, now=_due(alarm))
        alarm.refresh_from_db()
        self.assertEqual(alarm.status, AlarmStatus.ESCALATING)

    def test_it_repeats_a_bounded_number_of_times_then_goes_stuck(self) -> None:
        _policy(self.district, (0, StepAction.NOTIFY_OPERATORS, 0), (10, StepAction.REPEAT, 2))
        alarm = self.alarm()
        runs = 0
        while True:
            alarm.refresh_from_db()
            if alarm.next_step_at is None:
                break
            runs += run_escalation_step(alarm_id=alarm.pk, now=_due(alarm))
        # 3 × (notify + repeat) and then 4 reviews.
        self.assertEqual(runs, 6 + 4)
        stuck = sweep_stuck(now=alarm.raised_at)
        self.assertEqual([a.kind for a in stuck], [AlarmKind.STUCK])
        self.assertEqual(sweep_stuck(now=alarm.raised_at), [])

    def test_it_never_notifies_the_officer_of_a_silent_alarm(self) -> None:
        from attend.safety.actions import set_pins  # noqa: F401

        self.olivia.safety_profile.notify_url = "ntfy://olivia"
        self.olivia.safety_profile.save()
        alarm = self.alarm(kind=AlarmKind.DURESS, silent=True)
        run_escalation_step(alarm_id=alarm.pk, now=_due(alarm))
        alarm.refresh_from_db()
        run_escalation_step(alarm_id=alarm.pk, now=_due(alarm))
        self.assertFalse(Outbox.objects.filter(url="ntfy://olivia").exists())

    def test_it_acknowledges_dispatches_and_resolves_with_a_row_each(self) -> None:
        alarm = self.alarm()
        acknowledge_alarm(alarm=alarm, by=self.opal)
        log_officer_call(alarm=alarm, by=self.opal, outcome="no answer")
        record_dispatch(alarm=alarm, by=self.opal, reference="PD-2026-0042")
        alarm = resolve_alarm(alarm=alarm, by=self.opal, resolution=Resolution.GENUINE)
        self.assertEqual(
            list(alarm.transitions.values_list("event", flat=True)),
            ["raised", "acknowledged", "call_logged", "dispatch", "resolved"],
        )
        self.assertEqual((alarm.dispatch_reference, alarm.next_step_at), ("PD-2026-0042", None))
        self.assertFalse(run_escalation_step(alarm_id=alarm.pk, now=alarm.raised_at))

    def test_it_resolves_the_visit_with_its_alarm(self) -> None:
        visit = self.visit()
        alarm = self.alarm()
        resolve_alarm(alarm=alarm, by=self.opal, resolution=Resolution.FALSE_ALARM)
        visit.refresh_from_db()
        self.assertEqual(visit.status, VisitStatus.RESOLVED)

    def test_it_lets_the_officer_cancel_with_the_pin(self) -> None:
        alarm = cancel_alarm_by_officer(alarm=self.alarm(), officer=self.olivia, pin=PIN)
        self.assertEqual(alarm.resolution, Resolution.CANCELLED_BY_OFFICER)

    def test_it_keeps_the_alarm_open_when_cancelled_under_duress(self) -> None:
        alarm = cancel_alarm_by_officer(alarm=self.alarm(), officer=self.olivia, pin=DURESS)
        self.assertEqual((alarm.status, alarm.kind, alarm.silent), ("raised", "duress", True))

    def test_it_writes_an_incident_report_only_after_resolution(self) -> None:
        alarm = self.alarm()
        with self.assertRaises(SafetyError):
            write_incident_report(alarm=alarm, author=self.opal, what_happened="x")
        resolve_alarm(alarm=alarm, by=self.opal, resolution=Resolution.GENUINE)
        incident = write_incident_report(alarm=alarm, author=self.sam, what_happened="Dog bite")
        self.assertEqual(incident.alarm_id, alarm.pk)

    def test_it_publishes_to_the_console_on_commit(self) -> None:
        layer = get_channel_layer()
        channel = async_to_sync(layer.new_channel)()
        async_to_sync(layer.group_add)(GROUP, channel)
        with self.captureOnCommitCallbacks(execute=True):
            alarm = self.alarm()
        message = async_to_sync(layer.receive)(channel)
        self.assertEqual(message["event"]["alarm_id"], alarm.pk)
        self.assertEqual(message["event"]["type"], "alarm.raised")

    def test_it_records_positions_and_flags_low_battery(self) -> None:
        from attend.devices.actions import register_app_device

        device, _ = register_app_device(officer=self.olivia, label="phone")
        record_position(
            officer=self.olivia, device=device, lat=40.7, lon=-74.0, at=self.T(), battery=9
        )
        device.refresh_from_db()
        self.assertTrue(device.low_battery)
        with self.assertRaises(SafetyError):
            record_position(officer=self.olivia, lat=91, lon=0, at=self.T())

    def T(self) -> dt.datetime:
        from django.utils import timezone

        return timezone.now()
