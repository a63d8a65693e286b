"""Casework from the case page: each form feeds its action; htmx gets the section back."""

from __future__ import annotations

import datetime as dt

from django.urls import reverse

from attend.cases import actions, letters
from attend.cases.models import Case, Disclosure, LegalStep, LegalStepTransition, Letter
from attend.test import BaseTestCase

HTMX = {"HX-Request": "true"}


class CasePageFormTests(BaseTestCase):
    case: Case

    @classmethod
    def setUpTestData(cls) -> None:
        super().setUpTestData()
        cls.case = actions.open_case(student=cls.ada, opened_by=cls.olivia, reason="3 unexcused")

    def url(self, name: str, *args: int) -> str:
        return reverse(f"cases:{name}", args=[self.case.pk, *args])

    def test_it_records_a_root_cause_and_returns_the_section_to_htmx(self) -> None:
        self.login(self.olivia)
        response = self.client.post(
            self.url("assess"), {"cause": "transportation", "detail": "bus route cut"}, headers=HTMX
        )
        self.assertContains(response, 'id="sec-causes"')
        self.assertContains(response, "Barriers · Transportation: bus route cut")
        self.assertNotContains(response, "<html")
        self.assertEqual(self.case.root_causes.get().group, "barriers")

    def test_it_shows_sealed_details_to_the_owner_who_recorded_them_only(self) -> None:
        actions.assess_root_cause(
            case=self.case, cause="mental_health", detail="panic attacks", by=self.olivia
        )
        actions.assess_root_cause(
            case=self.case, cause="child_welfare", detail="CPS open", by=self.sam
        )
        self.login(self.olivia)
        page = self.client.get(self.url("detail"))
        self.assertContains(page, "panic attacks")
        self.assertNotContains(page, "CPS open")
        self.login(self.omar)  # a colleague who may see the case, not the sealed note
        page = self.client.get(self.url("detail"))
        self.assertNotContains(page, "panic attacks")
        self.assertContains(page, "Sealed health or welfare detail", count=2)
        self.login(self.chris)  # counselors read sealed notes — on a case referred to them
        actions.send_referral(
            case=self.case, target="counselor", reason="anxiety", by=self.olivia, to_user=self.chris
        )
        page = self.client.get(self.url("detail"))
        self.assertContains(page, "panic attacks")
        self.assertContains(page, "CPS open")

    def test_it_hides_the_owners_sealed_note_once_the_case_is_reassigned(self) -> None:
        actions.assess_root_cause(case=self.case, cause="illness", detail="asthma", by=self.olivia)
        actions.assign_case(case=self.case, owner=self.omar, by=self.sam)
        self.login(self.olivia)
        self.assertNotContains(self.client.get(self.url("detail")), "asthma")

    def test_it_plans_an_intervention_with_a_review_date(self) -> None:
        self.login(self.olivia)
        self.client.post(
            self.url("plan"),
            {
                "type": "mentor",
                "tier": 2,
                "goal": "95% by March",
                "start": "2025-10-01",
                "duration_days": 60,
                "review_every_days": 14,
            },
        )
        plan = self.case.plans.get()
        self.assertEqual((plan.owner, plan.next_review_on), (self.olivia, dt.date(2025, 10, 15)))

    def test_it_needs_consent_for_an_agency_referral_and_logs_the_disclosure(self) -> None:
        self.login(self.olivia)
        data = {"target": "agency", "agency": "Family Services", "reason": "housing"}
        response = self.client.post(self.url("refer"), data, headers=HTMX)
        self.assertContains(response, "needs the family")
        self.assertFalse(self.case.referrals.exists())
        self.client.post(self.url("refer"), {**data, "consent": "on", "consent_by": "Mrs L"})
        disclosure = Disclosure.objects.get()
        self.assertEqual((disclosure.recipient, disclosure.consent), ("Family Services", True))

    def test_it_logs_a_disclosure_for_a_colleague_at_another_school_only(self) -> None:
        self.login(self.olivia)
        self.client.post(
            self.url("refer"), {"target": "teacher", "to_user": self.terry.pk, "reason": "check in"}
        )
        self.assertFalse(Disclosure.objects.exists())
        self.chris.schools.set([self.roosevelt])
        self.client.post(
            self.url("refer"),
            {"target": "counselor", "to_user": self.chris.pk, "reason": "support"},
        )
        self.assertEqual(Disclosure.objects.get().recipient, "chris")

    def test_it_lets_the_addressee_respond_and_the_sender_revoke(self) -> None:
        referral = actions.send_referral(
            case=self.case, target="teacher", reason="check in", by=self.olivia, to_user=self.terry
        )
        self.login(self.terry)
        page = self.client.get(self.url("detail"))
        self.assertContains(page, self.url("respond_referral", referral.pk))
        self.client.post(self.url("respond_referral", referral.pk), {"to": "accepted"})
        referral.refresh_from_db()
        self.assertEqual(referral.status, "accepted")
        self.login(self.omar)  # not the addressee
        response = self.client.post(
            self.url("respond_referral", referral.pk), {"to": "done"}, headers=HTMX
        )
        self.assertContains(response, "Only the person this referral is addressed to")
        self.client.post(self.url("revoke_referral", referral.pk), {"note": "family moved"})
        referral.refresh_from_db()
        self.assertEqual(referral.status, "revoked")
        self.assertEqual(referral.transitions.count(), 3)

    def test_it_records_a_sarb_meeting_with_a_compliance_window(self) -> None:
        self.login(self.olivia)
        data = {"kind": "sarb", "held_on": "2025-11-03", "attendees": "Olivia, Mrs L, SARB chair"}
        response = self.client.post(
            self.url("meeting"), {**data, "compliance_until": "2025-10-01"}, headers=HTMX
        )
        self.assertContains(response, "compliance window ends after")
        self.client.post(
            self.url("meeting"),
            {**data, "agreement": "on time daily", "compliance_until": "2025-12-19"},
        )
        self.assertEqual(self.case.meetings.get().compliance_until, dt.date(2025, 12, 19))

    def test_it_adds_and_completes_tasks_and_the_owner_may_finish_theirs(self) -> None:
        self.login(self.olivia)
        self.client.post(self.url("add_task"), {"title": "Call Mrs L", "due_on": "2025-10-02"})
        mine = self.case.tasks.get()
        self.assertEqual(mine.owner, self.olivia)
        self.client.post(self.url("complete_task", mine.pk))
        mine.refresh_from_db()
        self.assertEqual(mine.status, "done")
        actions.send_referral(
            case=self.case, target="teacher", reason="x", by=self.olivia, to_user=self.terry
        )
        other = actions.add_task(
            case=self.case, title="Seat plan", owner=self.olivia, due_on=mine.due_on, by=self.olivia
        )
        self.login(self.terry)
        self.assertEqual(self.client.post(self.url("complete_task", other.pk)).status_code, 403)

    def test_it_resolves_a_flagged_step_without_touching_the_sent_letter(self) -> None:
        step = LegalStep.objects.create(
            case=self.case,
            rule_set="CA@2025.07",
            rule="truant",
            classification="truant",
            step="first_notice",
            label="First notice",
            kind="shall",
            reached_on=dt.date(2025, 9, 17),
            status="review",
            review_reason="no longer reached",
            done_on=dt.date(2025, 9, 18),
        )
        letters.install_default_templates(district=self.district)
        letter = letters.send_letter(case=self.case, by=self.olivia, email=False)
        Letter.objects.filter(pk=letter.pk).update(legal_step=step)
        self.login(self.olivia)
        page = self.client.get(self.url("detail"))
        self.assertContains(page, 'data-testid="review-form"')
        response = self.client.post(
            self.url("review_step", step.pk), {"decision": "withdraw"}, headers=HTMX
        )
        self.assertContains(response, "Choose keep or withdraw and write a note")
        self.client.post(
            self.url("review_step", step.pk), {"decision": "withdraw", "note": "doctor's note"}
        )
        step.refresh_from_db()
        self.assertEqual(step.status, "withdrawn")
        after = Letter.objects.get(pk=letter.pk)
        self.assertEqual((after.html, after.pdf_sha256), (letter.html, letter.pdf_sha256))
        move = LegalStepTransition.objects.get(step=step)
        self.assertEqual(
            (move.from_status, move.to_status, move.note), ("review", "withdrawn", "doctor's note")
        )

    def test_it_restores_a_kept_step_to_done_when_it_was_done(self) -> None:
        step = LegalStep.objects.create(
            case=self.case,
            rule_set="CA",
            rule="truant",
            classification="truant",
            step="report",
            label="Report",
            kind="shall",
            reached_on=dt.date(2025, 9, 17),
            status="review",
            done_on=dt.date(2025, 9, 18),
        )
        kept = actions.review_legal_step(step=step, by=self.olivia, decision="keep", note="still")
        self.assertEqual(kept.status, "done")

    def test_it_refuses_writes_to_a_teacher_and_to_an_outsider(self) -> None:
        self.login(self.otto)
        response = self.client.post(self.url("assess"), {"cause": "boredom"})
        self.assertEqual(response.status_code, 404)
        self.login(self.terry)
        self.assertEqual(
            self.client.post(self.url("assess"), {"cause": "boredom"}).status_code, 403
        )
        self.assertFalse(self.case.root_causes.exists())
