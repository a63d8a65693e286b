"""The human loop in the database: model versions, nightly scores as a Job, flags on the
officer's watch list, confirm (a case) or dismiss (a reason), and nothing for families."""

from __future__ import annotations

import datetime as dt
import inspect
import io
from typing import Any

from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from attend.attendance.models import AttendanceEvent
from attend.audit.models import ChangeLog
from attend.cases import actions as cases
from attend.cases import letters
from attend.cases.models import Case, Task
from attend.insights import actions
from attend.insights.choices import DismissReason, FlagStatus, ModelStatus
from attend.insights.models import FlagReview, ModelVersion, RiskScore
from attend.insights.risk import store
from attend.insights.risk.app import score_district
from attend.insights.risk.testing import (
    ADA_NINE_DAYS,
    activate_for_cast,
    record_absences,
    trained_run,
)
from attend.jobs.choices import JobStatus
from attend.roster.models import Student
from attend.test import BaseTestCase

AS_OF = dt.date(2026, 3, 2)
REASONS = [{"family": "recent", "text": "6 absences in the last 20 school days", "days": []}]


def _run(run_id: str, label: str = "label") -> dict[str, Any]:
    return {"run_id": run_id, "label": label, "horizon": 30, "metrics": {"share": 0.05}}


def _row(student: Student, school: Any, rank: int, selected: bool) -> dict[str, Any]:
    return {
        "student": student.pk,
        "school": school.pk,
        "score": 0.5 / rank,
        "rank": rank,
        "rank_school": rank,
        "selected": selected,
        "reasons": REASONS,
    }


