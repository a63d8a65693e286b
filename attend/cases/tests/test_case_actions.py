"""Case model and actions: lifecycle, referrals and disclosures, scoping, legal steps."""

from __future__ import annotations

import datetime as dt

from attend.attendance.models import AttendanceEvent
from attend.audit.models import ChangeLog
from attend.cases import actions
from attend.cases.actions import CaseworkError
from attend.cases.models import Case, Disclosure, LegalStep
from attend.cases.queries import sees_sealed
from attend.roster.models import Guardian
from attend.test import BaseTestCase

D = dt.date.fromisoformat


class CaseLifecycleTests(BaseTestCase):
    def setUp(self) -> None:
        self.case = actions.open_case(student=self.ada, opened_by=self.olivia, reason="3 unexcused")

    def test_it_records_every_status_change_with_a_transition_and_audit_row(self) -> None:
        actions.change_status(case=self.case, to="active", by=self.olivia)
        actions.change_status(case=self.case, to="monitoring", by=self.olivia)
        actions.change_status(case=self.case, to="closed", by=self.olivia, reason="back in school")
        moves = list(self.case.transitions.values_list("from_status", "to_status"))
        self.assertEqual(
            moves,
            [("", "open"), ("open", "active"), ("active", "monitoring"), ("monitoring", "closed")],
        )
        self.assertEqual(self.case.closed_reason, "back in school")
        self.assertEqual(ChangeLog.objects.filter(action="case.status").count(), 3)

    def test_it_refuses_a_move_the_workflow_does_not_allow(self) -> None:
        with self.assertRaisesMessage(CaseworkError, "cannot move"):
            actions.change_status(case=self.case, to="monitoring", by=self.olivia)
        with self.assertRaisesMessage(CaseworkError, "Say why"):
            actions.change_status(case=self.case, to="closed", by=self.olivia)

    def test_it_logs_a_disclosure_for_every_referral_outside_the_school(self) -> None:
        with self.assertRaisesMessage(CaseworkError, "consented"):
            actions.send_referral(
                case=self.case, target="agency", reason="housing", by=self.olivia, agency="Shelter"
            )
        referral = actions.send_referral(
            case=self.case,
            target="agency",
            reason="housing",
            by=self.olivia,
            agency="Family Shelter",
            consent_by="Mother, by phone",
        )
        (disclosure,) = Disclosure.objects.all()
        self.assertEqual((disclosure.recipient, disclosure.consent), ("Family Shelter", True))
        actions.revoke_referral(referral=referral, by=self.olivia)
        self.assertEqual(
            list(referral.transitions.values_list("to_status", flat=True)), ["sent", "revoked"]
        )

    def test_it_lets_only_the_addressee_respond_and_follows_the_states(self) -> None:
        referral = actions.send_referral(
            case=self.case, target="counselor", reason="anxiety", by=self.olivia, to_user=self.chris
        )
        with self.assertRaisesMessage(CaseworkError, "addressed to"):
            actions.respond_referral(referral=referral, to="accepted", by=self.terry)
        actions.respond_referral(referral=referral, to="accepted", by=self.chris)
        actions.respond_referral(referral=referral, to="done", by=self.chris)
        with self.assertRaisesMessage(CaseworkError, "cannot become"):
            actions.revoke_referral(referral=referral, by=self.olivia)
        self.assertFalse(Disclosure.objects.exists())  # inside the school: no disclosure

    def test_it_scopes_cases_by_relationship(self) -> None:
        visible = {
            n: set(Case.objects.for_user(getattr(self, n)))
            for n in (
                "olivia",
                "omar",
                "otto",
                "chris",
                "terry",
                "sam",
                "dana",
                "nina",
                "opal",
                "ana",
            )
        }
        self.assertEqual(
            {n for n, cases in visible.items() if cases}, {"olivia", "omar", "sam", "dana"}
        )
        referral = actions.send_referral(
            case=self.case, target="teacher", reason="check in", by=self.olivia, to_user=self.terry
        )
        self.assertEqual(list(Case.objects.for_user(self.terry)), [self.case])
        self.assertEqual(list(Case.objects.for_user(self.chris)), [])
        actions.revoke_referral(referral=referral, by=self.olivia)
        self.assertEqual(list(Case.objects.for_user(self.terry)), [])

    def test_it_seals_health_details_from_officers_and_teachers(self) -> None:
        root = actions.assess_root_cause(
            case=self.case, cause="mental_health", by=self.olivia, detail="panic attacks"
        )
        self.assertEqual((root.group, root.sealed), ("barriers", True))
        self.assertEqual(
            {n: sees_sealed(getattr(self, n)) for n in ("olivia", "terry", "chris", "sam", "dana")},
            {"olivia": False, "terry": False, "chris": True, "sam": True, "dana": True},
        )
        self.assertNotIn("panic", str(ChangeLog.objects.get(action="case.root_cause").data))

    def test_it_flags_lost_contact_when_a_call_reaches_a_wrong_number(self) -> None:
        guardian = Guardian.objects.create(
            contact_unique_id="G1", first_name="Mae", last_name="L", phone="555"
        )
        actions.log_contact(
            case=self.case, kind="call", outcome="wrong_number", by=self.olivia, guardian=guardian
        )
        guardian.refresh_from_db()
        self.case.refresh_from_db()
        self.assertFalse(guardian.contact_valid)
        self.assertIsNotNone(self.case.first_contact_at)

    def test_it_completes_a_task_once(self) -> None:
        task = actions.add_task(
            case=self.case,
            title="Call mother",
            owner=self.olivia,
            due_on=D("2025-10-01"),
            by=self.olivia,
        )
        actions.complete_task(task=task, by=self.olivia)
        with self.assertRaises(CaseworkError):
            actions.complete_task(task=task, by=self.olivia)


