"""Running a staged import as a Job: check, refuse or write, audit, report.

Every importer ends here, so all-or-nothing, `--skip-invalid`, the summary line, the Job's
counts/errors and the one ChangeLog row per run behave the same for every format.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.db import transaction

from attend.audit.actions import record_change
from attend.jobs.actions import (
    assign_district,
    create_job,
    fail_job,
    finish_job,
    report_progress,
    start_job,
)
from attend.jobs.models import Job
from attend.roster.importers.batch import Batch
from attend.roster.importers.checks import (
    check_deletions,
    check_district,
    check_references,
    check_replace,
    infer_schools,
    note_non_school_days,
    note_outside_enrollment,
    resolve_district,
)
from attend.roster.importers.common import ImportFailed, Tally, summary_line
from attend.roster.importers.writer import Written, write_batch
from attend.roster.models import District

if TYPE_CHECKING:
    from attend.accounts.models import User

Reader = Callable[[Batch, Callable[[str], None]], None]


@dataclass
class ImportResult:
    """What one run did; `summary()` is the line every run prints."""

    job: Job
    written: bool = False
    tally: Tally = field(default_factory=Tally)
    kinds: dict[str, dict[str, int]] = field(default_factory=dict)
    corrections: int = 0
    deleted: int = 0
    error_count: int = 0
    errors: list[str] = field(default_factory=list)
    quality: list[str] = field(default_factory=list)
    quality_kinds: dict[str, int] = field(default_factory=dict)

    def summary(self) -> str:
        return summary_line(self.tally, self.error_count)

    @property
    def changed_nothing(self) -> bool:
        return self.tally.created == 0 and self.tally.updated == 0

    def counts(self) -> dict[str, Any]:
        """The Job's `counts`: totals, per kind, corrections and the data-quality report."""
        return {
            **self.tally.as_dict(),
            "errors": self.error_count,
            "corrections": self.corrections,
            "deleted": self.deleted,
            "by_kind": self.kinds,
            "quality": {"kinds": self.quality_kinds, "items": self.quality},
        }


def open_job(
    *, kind: str, title: str, by: User | None, job: Job | None, params: dict[str, Any]
) -> Job:
    if job is None:
        job = create_job(kind=kind, title=title[:200], created_by=by, params=params)
    start_job(job=job)
    return job


def run_import(
    *,
    job: Job,
    by: User | None,
    batch: Batch,
    reader: Reader,
    skip_invalid: bool,
    district: District | None = None,
) -> ImportResult:
    """Read, check, then write everything in one transaction — or nothing.

    1. The reader stages every record; unreadable ones become problems.
    2. References are checked across the batch and the database; events on non-school days
       are noted for the data-quality report.
    3. With problems and without `skip_invalid`, the Job fails listing them and
       `ImportFailed` is raised: nothing was written.
    4. Otherwise the batch is written and audited in one transaction, and the Job succeeds.
    """
    result = ImportResult(job=job)
    try:
        reader(batch, lambda line: report_progress(job=job, done=0, line=line))
        district = _prepare(batch, district)
        if district is not None and district.pk is not None:  # an existing district
            assign_district(job=job, district=district)
        _collect(result, batch)
        if result.error_count and not skip_invalid:
            fail_job(job=job, reason=result.summary(), errors=result.errors)
            raise ImportFailed(result)
        assert district is not None
        _write(result, batch, district, by)
    except ImportFailed:
        raise
    except Exception as crash:
        # Whatever stopped it (a reader, the database mid-write), the transaction rolled back
        # and the Job must say so rather than stay "running".
        fail_job(job=job, reason=f"import stopped: {type(crash).__name__}: {crash}"[:300])
        raise
    if district.pk is not None:  # a district this import created has its row only now
        assign_district(job=job, district=district)
    finish_job(job=job, counts=result.counts(), errors=result.errors)
    return result


def _prepare(batch: Batch, pinned: District | None) -> Any:
    infer_schools(batch)
    if pinned is not None:
        check_district(batch, pinned)
    district = pinned or resolve_district(batch)
    if district is None and batch.record_count():
        batch.problems.add("(import)", "", "", "", "cannot tell which district this data is for")
    elif district is None and not len(batch.problems):
        batch.problems.add("(import)", "", "", "", "no records to import")
    check_references(batch)
    check_deletions(batch)
    check_replace(batch)
    note_non_school_days(batch)
    note_outside_enrollment(batch)
    return district


def _collect(result: ImportResult, batch: Batch) -> None:
    problems = batch.problems
    result.error_count = len(problems)
    result.errors = problems.lines()
    result.quality = problems.quality_lines()
    result.quality_kinds = dict(problems.quality_kinds)


def _write(result: ImportResult, batch: Batch, district: Any, by: User | None) -> None:
    say = lambda line: report_progress(job=result.job, done=0, line=line)  # noqa: E731
    with transaction.atomic():
        written = write_batch(batch, district=district, progress=say)
        _fill(result, written)
        record_change(
            actor=by, action=f"{result.job.kind}.run", target=result.job, data=result.counts()
        )


def _fill(result: ImportResult, written: Written) -> None:
    result.written = True
    result.tally = written.total
    result.kinds = {kind: tally.as_dict() for kind, tally in written.kinds.items()}
    result.corrections = written.corrections
    result.deleted = written.deleted
