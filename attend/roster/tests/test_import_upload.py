"""The district admin's upload page: who may use it, an import from the browser, its Job page."""

from __future__ import annotations

import io
import json
import os
import zipfile
from pathlib import Path
from tempfile import TemporaryDirectory
from typing import Any, ClassVar
from unittest import mock

from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings
from django.urls import reverse

from attend.attendance.models import AttendanceEvent
from attend.jobs.choices import JobStatus
from attend.jobs.models import Job
from attend.roster.importers import run as run_module
from attend.roster.importers import views
from attend.roster.tests.lake_fixture import event, write_lake
from attend.test import BaseTestCase

URLS = "attend.roster.tests.import_urls"


def lake_zip(padding: int = 0, extra_events: str = "") -> SimpleUploadedFile:
    """The small lake as a zip; `padding` bytes of incompressible noise in a file the import
    ignores make it as large as wanted, `extra_events` lines are added to the events file."""
    with TemporaryDirectory() as folder:
        lake = write_lake(Path(folder) / "lake")
        if extra_events:
            with (lake / "studentSchoolAttendanceEvents.ndjson").open("a") as handle:
                handle.write(extra_events)
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as archive:
            for file in lake.iterdir():
                archive.write(file, f"lake/{file.name}")
            if padding:
                archive.writestr("lake/README.bin", os.urandom(padding))
    return SimpleUploadedFile("district.zip", buffer.getvalue(), "application/zip")


class Deferred:
    """Stands in for `threading.Thread` in the views: records the thread instead of starting
    it, so a test can check the request returned first, then run the thread's work itself."""

    made: ClassVar[list[Deferred]] = []

    def __init__(self, target: Any, args: tuple[Any, ...], daemon: bool) -> None:
        self.target, self.args, self.daemon, self.started = target, args, daemon, False
        Deferred.made.append(self)

    def start(self) -> None:
        self.started = True

    def run_here(self) -> None:
        # close=False: here the thread's database connection is the test's.
        self.target(*self.args, close=False)


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

    # -- uploads over 1 MB run outside the request ---------------------------------------------

    def post_large(self, upload: SimpleUploadedFile) -> tuple[Any, Deferred]:
        self.assertGreater(upload.size or 0, views.SYNC_BYTES)
        Deferred.made = []
        with mock.patch.object(views.threading, "Thread", Deferred):
            response = self.post(upload)
        self.assertEqual(len(Deferred.made), 1)
        return response, Deferred.made[0]

    def test_it_runs_a_large_upload_in_a_thread_and_shows_progress_and_counts(self) -> None:
        self.login(self.dana)

        response, thread = self.post_large(lake_zip(padding=views.SYNC_BYTES + 100_000))

        job = Job.objects.get(kind="import.edfi")
        url = reverse("imports:job", args=[job.pk])
        self.assertRedirects(response, url)
        # The request returned with the Job queued and its thread started, nothing imported.
        self.assertTrue(thread.started and thread.daemon)
        self.assertEqual(job.status, JobStatus.QUEUED)
        self.assertEqual(AttendanceEvent.objects.count(), 0)
        waiting = self.client.get(url)
        self.assertContains(waiting, 'hx-trigger="every 2s"')
        self.assertContains(waiting, "this page updates by itself")

        seen: list[str] = []
        write_batch = run_module.write_batch

        def watched(*args: Any, **kwargs: Any) -> Any:
            # Mid-run, everything read, nothing written yet: what the page shows now.
            seen.append(self.client.get(url, HTTP_HX_REQUEST="true").content.decode())
            return write_batch(*args, **kwargs)

        with mock.patch.object(run_module, "write_batch", watched):
            thread.run_here()

        self.assertEqual(len(seen), 1)
        self.assertIn('hx-trigger="every 2s"', seen[0])  # still polling while it runs
        self.assertIn("Running", seen[0])
        self.assertIn("read studentSectionAttendanceEvents.ndjson: 1 records", seen[0])
        done = self.client.get(url)
        self.assertNotContains(done, 'hx-trigger="every 2s"')
        self.assertContains(done, "created 82, updated 7, unchanged 1, errors 0")
        self.assertEqual(Job.objects.get(pk=job.pk).status, JobStatus.SUCCEEDED)
        self.assertEqual(AttendanceEvent.objects.count(), 7)

    def test_it_shows_the_problems_of_a_large_upload_that_failed(self) -> None:
        self.login(self.dana)
        bad = json.dumps(event("S99", 100001, "2025-09-03", "Unexcused Absence")) + "\n"

        _, thread = self.post_large(lake_zip(padding=views.SYNC_BYTES + 100_000, extra_events=bad))
        job = Job.objects.get(kind="import.edfi")
        self.assertEqual(job.status, JobStatus.QUEUED)
        thread.run_here()

        page = self.client.get(reverse("imports:job", args=[job.pk]))
        self.assertContains(page, "Nothing was written")
        self.assertContains(
            page, "studentSchoolAttendanceEvents.ndjson:7 studentUniqueId=S99: unknown student"
        )
        self.assertEqual(Job.objects.get(pk=job.pk).status, JobStatus.FAILED)
        self.assertEqual(AttendanceEvent.objects.count(), 0)
