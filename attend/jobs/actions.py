"""Job lifecycle. Each transition is its own short transaction so progress is visible live."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.utils import timezone

from attend.audit.actions import record_change
from attend.jobs.choices import TERMINAL, JobStatus
from attend.jobs.models import Job, JobTransition

if TYPE_CHECKING:
    from attend.accounts.models import User


def _move(job: Job, to: JobStatus, note: str = "") -> None:
    if job.status in TERMINAL:
        raise ValueError(f"job {job.pk} is already {job.status}")
    JobTransition.objects.create(job=job, from_status=job.status, to_status=to, note=note[:300])
    job.status = to


@transaction.atomic
def create_job(
    *, kind: str, title: str, created_by: User | None, params: dict[str, Any] | None = None
) -> Job:
    job = Job.objects.create(kind=kind, title=title, created_by=created_by, params=params or {})
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