class RiskLoopTests(BaseTestCase):
    version: ModelVersion

    @classmethod
    def setUpTestData(cls) -> None:
        super().setUpTestData()
        cls.version = actions.register_model_version(
            district=cls.district, run=_run("v1"), folder="/nowhere", by=cls.dana
        )
        actions.change_model_status(version=cls.version, to=ModelStatus.ACTIVE, by=cls.dana)

    def _score(self, as_of: dt.date = AS_OF, *selected: Student) -> dict[str, int]:
        schools = {
            self.ada.pk: self.lincoln,
            self.ben.pk: self.lincoln,
            self.cora.pk: self.roosevelt,
        }
        rows = [
            _row(s, schools[s.pk], rank, s in selected)
            for rank, s in enumerate((self.ada, self.ben, self.cora), start=1)
        ]
        return actions.store_risk_scores(version=self.version, as_of=as_of, rows=rows, by=None)

    def test_it_activates_one_model_per_label_and_records_each_move(self) -> None:
        second = actions.register_model_version(
            district=self.district, run=_run("v2"), folder="/nowhere", by=None
        )
        year_end = actions.register_model_version(
            district=self.district, run=_run("v3", "label_year_end"), folder="/x", by=None
        )
        actions.change_model_status(version=second, to=ModelStatus.ACTIVE, by=self.dana)
        actions.change_model_status(version=year_end, to=ModelStatus.ACTIVE, by=self.dana)
        self.version.refresh_from_db()
        self.assertEqual(self.version.status, ModelStatus.RETIRED)
        self.assertEqual(second.activated_by, self.dana)
        active = ModelVersion.objects.filter(status=ModelStatus.ACTIVE)
        self.assertEqual(set(active), {second, year_end})
        moves = list(self.version.transitions.values_list("from_status", "to_status"))
        self.assertEqual(moves, [("", "trained"), ("trained", "active"), ("active", "retired")])
        self.assertTrue(ChangeLog.objects.filter(action="risk.model.active").exists())
        with self.assertRaises(actions.RiskError):
            actions.change_model_status(version=second, to=ModelStatus.TRAINED, by=self.dana)

    def test_it_stores_scores_and_raises_one_pending_flag_per_student(self) -> None:
        counts = self._score(AS_OF, self.ada)
        self.assertEqual((counts["scored"], counts["new flags"]), (3, 1))
        counts = self._score(AS_OF + dt.timedelta(days=1), self.ada, self.cora)
        self.assertEqual((counts["new flags"], counts["refreshed flags"]), (1, 1))
        ada = FlagReview.objects.get(student=self.ada)
        self.assertEqual((ada.flagged_on, ada.last_flagged_on), (AS_OF, AS_OF + dt.timedelta(1)))
        self.assertEqual(ada.reasons, REASONS)
        self.assertEqual(RiskScore.objects.filter(as_of=AS_OF).count(), 3)
        # A re-run of the same night replaces that night's scores.
        self._score(AS_OF, self.ada)
        self.assertEqual(RiskScore.objects.filter(as_of=AS_OF).count(), 3)
        self.assertEqual(
            RiskScore.objects.get(as_of=AS_OF, selected=False, student=self.ben).reasons, []
        )

    def test_it_expires_flags_that_leave_the_top_k(self) -> None:
        self._score(AS_OF, self.ada)
        counts = self._score(AS_OF + dt.timedelta(days=1), self.ben)
        self.assertEqual(counts["expired flags"], 1)
        ada = FlagReview.objects.get(student=self.ada)
        self.assertEqual(ada.status, FlagStatus.EXPIRED)
        last = ada.transitions.last()
        self.assertEqual(last.to_status if last else "", FlagStatus.EXPIRED)

    def test_it_does_not_bring_back_a_flag_reviewed_recently(self) -> None:
        self._score(AS_OF, self.ada)
        review = FlagReview.objects.get(student=self.ada)
        actions.dismiss_flag(review=review, by=self.olivia, reason=DismissReason.ALREADY_SERVED)
        self.assertEqual(self._score(AS_OF + dt.timedelta(days=7), self.ada)["new flags"], 0)
        later = AS_OF + dt.timedelta(days=actions.REVIEW_HOLDS_DAYS + 1)
        self.assertEqual(self._score(later, self.ada)["new flags"], 1)

    def test_it_opens_a_case_when_an_officer_confirms(self) -> None:
        self._score(AS_OF, self.ada)
        review = FlagReview.objects.get(student=self.ada)
        self.login(self.olivia)
        response = self.client.post(
            reverse("insights:risk_flag_confirm", args=[review.pk]),
            {"next": reverse("cases:worklist") + "?list=watch"},
        )
        self.assertRedirects(response, reverse("cases:worklist") + "?list=watch")
        review.refresh_from_db()
        case = Case.objects.get(student=self.ada)
        self.assertEqual(
            (review.status, review.case, review.decided_by), ("confirmed", case, self.olivia)
        )
        self.assertIn("6 absences in the last 20 school days", case.opened_reason)
        self.assertNotIn("0.5", case.opened_reason)  # the reasons, never the score
        actions_logged = set(ChangeLog.objects.values_list("action", flat=True))
        self.assertTrue({"risk.flag.confirm", "case.open"} <= actions_logged)
        moves = list(review.transitions.values_list("from_status", "to_status"))
        self.assertEqual(moves, [("", "pending"), ("pending", "confirmed")])

    def test_it_adds_a_task_to_an_open_case_instead_of_a_second_case(self) -> None:
        case = cases.open_case(student=self.ada, opened_by=self.omar, reason="3 unexcused")
        self._score(AS_OF, self.ada)
        review = FlagReview.objects.get(student=self.ada)
        actions.confirm_flag(review=review, by=self.olivia)
        self.assertEqual(Case.objects.filter(student=self.ada).count(), 1)
        task = Task.objects.get(case=case)
        self.assertEqual(task.owner, self.omar)
        self.assertTrue(task.title.startswith("Early-warning flag confirmed"))
        review.refresh_from_db()
        self.assertEqual(review.case, case)

    def test_it_needs_a_reason_to_dismiss_and_decides_once(self) -> None:
        self._score(AS_OF, self.ada)
        review = FlagReview.objects.get(student=self.ada)
        with self.assertRaises(actions.RiskError):
            actions.dismiss_flag(review=review, by=self.olivia, reason=DismissReason.OTHER)
        with self.assertRaises(actions.RiskError):
            actions.dismiss_flag(review=review, by=self.olivia, reason="bored")
        self.login(self.olivia)
        self.client.post(
            reverse("insights:risk_flag_dismiss", args=[review.pk]),
            {"reason": "not_at_risk", "note": "family moved back"},
        )
        review.refresh_from_db()
        self.assertEqual((review.status, review.dismiss_reason), ("dismissed", "not_at_risk"))
        self.assertTrue(ChangeLog.objects.filter(action="risk.flag.dismiss", student=self.ada))
        with self.assertRaises(actions.RiskError):
            actions.dismiss_flag(review=review, by=self.omar, reason=DismissReason.DATA_ERROR)

    def test_it_shows_flags_on_the_watch_list_of_those_who_may_see_the_student(self) -> None:
        self._score(AS_OF, self.ada, self.cora)
        self.login(self.olivia)
        page = self.client.get(reverse("cases:worklist") + "?list=watch")
        self.assertEqual([f.student for f in page.context["lists"]["risk"]], [self.ada])
        ada = FlagReview.objects.get(student=self.ada)
        self.assertContains(page, "6 absences in the last 20 school days")
        self.assertContains(page, reverse("insights:risk_flag_confirm", args=[ada.pk]))
        self.assertContains(page, reverse("insights:risk_flag_dismiss", args=[ada.pk]))
        self.login(self.otto)
        page = self.client.get(reverse("cases:worklist") + "?list=watch")
        self.assertEqual([f.student for f in page.context["lists"]["risk"]], [self.cora])
        refused = self.client.post(reverse("insights:risk_flag_confirm", args=[ada.pk]))
        self.assertEqual(refused.status_code, 404)
        self.login(self.sam)
        page = self.client.get(reverse("cases:worklist") + "?list=watch")
        self.assertEqual([f.student for f in page.context["lists"]["risk"]], [self.ada])

    def test_it_lists_flags_without_a_query_per_flag(self) -> None:
        self._score(AS_OF, self.ada)
        self.login(self.dana)
        url = reverse("cases:worklist") + "?list=watch"
        with CaptureQueriesContext(connection) as one:
            self.client.get(url)
        self._score(AS_OF + dt.timedelta(days=1), self.ada, self.ben, self.cora)
        with CaptureQueriesContext(connection) as three:
            page = self.client.get(url)
        self.assertEqual(len(page.context["lists"]["risk"]), 3)
        self.assertEqual(len(three), len(one))

    def test_it_hides_flags_of_a_retired_model(self) -> None:
        self._score(AS_OF, self.ada)
        actions.change_model_status(version=self.version, to=ModelStatus.RETIRED, by=self.dana)
        self.login(self.olivia)
        page = self.client.get(reverse("cases:worklist") + "?list=watch")
        self.assertEqual(page.context["lists"]["risk"], [])

    def test_it_never_puts_a_score_in_a_family_letter(self) -> None:
        self._score(AS_OF, self.ada)
        review = FlagReview.objects.get(student=self.ada)
        actions.confirm_flag(review=review, by=self.olivia)
        letters.install_default_templates(district=self.district)
        review.refresh_from_db()
        assert review.case is not None
        letter = letters.send_letter(case=review.case, by=self.olivia, email=False)
        score = RiskScore.objects.get(student=self.ada, as_of=AS_OF).score
        for text in (str(score), f"{score:.0%}", "risk", "absences in the last 20 school days"):
            self.assertNotIn(text, letter.html)
        source = inspect.getsource(letters)
        self.assertNotIn("RiskScore", source)
        self.assertNotIn("FlagReview", source)


