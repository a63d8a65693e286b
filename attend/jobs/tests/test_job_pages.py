"""The jobs pages: each person follows their own long-running work; admins see the district's."""

from __future__ import annotations

from django.test import TestCase
from django.urls import reverse

from attend.accounts.actions import create_user
from attend.accounts.choices import Role
from attend.accounts.middleware import SESSION_KEY
from attend.jobs.actions import assign_district, create_job, finish_job, start_job
from attend.roster.models import District
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

    def test_it_shows_the_admin_her_districts_jobs_and_none_of_another_districts(self) -> None:
        create_job(
            kind="cases.bulk_letters", title="Letters for my caseload", created_by=self.olivia
        )
        create_job(
            kind="risk_score",
            title="Riverside risk scores",
            created_by=None,
            district=self.district,
        )
        create_job(kind="cases.rules", title="Truancy rules, every district", created_by=None)
        create_job(kind="import.edfi", title="Other district import", created_by=self.nina)
        self.login(self.dana)
        page = self.client.get(reverse("jobs:list"))
        self.assertContains(page, "Letters for my caseload")
        self.assertContains(page, "Riverside risk scores")
        self.assertNotContains(page, "Other district import")
        # This installation serves two districts: a job over all of them is neither's.
        self.assertNotContains(page, "Truancy rules, every district")
        self.login(self.nina)
        page = self.client.get(reverse("jobs:list"))
        self.assertContains(page, "Other district import")
        self.assertNotContains(page, "Riverside risk scores")

    def test_an_import_is_the_districts_once_its_files_name_it(self) -> None:
        job = create_job(kind="import.edfi", title="Nightly Ed-Fi import", created_by=None)
        assign_district(job=job, district=self.district)
        assign_district(job=job, district=self.other_district)  # the first one stays
        job.refresh_from_db()
        self.assertEqual(job.district, self.district)
        self.login(self.nina)
        self.assertEqual(self.client.get(reverse("jobs:detail", args=[job.pk])).status_code, 404)


class SingleDistrictJobTests(TestCase):
    def test_the_admin_of_the_only_district_sees_the_installations_jobs(self) -> None:
        district = District.objects.create(lea_id="9", name="Only USD", current_school_year=2026)
        admin = create_user(
            username="ida", password=None, role=Role.DISTRICT_ADMIN, district=district
        )
        create_job(kind="nightly", title="Nightly run for 2026-03-13", created_by=None)
        self.client.force_login(admin)
        session = self.client.session
        session[SESSION_KEY] = True
        session.save()
        self.assertContains(self.client.get(reverse("jobs:list")), "Nightly run for 2026-03-13")
