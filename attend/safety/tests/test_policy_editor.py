"""The escalation policy editor: district admins change what happens next, safely; alarms
already running keep the policy they were raised with."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.urls import reverse
from django.utils import timezone

from attend.audit.models import ChangeLog
from attend.safety.actions import raise_alarm
from attend.safety.models import EscalationPolicy
from attend.test import BaseTestCase

Step = tuple[int, str, int | None]


def form(name: str, steps: Sequence[Step]) -> dict[str, Any]:
    data: dict[str, Any] = {
        "name": name,
        "form-TOTAL_FORMS": "10",
        "form-INITIAL_FORMS": "10",  # as the page renders it: ten rows, all initial
        "form-MIN_NUM_FORMS": "0",
        "form-MAX_NUM_FORMS": "10",
    }
    for index in range(10):
        wait, action, times = steps[index] if index < len(steps) else (0, "", None)
        data[f"form-{index}-wait"] = str(wait)
        data[f"form-{index}-action"] = action
        data[f"form-{index}-times"] = "" if times is None else str(times)
    return data


FAST: list[Step] = [
    (0, "notify_operators", None),
    (15, "notify_supervisors", None),
    (45, "dispatch", None),
]


class PolicyEditorTests(BaseTestCase):
    def test_it_saves_a_red_alert_policy_that_only_new_alarms_use(self) -> None:
        running = raise_alarm(
            officer=self.olivia, kind="red_alert", source="app", at=timezone.now()
        )
        self.login(self.dana)
        url = reverse("safety:policy_edit", args=["red_alert"])
        self.assertRedirects(
            self.client.post(url, form("Fast track", FAST)), reverse("safety:policies")
        )
        new = raise_alarm(officer=self.olivia, kind="red_alert", source="app", at=timezone.now())
        self.assertEqual(
            [s["action"] for s in new.policy],
            ["notify_operators", "notify_supervisors", "dispatch"],
        )
        self.assertEqual(new.policy_name, "Fast track")
        running.refresh_from_db()
        self.assertEqual(len(running.policy), 6)  # the built-in policy it was raised with
        change = ChangeLog.objects.get(action="safety.policy.save")
        self.assertEqual((change.actor, change.data["before"]), (self.dana, None))
        page = self.client.get(reverse("safety:policies"))
        self.assertContains(page, "Fast track")
        self.assertContains(page, "Dispatch emergency services")

    def test_it_refuses_a_policy_that_nobody_would_see_and_says_why(self) -> None:
        self.login(self.dana)
        url = reverse("safety:policy_edit", args=["default"])
        late = [(60, "notify_operators", None)]
        self.assertContains(
            self.client.post(url, form("Slow", late)), "must notify the operator queue"
        )
        loop = [(0, "notify_operators", None), (30, "repeat", 2), (30, "dispatch", None)]
        self.assertContains(self.client.post(url, form("Loop", loop)), "can only be the last step")
        self.assertFalse(EscalationPolicy.objects.exists())

    def test_it_lets_a_kind_fall_back_to_the_district_default(self) -> None:
        self.login(self.dana)
        self.client.post(
            reverse("safety:policy_edit", args=["default"]), form("District", FAST[:2])
        )
        medical = reverse("safety:policy_edit", args=["medical"])
        self.client.post(medical, form("Medical", FAST))
        self.client.post(medical, {"delete": "1"})
        alarm = raise_alarm(officer=self.olivia, kind="medical", source="app", at=timezone.now())
        self.assertEqual(alarm.policy_name, "District")
        self.assertTrue(ChangeLog.objects.filter(action="safety.policy.delete").exists())

    def test_it_shows_supervisors_the_policies_but_only_admins_change_them(self) -> None:
        self.login(self.sam)
        url = reverse("safety:policy_edit", args=["red_alert"])
        self.assertNotContains(self.client.get(url), "Save policy")
        self.assertEqual(self.client.post(url, form("Mine", FAST)).status_code, 403)
        self.assertFalse(EscalationPolicy.objects.exists())

    def test_it_keeps_each_district_to_its_own_policies(self) -> None:
        self.login(self.nina)
        self.client.post(reverse("safety:policy_edit", args=["red_alert"]), form("Other", FAST))
        alarm = raise_alarm(officer=self.olivia, kind="red_alert", source="app", at=timezone.now())
        self.assertEqual(alarm.policy_name, "Built-in default")

    def test_it_refuses_an_unknown_kind(self) -> None:
        self.login(self.dana)
        self.assertEqual(self.client.get("/safety/policies/nonsense/").status_code, 404)