class ApplyRulesTests(BaseTestCase):
    @classmethod
    def setUpTestData(cls) -> None:
        super().setUpTestData()
        cls.make_calendar(cls.lincoln, D("2025-09-01"), 120)

    def _absent(self, *days: str, category: str = "unexcused") -> None:
        for day in days:
            AttendanceEvent.objects.update_or_create(
                student=self.ada,
                school=self.lincoln,
                event_date=D(day),
                section_id="",
                defaults={"category": category},
            )

    def _steps(self) -> dict[str, str]:
        return dict(LegalStep.objects.values_list("step", "status"))

    def test_it_opens_a_case_and_creates_the_truancy_steps(self) -> None:
        self._absent("2025-09-03", "2025-09-10", "2025-09-17")
        result = actions.apply_rules(student=self.ada, as_of=D("2025-09-30"), by=self.olivia)
        self.assertEqual(result, {"created": 3, "flagged": 0})
        case = Case.objects.get(student=self.ada)
        notice = case.legal_steps.get(step="first_notice")
        self.assertEqual(
            (notice.rule_set, notice.template, notice.reached_on, notice.due_on),
            ("CA@2025.07", "ca-first-notice@2025-07", D("2025-09-17"), D("2025-09-24")),
        )
        again = actions.apply_rules(student=self.ada, as_of=D("2025-09-30"), by=self.olivia)
        self.assertEqual(again, {"created": 0, "flagged": 0})

    def test_it_flags_a_sent_notice_for_review_when_an_absence_is_excused_later(self) -> None:
        self._absent("2025-09-03", "2025-09-10", "2025-09-17")
        actions.apply_rules(student=self.ada, as_of=D("2025-09-30"), by=self.olivia)
        notice = LegalStep.objects.get(step="first_notice")
        actions.complete_legal_step(
            step=notice, by=self.olivia, satisfied_by="letter 1", on=D("2025-09-18")
        )
        self._absent("2025-09-10", category="excused")
        result = actions.apply_rules(student=self.ada, as_of=D("2025-09-30"), by=self.olivia)
        self.assertEqual(result, {"created": 0, "flagged": 3})
        notice.refresh_from_db()
        self.assertEqual(
            (notice.status, notice.satisfied_by, notice.done_on),
            ("review", "letter 1", D("2025-09-18")),
        )
        self.assertIn("no longer reached", notice.review_reason)

    def test_it_refuses_a_step_whose_guard_is_unmet_and_explains_why(self) -> None:
        self._absent("2025-09-03", "2025-09-10", "2025-09-17")
        actions.apply_rules(student=self.ada, as_of=D("2025-09-30"), by=self.olivia)
        conference = LegalStep.objects.get(step="conference_attempt")
        with self.assertRaisesMessage(CaseworkError, "first log report truant"):
            actions.complete_legal_step(
                step=conference, by=self.olivia, satisfied_by="call", on=D("2025-09-19")
            )
        report = LegalStep.objects.get(step="report_truant")
        actions.complete_legal_step(
            step=report, by=self.olivia, satisfied_by="report", on=D("2025-09-18")
        )
        actions.complete_legal_step(
            step=conference, by=self.olivia, satisfied_by="call", on=D("2025-09-19")
        )
        self.assertEqual(self._steps()["conference_attempt"], "done")

    def test_it_reaches_habitual_only_after_a_logged_conference_attempt(self) -> None:
        self._absent("2025-09-03", "2025-09-10", "2025-09-17", "2025-09-22", "2025-09-24")
        actions.apply_rules(student=self.ada, as_of=D("2025-09-30"), by=self.olivia)
        self.assertNotIn("sarb_referral", self._steps())
        case = Case.objects.get(student=self.ada)
        actions.log_contact(
            case=case,
            kind="call",
            outcome="no_answer",
            by=self.olivia,
            conference_attempt=True,
            at=dt.datetime(2025, 9, 25, 15, tzinfo=dt.UTC),
        )
        actions.apply_rules(student=self.ada, as_of=D("2025-09-30"), by=self.olivia)
        sarb = LegalStep.objects.get(step="sarb_referral")
        self.assertEqual((sarb.kind, sarb.reached_on), ("may", D("2025-09-25")))
