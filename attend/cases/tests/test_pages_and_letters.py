"""Worklists, the case page, the director view, letters (render, PDF, e-mail, versions)."""

from __future__ import annotations

import datetime as dt

from django.core import mail
from django.urls import reverse

from attend.attendance.models import AttendanceEvent
from attend.audit.models import AccessLog
from attend.cases import actions, letters
from attend.cases.models import LegalStep, Letter, LetterTemplate
from attend.roster.models import Guardian, Household, StudentGuardian
from attend.test import BaseTestCase


class PagesAndLettersTests(BaseTestCase):
    ben_guardian: Guardian

    @classmethod
    def setUpTestData(cls) -> None:
        super().setUpTestData()
        cls.make_calendar(cls.lincoln, dt.date(2025, 9, 1), 120)
        for day in ("2025-09-03", "2025-09-10", "2025-09-17"):
            AttendanceEvent.objects.create(
                student=cls.ada,
                school=cls.lincoln,
                event_date=dt.date.fromisoformat(day),
                category="unexcused",
            )
        cls.ben_guardian = Guardian.objects.create(
            contact_unique_id="G2",
            first_name="Rosa",
            last_name="O",
            email="rosa@example.org",
            language="spa",
        )
        household = Household.objects.create(district=cls.district, language="spa")
        cls.ben.household = household
        cls.ben.save()
        StudentGuardian.objects.create(student=cls.ben, guardian=cls.ben_guardian, primary=True)
        letters.install_default_templates(district=cls.district)

    def test_it_puts_unreviewed_students_on_the_watch_list(self) -> None:
        self.login(self.olivia)
        response = self.client.get(reverse("cases:worklist") + "?list=watch")
        self.assertEqual([s.student_unique_id for s in response.context["lists"]["watch"]], ["S1"])

    def test_it_shows_due_steps_and_why_a_step_is_blocked(self) -> None:
        actions.apply_rules(student=self.ada, as_of=dt.date(2025, 9, 30), by=self.olivia)
        case = self.ada.cases.get()
        self.login(self.olivia)
        today = self.client.get(reverse("cases:worklist")).context["lists"]["today"]
        self.assertEqual(
            len(list(today["new_crossings"])) + len(list(today["due_steps"])) >= 0, True
        )
        page = self.client.get(reverse("cases:detail", args=[case.pk]))
        self.assertContains(page, "Blocked: first log report truant")
        self.assertTrue(AccessLog.objects.filter(user=self.olivia, student=self.ada).exists())
        step = LegalStep.objects.get(step="conference_attempt")
        response = self.client.post(
            reverse("cases:complete_step", args=[case.pk, step.pk]), follow=True
        )
        self.assertContains(response, "cannot be completed yet")

    def test_it_logs_a_contact_from_the_fast_add_form(self) -> None:
        case = actions.open_case(student=self.ada, opened_by=self.olivia, reason="watch")
        self.login(self.olivia)
        self.client.post(
            reverse("cases:add_contact", args=[case.pk]), {"kind": "call", "outcome": "no_answer"}
        )
        self.assertEqual(case.contacts.get().outcome, "no_answer")

    def test_it_sends_the_letter_in_the_family_language_and_keeps_it_as_sent(self) -> None:
        case = actions.open_case(student=self.ben, opened_by=self.olivia, reason="watch")
        with self.captureOnCommitCallbacks(execute=True):
            letter = letters.send_letter(case=case, by=self.olivia)
        self.assertEqual((letter.template_ref, letter.channel), ("supportive.spa@1", "email"))
        self.assertTrue(bytes(letter.pdf or b"").startswith(b"%PDF"))
        self.assertEqual(len(letter.pdf_sha256), 64)
        (sent,) = mail.outbox
        self.assertEqual(sent.to, ["rosa@example.org"])
        self.assertIn("Ben", letter.html)

    def test_it_versions_templates_and_scores_readability(self) -> None:
        text = LetterTemplate.objects.get(district=self.district, key="supportive", language="eng")
        _html, score = letters.render_letter(
            text,
            {
                "first_name": "Ada",
                "absences": 6,
                "typical": 2,
                "school": "Lincoln",
                "officer_name": "Olivia",
                "phone": "555",
            },
        )
        self.assertLess(score["words"], 150)
        self.assertLessEqual(score["grade"], 6)
        edited = letters.edit_template(
            district=self.district,
            key="supportive",
            language="eng",
            subject=text.subject,
            body=text.body + "<p>Bye.</p>",
            by=self.dana,
        )
        self.assertEqual(
            (edited.version, LetterTemplate.objects.filter(language="eng").count()), (2, 2)
        )
        self.assertGreater(
            letters.readability(
                "Attendance intervention necessitates comprehensive institutional collaboration."
            )["grade"],
            12,
        )

    def test_it_flags_a_language_without_a_translation(self) -> None:
        LetterTemplate.objects.filter(language="spa").delete()
        gaps = letters.translation_gaps(self.district)
        self.assertEqual(
            [(g["school"], g["language"]) for g in gaps], [("Lincoln Elementary", "spa")]
        )

    def test_it_shows_the_director_caseload_and_outcomes(self) -> None:
        case = actions.open_case(student=self.ada, opened_by=self.olivia, reason="watch")
        actions.plan_intervention(
            case=case,
            type="conference",
            tier=2,
            goal="Back to 95%",
            owner=self.olivia,
            by=self.olivia,
            start=dt.date(2025, 9, 15),
        )
        self.login(self.sam)
        response = self.client.get(reverse("cases:director"))
        row = response.context["outcomes"][0]
        self.assertEqual((row["type"], row["n"]), ("Family conference", 1))
        self.assertIsNotNone(row["before_30"])
        self.assertContains(response, "not a controlled comparison")
        self.assertFalse(Letter.objects.exists())
