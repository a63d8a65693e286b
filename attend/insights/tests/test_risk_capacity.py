"""Capacity (RISK.md 5): each school's watch list holds what its officers can serve — the
school's own number, else its officers' numbers, else a share of its students."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import connection
from django.test import SimpleTestCase
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from attend.audit.models import ChangeLog
from attend.insights import actions
from attend.insights.models import ModelVersion, RiskCapacity, RiskScore
from attend.insights.queries import district_capacity
from attend.insights.risk.app import score_district
from attend.insights.risk.capacity import Capacity, OfficerCapacity, school_k
from attend.insights.risk.testing import ADA_NINE_DAYS, activate_for_cast, record_absences
from attend.test import BaseTestCase

AS_OF = dt.date(2026, 3, 2)


class CapacityRuleTests(SimpleTestCase):
    enrolled = {"A": 400, "B": 41, "C": 100}

    def test_it_takes_the_schools_own_number_first(self) -> None:
        capacity = Capacity(schools={"A": 12, "B": 0}, officers=[OfficerCapacity(30, ("A",))])
        self.assertEqual(school_k(self.enrolled, capacity), {"A": 12, "B": 0, "C": 5})

    def test_it_sums_the_officers_splitting_one_at_several_schools_evenly(self) -> None:
        officers = [
            OfficerCapacity(10, ("A",)),
            OfficerCapacity(5, ("A", "B")),  # 2.5 at each
        ]
        k = school_k(self.enrolled, Capacity(officers=officers))
        self.assertEqual(k, {"A": 13, "B": 3, "C": 5})  # 12.5 and 2.5 rounded up
        thirds = Capacity(officers=[OfficerCapacity(9, ("A", "B", "C"))])
        self.assertEqual(school_k(self.enrolled, thirds), {"A": 3, "B": 3, "C": 3})

    def test_it_falls_back_to_the_share_of_the_schools_students(self) -> None:
        self.assertEqual(school_k(self.enrolled, Capacity()), {"A": 20, "B": 3, "C": 5})
        self.assertEqual(school_k(self.enrolled, Capacity(), share=0.1)["B"], 5)


class CapacitySettingsTests(BaseTestCase):
    def test_it_sets_changes_and_clears_with_audit_rows(self) -> None:
        row = actions.set_risk_capacity(by=self.dana, school=self.lincoln, students=1)
        self.assertIsNotNone(row)
        actions.set_risk_capacity(by=self.dana, school=self.lincoln, students=2)
        self.assertEqual(RiskCapacity.objects.get(school=self.lincoln).students, 2)
        actions.set_risk_capacity(by=self.dana, school=self.lincoln, students=None)
        self.assertFalse(RiskCapacity.objects.exists())
        logged = list(ChangeLog.objects.filter(action__startswith="risk.capacity").order_by("pk"))
        self.assertEqual(
            [(c.action, c.data.get("before"), c.data["students"]) for c in logged],
            [
                ("risk.capacity.set", None, 1),
                ("risk.capacity.set", 1, 2),
                ("risk.capacity.clear", None, 2),
            ],
        )
        self.assertTrue(all(c.actor == self.dana for c in logged))

    def test_it_refuses_numbers_and_places_outside_the_rules(self) -> None:
        refused: list[dict[str, Any]] = [
            {"school": self.hill, "students": 1},  # another district's school
            {"school": self.lincoln, "students": -1},
            {"school": self.lincoln, "students": 3},  # Lincoln has 2 students enrolled
            {"officer": self.olivia, "students": 1001},
            {"officer": self.olivia, "students": -5},
            {"officer": self.sam, "students": 5},  # a supervisor is no officer
            {"school": self.lincoln, "officer": self.olivia, "students": 1},
            {"students": 1},
        ]
        for kwargs in refused:
            labels = {k: str(v) for k, v in kwargs.items()}
            with self.subTest(**labels), self.assertRaises(actions.RiskError):
                actions.set_risk_capacity(by=self.dana, **kwargs)
        with self.assertRaises(actions.RiskError):
            actions.set_risk_capacity(by=self.nina, officer=self.otto, students=5)
        self.assertFalse(RiskCapacity.objects.exists())
        self.assertFalse(ChangeLog.objects.filter(action__startswith="risk.capacity").exists())

    def test_it_reads_the_settings_as_lake_ids(self) -> None:
        actions.set_risk_capacity(by=self.dana, officer=self.olivia, students=3)
        actions.set_risk_capacity(by=self.dana, officer=self.omar, students=2)
        actions.set_risk_capacity(by=self.dana, school=self.roosevelt, students=1)
        capacity = district_capacity(self.district)
        self.assertEqual(dict(capacity.schools), {self.roosevelt.school_id: 1})
        k = school_k({self.lincoln.school_id: 2, self.roosevelt.school_id: 1}, capacity)
        self.assertEqual(k, {self.lincoln.school_id: 5, self.roosevelt.school_id: 1})


class CapacityPageTests(BaseTestCase):
    url = reverse("insights:risk_capacity")

    def test_it_lets_the_district_admin_change_and_clear_a_number(self) -> None:
        self.login(self.dana)
        page = self.client.get(self.url)
        lincoln = page.context["schools"][0]
        self.assertEqual(
            (lincoln["school"], lincoln["enrolled"], lincoln["default_k"], lincoln["k"]),
            (self.lincoln, 2, 1, 1),
        )
        self.assertEqual([o for o, _ in lincoln["officers"]], [self.olivia, self.omar])
        response = self.client.post(self.url, {"school": self.lincoln.pk, "students": "2"})
        self.assertRedirects(response, self.url)
        self.client.post(self.url, {"officer": self.otto.pk, "students": "4"})
        page = self.client.get(self.url)
        self.assertEqual(page.context["schools"][0]["k"], 2)
        self.assertEqual(page.context["officers"][-1]["setting"], 4)
        self.client.post(self.url, {"school": self.lincoln.pk, "students": ""})
        self.assertFalse(RiskCapacity.objects.filter(school=self.lincoln).exists())
        logged = ChangeLog.objects.filter(action__startswith="risk.capacity")
        self.assertEqual(
            list(logged.order_by("pk").values_list("action", flat=True)),
            ["risk.capacity.set", "risk.capacity.set", "risk.capacity.clear"],
        )

    def test_it_shows_errors_and_keeps_other_districts_out(self) -> None:
        self.login(self.dana)
        response = self.client.post(
            self.url, {"school": self.lincoln.pk, "students": "-1"}, follow=True
        )
        self.assertContains(response, "cannot be negative")
        response = self.client.post(self.url, {"school": self.hill.pk, "students": "1"})
        self.assertEqual(response.status_code, 404)
        self.login(self.nina)
        response = self.client.post(self.url, {"officer": self.olivia.pk, "students": "1"})
        self.assertEqual(response.status_code, 404)
        self.assertNotContains(self.client.get(self.url), "Lincoln Elementary")
        self.assertFalse(RiskCapacity.objects.exists())

    def test_it_is_read_only_for_a_supervisor_and_closed_to_others(self) -> None:
        actions.set_risk_capacity(by=self.dana, school=self.lincoln, students=2)
        self.login(self.sam)
        page = self.client.get(self.url)
        self.assertEqual([r["school"] for r in page.context["schools"]], [self.lincoln])
        self.assertNotContains(page, 'name="students"')
        response = self.client.post(self.url, {"school": self.lincoln.pk, "students": "1"})
        self.assertEqual(response.status_code, 403)
        self.assertEqual(RiskCapacity.objects.get().students, 2)
        for user in (self.olivia, self.ana, self.chris):
            self.login(user)
            self.assertEqual(self.client.get(self.url).status_code, 403)

    def test_it_lists_schools_and_officers_in_a_fixed_number_of_queries(self) -> None:
        self.login(self.dana)
        with CaptureQueriesContext(connection) as before:
            self.client.get(self.url)
        actions.set_risk_capacity(by=self.dana, officer=self.olivia, students=3)
        actions.set_risk_capacity(by=self.dana, officer=self.otto, students=3)
        actions.set_risk_capacity(by=self.dana, school=self.roosevelt, students=1)
        with CaptureQueriesContext(connection) as after:
            self.client.get(self.url)
        self.assertEqual(len(after), len(before))

    def test_it_says_capacity_governs_k_on_the_model_pages(self) -> None:
        self.login(self.dana)
        page = self.client.get(reverse("insights:risk_models"))
        self.assertContains(page, self.url)


class CapacityScoringTests(BaseTestCase):
    """Nightly scoring of the cast's year with a trained model, under capacity settings."""

    version: ModelVersion

    @classmethod
    def setUpTestData(cls) -> None:
        super().setUpTestData()
        record_absences(cls.ada, cls.lincoln, ADA_NINE_DAYS)
        cls.version = activate_for_cast(cls)

    def _flagged(self) -> dict[int, set[str]]:
        score_district(district=self.district, as_of=AS_OF, by=self.dana)
        out: dict[int, set[str]] = {}
        rows = RiskScore.objects.filter(model_version=self.version, as_of=AS_OF, selected=True)
        for score in rows.select_related("student"):
            out.setdefault(score.school_id, set()).add(score.student.first_name)
        return out

    def test_it_flags_exactly_the_schools_own_number(self) -> None:
        actions.set_risk_capacity(by=self.dana, school=self.lincoln, students=2)
        flagged = self._flagged()
        self.assertEqual(flagged[self.lincoln.pk], {"Ada", "Ben"})
        self.assertEqual(flagged[self.roosevelt.pk], {"Cora"})  # default: ceil(5% of 1)
        actions.set_risk_capacity(by=self.dana, school=self.lincoln, students=0)
        self.assertNotIn(self.lincoln.pk, self._flagged())

    def test_it_adds_up_the_officers_numbers(self) -> None:
        actions.set_risk_capacity(by=self.dana, officer=self.olivia, students=1)
        actions.set_risk_capacity(by=self.dana, officer=self.omar, students=1)
        actions.set_risk_capacity(by=self.dana, officer=self.otto, students=0)
        flagged = self._flagged()
        self.assertEqual(flagged, {self.lincoln.pk: {"Ada", "Ben"}})
