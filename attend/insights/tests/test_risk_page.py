"""The model page: the card and validation figures beside the live misidentification rate,
per school and month, for the flags each reader may count."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.urls import reverse

from attend.insights import actions
from attend.insights.choices import DismissReason, FlagStatus, ModelStatus
from attend.insights.flags import Cell, misidentification
from attend.insights.models import FlagReview, InsightsRun, ModelVersion, StudentSnapshot
from attend.insights.risk.testing import activate_for_cast
from attend.roster.models import School, Student
from attend.test import BaseTestCase

OCTOBER, JANUARY = dt.date(2025, 10, 1), dt.date(2026, 1, 5)


class ModelPageTests(BaseTestCase):
    version: ModelVersion

    @classmethod
    def setUpTestData(cls) -> None:
        super().setUpTestData()
        cls.version = activate_for_cast(cls)
        cls._flag(OCTOBER, cls.ada, cls.cora)
        actions.dismiss_flag(
            review=FlagReview.objects.get(student=cls.ada),
            by=cls.olivia,
            reason=DismissReason.NOT_AT_RISK,
        )
        actions.confirm_flag(review=FlagReview.objects.get(student=cls.cora), by=cls.otto)
        cls._flag(JANUARY, cls.ben)
        # What happened next, as the nightly insights runs recorded it (known to mid-January).
        run = InsightsRun.objects.create(as_of=dt.date(2026, 1, 15), school_year=2026)
        cls._snapshot(run, cls.cora, cls.roosevelt, dt.date(2025, 10, 20), chronic=True)
        cls._snapshot(run, cls.ada, cls.lincoln, dt.date(2026, 1, 15), chronic=True)  # too late

    @classmethod
    def _flag(cls, as_of: dt.date, *students: Student) -> None:
        rows = [
            {
                "student": s.pk,
                "school": (cls.roosevelt if s == cls.cora else cls.lincoln).pk,
                "score": 0.4,
                "rank": n,
                "rank_school": n,
                "selected": True,
                "reasons": [{"family": "recent", "text": "4 absences", "days": []}],
            }
            for n, s in enumerate(students, start=1)
        ]
        actions.store_risk_scores(version=cls.version, as_of=as_of, rows=rows, by=None)

    @classmethod
    def _snapshot(
        cls, run: InsightsRun, student: Student, school: School, as_of: dt.date, chronic: bool
    ) -> None:
        StudentSnapshot.objects.create(
            run=run,
            student=student,
            school=school,
            school_year=2026,
            as_of=as_of,
            enrolled_days=30,
            absent_days=4,
            excused_absent_days=0,
            unexcused_absent_days=4,
            tardy_days=0,
            present_days=26,
            attendance_rate=26 / 30,
            eligible=True,
            chronic=chronic,
            longest_absence_streak=1,
            current_absence_streak=0,
        )

    def _cells(self, user: Any) -> dict[tuple[str, str], Cell]:
        return {(c.school, c.month): c for c in misidentification(self.version, user)}

    def test_it_counts_dismissals_and_outcomes_per_school_and_month(self) -> None:
        cells = self._cells(self.dana)
        self.assertEqual(
            set(cells),
            {
                ("Lincoln Elementary", "2025-10"),
                ("Roosevelt High", "2025-10"),
                ("Lincoln Elementary", "2026-01"),
            },
        )
        ada = cells[("Lincoln Elementary", "2025-10")]
        self.assertEqual((ada.flags, ada.reviewed, ada.not_at_risk), (1, 1, 1))
        self.assertEqual((ada.dismissed_rate, ada.resolved, ada.never_chronic_rate), (1.0, 1, 1.0))
        cora = cells[("Roosevelt High", "2025-10")]
        self.assertEqual((cora.dismissed_rate, cora.never_chronic, cora.resolved), (0.0, 0, 1))
        ben = cells[("Lincoln Elementary", "2026-01")]
        self.assertEqual((ben.reviewed, ben.resolved, ben.pending_outcome), (0, 0, 1))
        self.assertIsNone(ben.never_chronic_rate)  # its 30 school days are not over yet

    def test_it_counts_only_the_readers_own_flags(self) -> None:
        self.assertEqual({s for s, _ in self._cells(self.otto)}, {"Roosevelt High"})
        self.assertEqual({s for s, _ in self._cells(self.olivia)}, {"Lincoln Elementary"})
        self.assertEqual({s for s, _ in self._cells(self.sam)}, {"Lincoln Elementary"})
        self.assertTrue(all(c.suppressed for c in self._cells(self.ana).values()))
        self.assertFalse(any(c.suppressed for c in self._cells(self.dana).values()))

    def test_it_shows_the_card_and_the_live_figures_side_by_side(self) -> None:
        self.login(self.dana)
        listing = self.client.get(reverse("insights:risk_models"))
        self.assertContains(listing, self.version.run_id)
        page = self.client.get(reverse("insights:risk_model", args=[self.version.pk]))
        self.assertContains(page, "Live misidentification")
        self.assertContains(page, "Rolling validation")
        self.assertContains(page, "Fairness at the same k")
        self.assertContains(page, "<svg", count=2)
        self.assertContains(page, "100.0%")  # Ada's flag: dismissed as not at risk
        self.assertContains(page, 'name="to" value="retired"')
        self.login(self.otto)
        page = self.client.get(reverse("insights:risk_model", args=[self.version.pk]))
        self.assertContains(page, "Your own flags only")
        self.assertNotContains(page, "Lincoln Elementary")
        self.assertNotContains(page, 'name="to"')

    def test_it_lets_only_a_district_admin_change_the_status(self) -> None:
        url = reverse("insights:risk_model_status", args=[self.version.pk])
        self.login(self.sam)
        self.assertEqual(self.client.post(url, {"to": "retired"}).status_code, 403)
        self.login(self.nina)
        self.assertEqual(self.client.post(url, {"to": "retired"}).status_code, 404)
        self.login(self.dana)
        self.client.post(url, {"to": "retired"})
        self.version.refresh_from_db()
        self.assertEqual(self.version.status, ModelStatus.RETIRED)
        last = self.version.transitions.last()
        self.assertEqual(last.by if last else None, self.dana)
        response = self.client.post(url, {"to": "trained"}, follow=True)
        self.assertContains(response, "cannot become trained")

    def test_it_keeps_the_decisions_with_their_transitions(self) -> None:
        statuses = dict(FlagReview.objects.values_list("student__first_name", "status"))
        self.assertEqual(
            statuses,
            {"Ada": FlagStatus.DISMISSED, "Cora": FlagStatus.CONFIRMED, "Ben": FlagStatus.PENDING},
        )
