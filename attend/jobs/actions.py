"""Job lifecycle. Each transition is its own short transaction so progress is visible live."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.utils import timezone

from attend.audit.actions import record_change
from attend.jobs.choices import TERMINAL, JobStatus, ScheduleKind
from attend.jobs.models import Job, JobTransition, Schedule

if TYPE_CHECKING:
    from attend.accounts.models import User
    from attend.roster.models import District


def _move(job: Job, to: JobStatus, note: str = "") -> None:
    if job.status in TERMINAL:
        raise ValueError(f"job {job.pk} is already {job.status}")
    JobTransition.objects.create(job=job, from_status=job.status, to_status=to, note=note[:300])
    job.status = to


@transaction.atomic
def create_job(
    *,
    kind: str,
    title: str,
    created_by: User | None,
    params: dict[str, Any] | None = None,
    district: District | None = None,
) -> Job:
    job = Job.objects.create(
        kind=kind, title=title, created_by=created_by, params=params or {}, district=district
    )
    JobTransition.objects.create(job=job, to_status=JobStatus.QUEUED)
    record_change(actor=created_by, action="job.create", target=job, data={"kind": kind})
    return job


@transaction.atomic
def start_job(*, job: Job, total: int = 0) -> None:
    _move(job, JobStatus.RUNNING)
    job.started_at = timezone.now()
    job.progress_total = total
    job.save(update_fields=["status", "started_at", "progress_total"])


def report_progress(*, job: Job, done: int, total: int | None = None, line: str = "") -> None:
    """Progress is a plain UPDATE outside any transaction, so watchers see it at once."""
    fields: dict[str, Any] = {"progress_done": done}
    if total is not None:
        fields["progress_total"] = total
    Job.objects.filter(pk=job.pk).update(**fields)
    if line:
        job.log += line.rstrip() + "\n"
        Job.objects.filter(pk=job.pk).update(log=job.log)


@transaction.atomic
def finish_job(*, job: Job, counts: dict[str, Any], errors: list[str] | None = None) -> None:
    _move(job, JobStatus.SUCCEEDED)
    job.finished_at = timezone.now()
    job.counts, job.errors = counts, errors or []
    job.save(update_fields=["status", "finished_at", "counts", "errors"])


@transaction.atomic
def fail_job(*, job: Job, reason: str, errors: list[str] | None = None) -> None:
    _move(job, JobStatus.FAILED, note=reason)
    job.finished_at = timezone.now()
    job.errors = errors or [reason]
    job.save(update_fields=["status", "finished_at", "errors"])


@contextmanager
def running_job(
    *,
    kind: str,
    title: str,
    created_by: User | None,
    params: dict[str, Any] | None = None,
    total: int = 0,
    district: District | None = None,
) -> Iterator[Job]:
    """Create and start a Job; if the body raises, fail the job with the reason and re-raise.
    The body finishes the job itself (`finish_job`) with its counts."""
    job = create_job(
        kind=kind, title=title, created_by=created_by, params=params, district=district
    )
    start_job(job=job, total=total)
    try:
        yield job
    except BaseException as error:
        # KeyboardInterrupt and SystemExit too: a stopped worker must not leave "running".
        job.refresh_from_db(fields=["status"])
        if job.status not in TERMINAL:
            fail_job(job=job, reason=f"{type(error).__name__}: {error}"[:300])
        raise


# -- schedules: deadline rows that `attend worker` claims -----------------------------------


def parse_time_of_day(text: str) -> dt.time:
    """'02:00' → 02:00; a clear error for anything else (the value comes from the environment)."""
    try:
        hours, minutes = (int(part) for part in text.strip().split(":"))
        return dt.time(hours, minutes)
    except ValueError:
        raise ValueError(f"ATTEND_NIGHTLY_AT={text!r}: expected a local time as HH:MM") from None


def next_run(at_time: dt.time, after: dt.datetime) -> dt.datetime:
    """The first local `at_time` strictly after `after` (an aware datetime)."""
    zone = timezone.get_current_timezone()
    day = timezone.localtime(after, zone).date()
    while True:
        candidate = timezone.make_aware(dt.datetime.combine(day, at_time), zone)
        if candidate > after:
            return candidate
        day += dt.timedelta(days=1)


@transaction.atomic
def ensure_schedule(*, kind: ScheduleKind, at_time: dt.time, now: dt.datetime) -> Schedule:
    """The row for `kind`, created on first start; a changed time of day moves the deadline."""
    row, created = Schedule.objects.select_for_update().get_or_create(
        kind=kind, defaults={"at_time": at_time, "next_run_at": next_run(at_time, now)}
    )
    if created or row.at_time == at_time:
        return row
    before = row.at_time
    row.at_time, row.next_run_at = at_time, next_run(at_time, now)
    row.save(update_fields=["at_time", "next_run_at"])
    record_change(
        actor=None,
        action="schedule.retime",
        target=row,
        data={"from": before.isoformat(), "to": at_time.isoformat()},
    )
    return row


def claim_due(*, kind: ScheduleKind, now: dt.datetime) -> dt.datetime | None:
    """Claim `kind` if its deadline has passed and return that deadline (what the run is
    for), else None. The UPDATE only matches the deadline this worker read, so of two workers
    exactly one wins. Nights missed while no worker ran are run once, late, not once each."""
    due = (
        Schedule.objects.filter(kind=kind, next_run_at__lte=now)
        .values_list("next_run_at", "at_time")
        .first()
    )
    if due is None:
        return None
    deadline, at_time = due
    claimed = Schedule.objects.filter(kind=kind, next_run_at=deadline).update(
        next_run_at=next_run(at_time, now), last_run_at=now
    )
    return deadline if claimed else None


def record_schedule_job(*, kind: ScheduleKind, job: Job) -> None:
    Schedule.objects.filter(kind=kind).update(last_job=job)


def assign_district(*, job: Job, district: District) -> None:
    """Record whose data a job touched once that is known (an import learns it from its
    files); a job already assigned keeps its district."""
    Job.objects.filter(pk=job.pk, district__isnull=True).update(district=district)
    job.district = job.district or district
