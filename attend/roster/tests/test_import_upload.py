"""The district admin's upload page: who may use it, an import from the browser, its Job page."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path
from tempfile import TemporaryDirectory
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings
from django.urls import reverse

from attend.attendance.models import AttendanceEvent
from attend.jobs.choices import JobStatus
from attend.jobs.models import Job
from attend.roster.tests.lake_fixture import write_lake
from attend.test import BaseTestCase

URLS = "attend.roster.tests.import_urls"


def lake_zip() -> SimpleUploadedFile:
    with TemporaryDirectory() as folder:
        lake = write_lake(Path(folder) / "lake")
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as archive:
            for file in lake.iterdir():
                archive.write(file, f"lake/{file.name}")
    return SimpleUploadedFile("district.zip", buffer.getvalue(), "application/zip")


@override_settings(ROOT_URLCONF=URLS)
class UploadPageTests(BaseTestCase):
    def post(self, upload: SimpleUploadedFile, kind: str = "edfi", **extra: str) -> Any:
        data = {"kind": kind, "file": upload, **extra}
        return self.client.post(reverse("imports:upload"), data)

    def test_it_is_only_for_district_admins(self) -> None:
        url = reverse("imports:upload")
        self.assertEqual(self.client.get(url).status_code, 302)
        for user in (self.olivia, self.sam, self.ana, self.opal):
            self.login(user)
            self.assertEqual(self.client.get(url).status_code, 403, user.username)
        self.login(self.dana)
        self.assertContains(self.client.get(url), "Import what your district already has")

    def test_it_imports_an_uploaded_zip_and_shows_the_job(self) -> None:
        self.login(self.dana)

        response = self.post(lake_zip())

        job = Job.objects.get(kind="import.edfi")
        self.assertRedirects(response, reverse("imports:job", args=[job.pk]))
        self.assertEqual(job.status, JobStatus.SUCCEEDED)
        self.assertEqual(job.created_by, self.dana)
        self.assertEqual(AttendanceEvent.objects.count(), 7)
        page = self.client.get(reverse("imports:job", args=[job.pk]))
        self.assertContains(page, "created 82, updated 7, unchanged 1, errors 0")
        self.assertContains(page, "attendance_events")

    def test_it_shows_every_problem_and_writes_nothing_for_another_district(self) -> None:
        self.login(self.nina)

        self.post(lake_zip())

        job = Job.objects.get(kind="import.edfi")
        self.assertEqual(job.status, JobStatus.FAILED)
        self.assertEqual(AttendanceEvent.objects.count(), 0)
        page = self.client.get(reverse("imports:job", args=[job.pk]))
        self.assertContains(page, "school belongs to another district")
        self.assertContains(page, "Nothing was written")

    def test_it_hides_other_districts_jobs(self) -> None:
        self.login(self.dana)
        self.post(lake_zip())
        job = Job.objects.get(kind="import.edfi")

        self.login(self.nina)

        self.assertEqual(self.client.get(reverse("imports:job", args=[job.pk])).status_code, 404)

    def test_it_refuses_a_file_of_the_wrong_kind(self) -> None:
        self.login(self.dana)

        response = self.post(SimpleUploadedFile("roster.csv", b"a,b\n"), kind="oneroster")

        self.assertContains(response, "Expected one of: .zip")
        self.assertFalse(Job.objects.exists())

    def test_it_imports_a_sis_export_through_a_profile(self) -> None:
        self.login(self.dana)
        export = (
            "Student_Number,SchoolID,Att_Date,Att_Code,Att_Comment,Att_Mode_Code\n"
            "S1,100001,09/15/2025,A,,ATT_ModeDaily\n"
        )

        self.post(SimpleUploadedFile("att.csv", export.encode()), kind="csv", profile="powerschool")

        job = Job.objects.get(kind="import.sis_csv")
        self.assertEqual(job.status, JobStatus.SUCCEEDED, job.errors)
        self.assertEqual(AttendanceEvent.objects.get().student, self.ada)

    def test_it_polls_with_htmx_while_running(self) -> None:
        self.login(self.dana)
        self.post(lake_zip())
        job = Job.objects.get(kind="import.edfi")
        Job.objects.filter(pk=job.pk).update(status=JobStatus.RUNNING)

        response = self.client.get(reverse("imports:job", args=[job.pk]), HTTP_HX_REQUEST="true")

        self.assertContains(response, 'hx-trigger="every 2s"')
        self.assertNotContains(response, "<html")