class NightlyScoringTests(BaseTestCase):
    """`attend risk score` in app mode on the cast's school year, with a trained model."""

    version: ModelVersion

    @classmethod
    def setUpTestData(cls) -> None:
        super().setUpTestData()
        # Ada: nine absences in the last three weeks (7% of her days: not chronic yet).
        record_absences(cls.ada, cls.lincoln, ADA_NINE_DAYS)
        record_absences(cls.cora, cls.roosevelt, [dt.date(2025, 10, 6)])
        cls.version = activate_for_cast(cls)

    def test_it_scores_every_enrolled_student_as_a_job_and_flags_the_top_k(self) -> None:
        job = score_district(district=self.district, as_of=AS_OF, by=self.dana)
        self.assertEqual(job.status, JobStatus.SUCCEEDED)
        self.assertEqual(job.counts["scored"], 3)
        scores = RiskScore.objects.filter(model_version=self.version, as_of=AS_OF)
        self.assertEqual(scores.count(), 3)
        # No capacity set: each school's k = ceil(5% of its students) = 1.
        self.assertEqual(
            set(scores.filter(selected=True).values_list("student", flat=True)),
            {self.ada.pk, self.cora.pk},
        )
        flagged = scores.get(selected=True, school=self.lincoln)
        self.assertEqual(
            (flagged.student, flagged.rank_district, flagged.rank_school), (self.ada, 1, 1)
        )
        self.assertGreater(flagged.score or 0, scores.get(student=self.ben).score or 0)
        days = {day for reason in flagged.reasons for day in reason["days"]}
        self.assertTrue(days and days <= {d.isoformat() for d in self._ada_days()})
        review = FlagReview.objects.get(school=self.lincoln)
        self.assertEqual((review.student, review.status), (self.ada, FlagStatus.PENDING))
        self.assertEqual(self.version.run_id, store.load(trained_run())["run_id"])

    def _ada_days(self) -> list[dt.date]:
        return list(
            AttendanceEvent.objects.filter(student=self.ada).values_list("event_date", flat=True)
        )

    def test_it_scores_and_retires_from_the_shell(self) -> None:
        out = io.StringIO()
        call_command("risk", "score", "--as-of", AS_OF.isoformat(), stdout=out)
        self.assertIn("Riverside Unified as of 2026-03-02: job", out.getvalue())
        self.assertEqual(RiskScore.objects.filter(as_of=AS_OF).count(), 3)
        call_command("risk", "retire", self.version.run_id, "--by", "dana", stdout=out)
        self.version.refresh_from_db()
        self.assertEqual(self.version.status, ModelStatus.RETIRED)
        with self.assertRaises(CommandError):
            call_command("risk", "score", "--as-of", AS_OF.isoformat(), stdout=out)

    def test_it_refuses_to_score_without_an_active_model(self) -> None:
        actions.change_model_status(version=self.version, to=ModelStatus.RETIRED, by=self.dana)
        with self.assertRaises(actions.RiskError):
            score_district(district=self.district, as_of=AS_OF)
