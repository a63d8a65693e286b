"""Bulk family letters as a Job, the template editor, and rules after an attendance import."""

from __future__ import annotations

import datetime as dt
import threading
from io import StringIO
from unittest import mock

from django.core.management import call_command
from django.urls import reverse

from attend.attendance.models import AttendanceEvent
from attend.cases import actions, bulk, letters
from attend.cases.models import Case, Letter, LetterTemplate
from attend.jobs.models import Job
from attend.roster.models import Guardian, Household, StudentGuardian
from attend.test import BaseTestCase


class BulkLetterTests(BaseTestCase):
    @classmethod
    def setUpTestData(cls) -> None:
        super().setUpTestData()
        cls.make_calendar(cls.lincoln, dt.date(2025, 9, 1), 60)
        for student, days in ((cls.ada, (3, 10, 17, 24)), (cls.ben, (3,))):
            for day in days:
                AttendanceEvent.objects.create(
                    student=student,
                    school=cls.lincoln,
                    event_date=dt.date(2025, 9, day),
                    category="unexcused",
                )
        household = Household.objects.create(district=cls.district, language="spa")
        cls.ben.household = household
        cls.ben.save()
        rosa = Guardian.objects.create(
            contact_unique_id="G2", first_name="Rosa", last_name="Okafor", language="spa"
        )
        StudentGuardian.objects.create(student=cls.ben, guardian=rosa, primary=True)
        letters.install_default_templates(district=cls.district)

    def test_it_turns_ticked_students_into_a_letter_job_and_keeps_each_letter(self) -> None:
        existing = actions.open_case(student=self.ada, opened_by=self.omar, reason="watch")
        self.login(self.olivia)
        response = self.client.post(
            reverse("cases:bulk_letters"), {"student": [self.ada.pk, self.ben.pk, self.zed.pk]}
        )
        job = Job.objects.get(kind=bulk.KIND)
        self.assertRedirects(response, reverse("cases:bulk_status", args=[job.pk]))
        self.assertEqual(sorted(job.params["students"]), sorted([self.ada.pk, self.ben.pk]))
        counts = bulk.run_bulk(job=job, workers=0)
        self.assertEqual(counts, {"letters": 2, "refused": 0, "students": 2})
        ada_letter = Letter.objects.get(case__student=self.ada)
        self.assertEqual(ada_letter.case, existing)  # the open case is reused
        self.assertIn("missed 4 school days", ada_letter.html)
        self.assertIn("has missed 2", ada_letter.html)  # median of Ada (4), Ben (1)... Lincoln
        ben_letter = Letter.objects.get(case__student=self.ben)
        self.assertEqual(ben_letter.template_ref, "supportive.spa@1")
        self.assertEqual(ben_letter.case.owner, self.olivia)  # approving opened Ben's case
        self.assertTrue(bytes(ben_letter.pdf or b"").startswith(b"%PDF"))
        job.refresh_from_db()
        self.assertEqual((job.status, job.progress_done, job.progress_total), ("succeeded", 2, 2))
        page = self.client.get(reverse("cases:bulk_status", args=[job.pk]), HTTP_HX_REQUEST="true")
        self.assertContains(page, "2 / 2 letters")

    def test_it_builds_the_same_numbers_as_the_single_letter(self) -> None:
        case = actions.open_case(student=self.ada, opened_by=self.olivia, reason="watch")
        single = letters.letter_context(case)
        many = bulk.bulk_contexts([self.ada, self.ben], {self.ada.pk: case}, self.olivia)
        self.assertEqual(many[self.ada.pk], single)

    def test_it_renders_pdfs_in_worker_processes(self) -> None:
        job = bulk.create_bulk_job(students=[self.ada, self.ben], by=self.olivia)
        bulk.run_bulk(job=job, workers=2)
        pdfs = [bytes(p or b"") for p in Letter.objects.values_list("pdf", flat=True)]
        self.assertEqual(len(pdfs), 2)
        self.assertTrue(all(p.startswith(b"%PDF") for p in pdfs))

    def test_it_refuses_a_letter_over_the_word_limit_and_says_so(self) -> None:
        letters.edit_template(
            district=self.district,
            key="supportive",
            language="eng",
            subject="x",
            body="<p>" + "word " * 200 + "</p>",
            by=self.dana,
        )
        job = bulk.create_bulk_job(students=[self.ada], by=self.olivia)
        counts = bulk.run_bulk(job=job, workers=0)
        job.refresh_from_db()
        self.assertEqual((counts["letters"], counts["refused"]), (0, 1))
        self.assertIn("200 words", job.errors[0])
        self.assertFalse(Case.objects.filter(student=self.ada).exists())

    def test_it_refuses_students_outside_the_officers_scope(self) -> None:
        self.login(self.otto)
        response = self.client.post(reverse("cases:bulk_letters"), {"student": [self.ada.pk]})
        self.assertEqual(response.status_code, 302)
        self.assertFalse(Job.objects.exists())

    def test_it_runs_a_worklist_from_the_command_line(self) -> None:
        out = StringIO()
        call_command(
            "letters",
            "bulk",
            "--worklist",
            "watch",
            "--user",
            "olivia",
            "--workers",
            "0",
            stdout=out,
        )
        self.assertIn("1 letters kept", out.getvalue())  # Ada: ≥ 3 unexcused, no case yet
        self.assertEqual(Letter.objects.get().case.student, self.ada)

    def test_it_scores_the_template_as_the_admin_types(self) -> None:
        self.login(self.dana)
        response = self.client.post(
            reverse("cases:template_score"),
            {"body": "<p>{{ first_name }} missed {{ absences }} days. We can help.</p>"},
            HTTP_HX_REQUEST="true",
        )
        self.assertContains(response, "<strong>6</strong> words")
        self.assertContains(response, 'id="score"')
        broken = self.client.post(reverse("cases:template_score"), {"body": "{% if %}"})
        self.assertContains(broken, "Template error")

    def test_it_saves_an_edit_as_a_new_version(self) -> None:
        self.login(self.dana)
        url = reverse("cases:template_edit", args=["supportive", "eng"])
        page = self.client.get(url)
        self.assertContains(page, "Reading grade")
        body = "<p>{{ first_name }} missed {{ absences }} days. Please call us.</p>"
        self.client.post(url, {"subject": "Attendance", "body": body})
        latest = letters.current_template(self.district, "supportive", "eng")
        assert latest is not None
        self.assertEqual((latest.version, latest.body, latest.created_by), (2, body, self.dana))
        self.client.post(url, {"subject": "x", "body": "<p>" + "word " * 151 + "</p>"})
        self.assertEqual(LetterTemplate.objects.filter(language="eng").count(), 2)

    def test_it_applies_the_rules_for_students_an_import_touched(self) -> None:
        case = actions.open_case(student=self.ada, opened_by=self.olivia, reason="watch")
        totals = actions.apply_rules_for_students(
            student_ids=[self.ada.pk, self.ben.pk], as_of=dt.date(2025, 9, 30)
        )
        self.assertEqual(totals["students"], 2)
        self.assertGreater(totals["created"], 0)
        self.assertEqual(case.legal_steps.count(), totals["created"])
        self.assertFalse(Case.objects.filter(student=self.ben).exists())

    def test_it_opens_many_cases_with_the_same_rows_as_one(self) -> None:
        from attend.audit.models import ChangeLog

        one = actions.open_case(student=self.ada, opened_by=self.olivia, reason="r")
        many = actions.open_cases(students=[self.ben, self.cora], opened_by=self.olivia, reason="r")
        self.assertEqual(one.school, self.lincoln)
        self.assertEqual(
            (many[self.ben.pk].school, many[self.cora.pk].school), (self.lincoln, self.roosevelt)
        )
        for case in (one, *many.values()):
            self.assertEqual(case.transitions.get().to_status, "open")
        self.assertEqual(ChangeLog.objects.filter(action="case.open").count(), 3)

    def test_it_starts_the_job_thread_only_after_the_job_is_committed(self) -> None:
        job = bulk.create_bulk_job(students=[self.ada], by=self.olivia)
        with mock.patch("attend.cases.bulk._thread_main") as thread_main:
            with self.captureOnCommitCallbacks(execute=False) as callbacks:
                bulk.launch(job, workers=0)
            thread_main.assert_not_called()
            for callback in callbacks:
                callback()
            for thread in threading.enumerate():
                if thread.name == f"letters-job-{job.pk}":
                    thread.join(5)
        thread_main.assert_called_once_with(job.pk, 0)
