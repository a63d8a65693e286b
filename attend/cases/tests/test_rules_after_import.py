"""The state truancy rules follow the data: after an import (only the students it changed) and
after an insights run, as a Job; an unattended run opens the case for the caseload officer."""

from __future__ import annotations

import datetime as dt
from io import StringIO
from pathlib import Path
from unittest import mock

import pytest
from django.core.management import call_command
from django.utils import timezone

from attend.attendance.models import AttendanceEvent
from attend.cases import actions
from attend.cases.models import Case
from attend.jobs.models import Job
from attend.roster.actions import import_edfi
from attend.roster.tests.lake_fixture import write_lake
from attend.test import BaseTestCase

AS_OF = dt.date(2025, 9, 30)


class RulesJobTests(BaseTestCase):
    @classmethod
    def setUpTestData(cls) -> None:
        super().setUpTestData()
        cls.make_calendar(cls.lincoln, dt.date(2025, 9, 1), 60)
        for student, days in ((cls.ada, (3, 10, 17, 24)), (cls.ben, (3, 4, 5, 8))):
            for day in days:
                AttendanceEvent.objects.create(
                    student=student,
                    school=cls.lincoln,
                    event_date=dt.date(2025, 9, day),
                    category="unexcused",
                )

    def test_it_opens_the_case_for_the_caseload_officer_when_nobody_ran_it(self) -> None:
        job = actions.run_rules_job(as_of=AS_OF, why="nightly import")
        self.assertEqual((job.kind, job.status), ("cases.rules", "succeeded"))
        self.assertEqual(job.counts["students"], 2)
        case = Case.objects.get(student=self.ada)
        self.assertEqual(case.owner, self.olivia)  # Ada is on Olivia's caseload
        self.assertIsNone(case.transitions.get().by)  # opened by the system, and says so
        self.assertGreater(case.legal_steps.filter(status="due").count(), 0)
        self.assertEqual(job.counts["created"], case.legal_steps.count())
        # Ben reached the same classification but is on nobody's caseload: no owner, no case.
        self.assertFalse(Case.objects.filter(student=self.ben).exists())

    def test_it_gives_an_unowned_student_to_the_user_who_imported(self) -> None:
        actions.run_rules_job(as_of=AS_OF, by=self.sam)
        self.assertEqual(Case.objects.get(student=self.ben).owner, self.sam)
        self.assertEqual(Case.objects.get(student=self.ada).owner, self.olivia)

    def test_it_checks_only_the_students_an_import_changed(self) -> None:
        since = timezone.now()
        AttendanceEvent.objects.create(
            student=self.ben, school=self.lincoln, event_date=dt.date(2025, 9, 9), category="tardy"
        )
        job = actions.run_rules_job(as_of=AS_OF, since=since)
        self.assertEqual(job.counts["students"], 1)
        self.assertFalse(Case.objects.filter(student=self.ada).exists())

    def test_it_runs_after_an_insights_run_unless_told_not_to(self) -> None:
        with mock.patch("attend.insights.services.run_app_mode") as run:
            run.return_value = mock.Mock(students=2, job_id=1, pk=7)
            out = StringIO()
            call_command("insights", "run", "--as-of", AS_OF.isoformat(), stdout=out)
            self.assertIn("truancy rules: 2 students checked", out.getvalue())
            call_command("insights", "run", "--as-of", AS_OF.isoformat(), "--no-rules")
        self.assertEqual(Job.objects.filter(kind="cases.rules").count(), 1)


@pytest.mark.django_db
def test_it_runs_the_rules_after_an_import_from_the_shell(tmp_path: Path) -> None:
    lake = write_lake(tmp_path / "lake")
    out = StringIO()
    with mock.patch("django.utils.timezone.localdate", return_value=dt.date(2025, 9, 30)):
        call_command("import", "edfi", str(lake), stdout=out)
        again = StringIO()
        call_command("import", "edfi", str(lake), stdout=again)  # nothing changed: no rules
    job = Job.objects.get(kind="cases.rules")
    lines = out.getvalue().splitlines()
    assert lines[-2].startswith("truancy rules: ") and lines[-2].endswith(f"(job {job.pk})")
    assert lines[-1].startswith("created ")  # the import's summary line stays the last one
    assert job.counts["students"] > 0
    assert "truancy rules" not in again.getvalue()


@pytest.mark.django_db
def test_it_skips_the_rules_when_asked(tmp_path: Path) -> None:
    call_command(
        "import", "edfi", str(write_lake(tmp_path / "lake")), "--no-rules", stdout=StringIO()
    )
    assert not Job.objects.filter(kind="cases.rules").exists()


def test_import_edfi_itself_never_runs_the_rules(tmp_path: Path, db: None) -> None:
    """The action is the import alone (the benchmark measures it); callers add the rules."""
    import_edfi(path=write_lake(tmp_path / "lake"), by=None)
    assert not Job.objects.filter(kind="cases.rules").exists()
