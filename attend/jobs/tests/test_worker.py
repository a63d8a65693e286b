"""`attend worker` and the nightly run: deadlines claimed once, the right school day, every part
a visible Job, one district's failure recorded without stopping the rest."""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path

import pytest
from django.core.management import call_command
from django.test import TestCase, override_settings
from django.utils import timezone

from attend.audit.models import ChangeLog
from attend.insights.choices import ModelStatus
from attend.insights.models import InsightsRun, ModelVersion
from attend.jobs import actions as jobs
from attend.jobs.choices import JobStatus, ScheduleKind
from attend.jobs.models import Job, Schedule
from attend.jobs.nightly import night_of, run_nightly
from attend.roster.actions import import_edfi
from attend.roster.generate import generate
from attend.roster.models import District
from attend.test import BaseTestCase

FRIDAY = dt.date(2026, 3, 13)
NIGHTLY = ScheduleKind.NIGHTLY


def local(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time(hour, minute)))


class ScheduleTests(TestCase):
    def test_the_next_run_is_the_first_time_of_day_strictly_after(self) -> None:
        two = dt.time(2, 0)
        assert jobs.next_run(two, local(FRIDAY, 1)) == local(FRIDAY, 2)
        assert jobs.next_run(two, local(FRIDAY, 2)) == local(FRIDAY + dt.timedelta(days=1), 2)
        # 1 November 2026 ends daylight saving in New York: still 02:00 local, 25 hours apart.
        sunday = dt.date(2026, 11, 1)
        after = jobs.next_run(two, local(sunday - dt.timedelta(days=1), 3))
        assert timezone.localtime(after).time() == two
        assert after.date() == sunday

    def test_a_due_night_is_claimed_by_exactly_one_worker(self) -> None:
        jobs.ensure_schedule(kind=NIGHTLY, at_time=dt.time(2, 0), now=local(FRIDAY, 1))
        assert jobs.claim_due(kind=NIGHTLY, now=local(FRIDAY, 1, 59)) is None
        first = jobs.claim_due(kind=NIGHTLY, now=local(FRIDAY, 2, 1))
        second = jobs.claim_due(kind=NIGHTLY, now=local(FRIDAY, 2, 1))
        assert first == local(FRIDAY, 2) and second is None
        row = Schedule.objects.get(kind=NIGHTLY)
        assert row.next_run_at == local(FRIDAY + dt.timedelta(days=1), 2)

    def test_nights_missed_while_no_worker_ran_run_once(self) -> None:
        jobs.ensure_schedule(kind=NIGHTLY, at_time=dt.time(2, 0), now=local(FRIDAY, 1))
        later = local(FRIDAY + dt.timedelta(days=3), 9)
        assert jobs.claim_due(kind=NIGHTLY, now=later) == local(FRIDAY, 2)
        assert jobs.claim_due(kind=NIGHTLY, now=later) is None

    def test_a_new_time_of_day_moves_the_deadline_and_is_audited(self) -> None:
        jobs.ensure_schedule(kind=NIGHTLY, at_time=dt.time(2, 0), now=local(FRIDAY, 1))
        row = jobs.ensure_schedule(kind=NIGHTLY, at_time=dt.time(4, 30), now=local(FRIDAY, 3))
        assert row.next_run_at == local(FRIDAY, 4, 30)
        assert ChangeLog.objects.filter(action="schedule.retime").count() == 1

    def test_a_bad_time_of_day_is_refused_with_the_setting_named(self) -> None:
        with pytest.raises(ValueError, match="ATTEND_NIGHTLY_AT='2am'"):
            jobs.parse_time_of_day("2am")

    def test_the_night_is_for_the_day_that_last_ended(self) -> None:
        assert night_of(local(FRIDAY + dt.timedelta(days=1), 2)) == FRIDAY
        assert night_of(local(FRIDAY, 20)) == FRIDAY


@pytest.fixture(scope="module")
def lake(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("lake") / "district"
    generate(students=60, seed=5, out=folder, fmt="ndjson", as_of=FRIDAY)
    return folder


@pytest.mark.django_db
def test_a_school_night_runs_insights_rules_and_records_a_failed_district(lake: Path) -> None:
    import_edfi(path=lake, by=None)
    district = District.objects.get()
    # An active model whose files are gone: its scoring fails, the night still finishes.
    ModelVersion.objects.create(
        district=district,
        run_id="gone",
        folder=str(lake / "no-such-model"),
        horizon_days=30,
        share=0.05,
        status=ModelStatus.ACTIVE,
    )
    job = run_nightly(as_of=FRIDAY)
    assert job.status == JobStatus.SUCCEEDED
    run = InsightsRun.objects.get(as_of=FRIDAY)
    assert job.counts["snapshots"] == run.students > 50
    assert job.counts["districts scored"] == 0 and job.counts["districts failed"] == 1
    assert job.errors and job.errors[0].startswith(f"risk scores for {district.name}")
    kinds = set(Job.objects.values_list("kind", "status"))
    assert {("insights", "succeeded"), ("cases.rules", "succeeded"), ("risk_score", "failed")} <= (
        kinds
    )
    log = Job.objects.get(pk=job.pk).log
    assert "insights:" in log and "truancy rules:" in log


@pytest.mark.django_db
def test_a_weekend_night_computes_nothing_and_says_so(lake: Path) -> None:
    import_edfi(path=lake, by=None)
    job = run_nightly(as_of=FRIDAY + dt.timedelta(days=1))
    assert job.status == JobStatus.SUCCEEDED and job.counts == {"school day": False}
    assert not InsightsRun.objects.exists()


@pytest.mark.django_db
def test_the_worker_runs_a_due_night_once_and_records_its_job(lake: Path) -> None:
    import_edfi(path=lake, by=None)
    jobs.ensure_schedule(kind=NIGHTLY, at_time=dt.time(2, 0), now=local(FRIDAY, 1))
    Schedule.objects.update(next_run_at=local(FRIDAY + dt.timedelta(days=1), 2))
    out = io.StringIO()
    with override_settings(ATTEND_NIGHTLY_AT="02:00"):
        call_command("worker", "--once", stdout=out)
        call_command("worker", "--once", stdout=out)
    assert out.getvalue().count(f"nightly run for {FRIDAY}: Succeeded") == 1
    row = Schedule.objects.select_related("last_job").get()
    assert row.last_job is not None and row.last_job.kind == "nightly"
    assert row.next_run_at > timezone.now()


class SchedulePageTests(BaseTestCase):
    def test_the_admin_sees_the_schedule_and_an_officer_does_not(self) -> None:
        jobs.ensure_schedule(kind=NIGHTLY, at_time=dt.time(2, 0), now=timezone.now())
        self.login(self.dana)
        page = self.client.get("/jobs/").content.decode()
        assert "every day at 02:00" in page
        self.login(self.olivia)
        assert "every day at" not in self.client.get("/jobs/").content.decode()

    def test_the_admin_is_told_when_no_worker_has_started(self) -> None:
        self.login(self.dana)
        assert "attend worker" in self.client.get("/jobs/").content.decode()
