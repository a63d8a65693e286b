"""The jobs pages: each person follows their own long-running work; admins see the district's."""

from __future__ import annotations

from django.urls import reverse

from attend.jobs.actions import create_job, finish_job, start_job
from attend.test import BaseTestCase


class JobPageTests(BaseTestCase):
    def test_it_shows_an_officer_her_own_letter_job_and_nobody_elses(self) -> None:
        mine = create_job(
            kind="cases.bulk_letters", title="Letters for my caseload", created_by=self.olivia
        )
        start_job(job=mine, total=2)
        finish_job(job=mine, counts={"letters": 2})
        create_job(kind="import.edfi", title="Nightly Ed-Fi import", created_by=self.dana)
        create_job(kind="cases.bulk_letters", title="Omar's letters", created_by=self.omar)
        self.login(self.olivia)
        with self.assertNumQueries(3):  # session, user, jobs: no query per row
            page = self.client.get(reverse("jobs:list"))
        self.assertContains(page, "Letters for my caseload")
        self.assertNotContains(page, "Nightly Ed-Fi import")
        self.assertNotContains(page, "Omar&#x27;s letters")
        detail = self.client.get(reverse("jobs:detail", args=[mine.pk]))
        self.assertContains(detail, "letters")

    def test_it_shows_the_admin_her_districts_jobs_and_the_systems(self) -> None:
        create_job(
            kind="cases.bulk_letters", title="Letters for my caseload", created_by=self.olivia
        )
        create_job(kind="cases.rules", title="Truancy rules after import", created_by=None)
        create_job(kind="import.edfi", title="Other district import", created_by=self.nina)
        self.login(self.dana)
        page = self.client.get(reverse("jobs:list"))
        self.assertContains(page, "Letters for my caseload")
        self.assertContains(page, "Truancy rules after import")
        self.assertNotContains(page, "Other district import")
