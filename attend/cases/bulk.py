"""Bulk family letters as a Job: the officer approves a list, the machine renders the PDFs.

Each letter is rendered and kept on its own (template@version, language, the exact HTML and
PDF), exactly like `letters.send_letter`; only the work is batched. The HTML is rendered here
(Django templates are cheap); HTML → PDF runs in a `ProcessPoolExecutor` of `workers`
processes that import only `attend.cases.pdfworker`; the database is written by this process,
`BATCH` letters per transaction.
"""

from __future__ import annotations

import hashlib
import multiprocessing
import threading
import time
from collections import defaultdict
from collections.abc import Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from itertools import islice
from statistics import median
from typing import TYPE_CHECKING, Any

from django.db import close_old_connections, connections, transaction

from attend.audit.actions import record_change
from attend.cases import actions, letters, pdfworker
from attend.cases.models import Case, Letter, LetterTemplate
from attend.jobs.actions import create_job, fail_job, finish_job, report_progress, start_job
from attend.jobs.models import Job
from attend.roster.models import Enrollment, Student

if TYPE_CHECKING:
    from attend.accounts.models import User

KIND = "letters.bulk"
BATCH = 100  # letters per database transaction and per progress report
CHUNK = 8  # letters per task sent to a worker process


@dataclass
class Draft:
    student: Student
    html: str
    template: LetterTemplate
    grade: float


# --- job lifecycle ------------------------------------------------------------------------------


def create_bulk_job(*, students: Iterable[Student], by: User, key: str = "supportive") -> Job:
    """The officer's approval: one Job naming exactly the students they selected."""
    ids = [s.pk for s in students]
    return create_job(
        kind=KIND,
        title=f"Letters ({key}) for {len(ids)} famil{'y' if len(ids) == 1 else 'ies'}",
        created_by=by,
        params={"students": ids, "key": key},
    )


def launch(job: Job, workers: int = 2) -> None:
    """Run the job in a daemon thread of this (web) process once the Job row is committed."""

    def start() -> None:
        thread = threading.Thread(
            target=_thread_main, args=(job.pk, workers), name=f"letters-job-{job.pk}", daemon=True
        )
        thread.start()

    transaction.on_commit(start)


def _thread_main(job_pk: int, workers: int) -> None:
    try:
        run_bulk(job=Job.objects.get(pk=job_pk), workers=workers)
    finally:
        connections.close_all()  # this thread's connections only


def run_bulk(*, job: Job, workers: int = 2) -> dict[str, int]:
    """1. Load the approved students; draft every letter's HTML (a few queries in all).
    2. Hand the HTML to the PDF workers; meanwhile open a case for students without one.
    3. Keep each letter as it comes back, `BATCH` per transaction, reporting progress.
    4. Finish the job with counts; a crash fails it with the reason."""
    by = job.created_by
    if by is None:
        fail_job(job=job, reason="The job has no officer to send the letters as.")
        return {}
    try:
        return _run(job, by, workers)
    except Exception as exc:
        close_old_connections()
        fail_job(job=job, reason=f"{type(exc).__name__}: {exc}")
        raise


def _run(job: Job, by: User, workers: int) -> dict[str, int]:
    students = list(
        Student.objects.filter(pk__in=job.params["students"]).select_related(
            "district", "household"
        )
    )
    start_job(job=job, total=len(students))
    clock = _Clock(job)
    cases = _open_cases(students)
    drafts, errors = draft_letters(students, cases, by, job.params.get("key", "supportive"))
    clock.lap(f"drafted {len(drafts)} letters")
    with _Renderer(workers) as render:
        pdfs = render(_chunks([d.html for d in drafts], CHUNK))
        _ensure_cases(drafts, cases, by)
        clock.lap("cases ready")
        kept = _keep(job, drafts, pdfs, cases, by)
        clock.lap(f"kept {kept} letters ({workers or 'no'} PDF workers)")
    counts = {"letters": kept, "refused": len(errors), "students": len(students)}
    finish_job(job=job, counts=counts, errors=errors)
    return counts


class _Clock:
    """Phase timings in the job's log: where a slow run spent its time."""

    def __init__(self, job: Job) -> None:
        self.job, self.started = job, time.perf_counter()

    def lap(self, what: str) -> None:
        line = f"{time.perf_counter() - self.started:7.1f} s  {what}"
        report_progress(job=self.job, done=self.job.progress_done, line=line)


# --- drafting -----------------------------------------------------------------------------------


def _open_cases(students: list[Student]) -> dict[int, Case]:
    found: dict[int, Case] = {}
    open_cases = Case.objects.open().filter(student__in=students).select_related("owner")
    for case in open_cases.order_by("opened_at"):
        found.setdefault(case.student_id, case)
    return found


def draft_letters(
    students: list[Student], cases: dict[int, Case], by: User, key: str
) -> tuple[list[Draft], list[str]]:
    """Render every letter's HTML; a letter over the word limit is refused, not sent."""
    contexts = bulk_contexts(students, cases, by)
    drafts, errors = [], []
    templates: dict[tuple[int, str], LetterTemplate | None] = {}
    for student in students:
        template = _template(templates, student, key)
        if template is None:
            errors.append(f"{student}: no “{key}” template; load the defaults first.")
            continue
        html, score = letters.render_letter(template, contexts[student.pk])
        if score["words"] > letters.MAX_WORDS:
            errors.append(f"{student}: {score['words']} words (limit {letters.MAX_WORDS}).")
            continue
        drafts.append(Draft(student, html, template, score["grade"]))
    return drafts, errors


def _template(
    cache: dict[tuple[int, str], LetterTemplate | None], student: Student, key: str
) -> LetterTemplate | None:
    language = letters.family_language(student)
    slot = (student.district_id, language)
    if slot not in cache:
        cache[slot] = letters.current_template(
            student.district, key, language
        ) or letters.current_template(student.district, key, "eng")
    return cache[slot]


def bulk_contexts(
    students: list[Student], cases: dict[int, Case], by: User
) -> dict[int, dict[str, Any]]:
    """`letters.letter_context` for many students at once (same numbers, a handful of queries):
    each child's absences beside the median of their school and grade."""
    if not students:
        return {}
    year = students[0].district.current_school_year
    places = _places(students, year)
    typical = _typical(set(places.values()), year)
    guardians = _first_guardians(students)
    contexts = {}
    for s in students:
        school, grade, school_name = places.get(s.pk, (0, "", ""))
        owner = cases[s.pk].owner if s.pk in cases else by
        contexts[s.pk] = {
            "first_name": s.first_name,
            "guardian_name": guardians.get(s.pk) or f"family of {s.first_name}",
            "absences": typical[1].get(s.pk, 0),
            "typical": typical[0].get((school, grade, school_name), 0),
            "school": school_name,
            "officer_name": owner.get_full_name() or owner.username,
            "phone": "the school office",
        }
    return contexts


def _places(students: list[Student], year: int) -> dict[int, tuple[int, str, str]]:
    rows = (
        Enrollment.objects.filter(student__in=students, school_year=year)
        .order_by("-entry_date", "-pk")  # the first enrollment wins, as in letter_context
        .values_list("student_id", "school_id", "grade", "school__name")
    )
    return {sid: (school, grade, name) for sid, school, grade, name in rows}


def _typical(
    places: set[tuple[int, str, str]], year: int
) -> tuple[dict[tuple[int, str, str], int], dict[int, int]]:
    """Median absences per (school, grade) over everyone enrolled there, and each count."""
    schools = {p[0] for p in places}
    rows = Enrollment.objects.filter(school_id__in=schools, school_year=year).values_list(
        "student_id", "school_id", "grade", "school__name"
    )
    members: dict[tuple[int, str, str], set[int]] = defaultdict(set)
    for sid, school, grade, name in rows:
        members[(school, grade, name)].add(sid)
    peers = Student.objects.filter(
        enrollments__school_id__in=schools, enrollments__school_year=year
    )
    counts = letters._absence_days(peers.distinct(), year)
    medians = {
        place: int(median(counts.get(sid, 0) for sid in ids)) for place, ids in members.items()
    }
    return medians, counts


def _first_guardians(students: list[Student]) -> dict[int, str]:
    from attend.roster.models import StudentGuardian

    links = StudentGuardian.objects.filter(student__in=students).select_related("guardian")
    first: dict[int, str] = {}
    for link in links.order_by("priority", "pk"):
        first.setdefault(link.student_id, str(link.guardian))
    return first


# --- rendering and keeping ----------------------------------------------------------------------


def _chunks(items: list[str], size: int) -> Iterator[list[str]]:
    it = iter(items)
    while chunk := list(islice(it, size)):
        yield chunk


class _Renderer:
    """A context manager giving `render(chunks) -> iterator of PDFs`, in order.

    workers=0 renders here (tests, the benchmark's reference); otherwise a pool of `spawn`ed
    processes — never `fork` from a web process's thread — each set up once by the initializer.
    """

    def __init__(self, workers: int) -> None:
        self.workers = workers
        self.pool: ProcessPoolExecutor | None = None

    def __enter__(self) -> Any:
        if self.workers:
            self.pool = ProcessPoolExecutor(
                max_workers=self.workers,
                mp_context=multiprocessing.get_context("spawn"),
                initializer=pdfworker.setup,
            )
        return self.render

    def render(self, chunks: Iterator[list[str]]) -> Iterator[bytes]:
        results = (
            self.pool.map(pdfworker.render_batch, chunks)
            if self.pool
            else map(pdfworker.render_batch, chunks)
        )
        return (pdf for batch in results for pdf in batch)

    def __exit__(self, *exc: object) -> None:
        if self.pool is not None:
            self.pool.shutdown(wait=True, cancel_futures=True)


def _ensure_cases(drafts: list[Draft], cases: dict[int, Case], by: User) -> None:
    """Approving a letter for a student on the watch list opens their case, owned by the officer."""
    missing = [d.student for d in drafts if d.student.pk not in cases]
    if missing:
        reason = "Family letter approved from worklist"
        cases.update(actions.open_cases(students=missing, opened_by=by, reason=reason))


def _keep(
    job: Job, drafts: list[Draft], pdfs: Iterator[bytes], cases: dict[int, Case], by: User
) -> int:
    kept, batch = 0, []
    for draft, pdf in zip(drafts, pdfs, strict=True):
        batch.append((draft, pdf))
        if len(batch) == BATCH:
            kept = _saved(job, kept + _save(batch, cases, by))
            batch = []
    if batch:
        kept = _saved(job, kept + _save(batch, cases, by))
    return kept


def _saved(job: Job, kept: int) -> int:
    report_progress(job=job, done=kept)
    job.progress_done = kept
    return kept


@transaction.atomic
def _save(batch: list[tuple[Draft, bytes]], cases: dict[int, Case], by: User) -> int:
    rows = [
        Letter(
            case=cases[d.student.pk],
            template=d.template,
            template_ref=d.template.ref,
            language=d.template.language,
            channel="letter",  # printed and mailed; e-mail stays a per-case action
            html=d.html,
            pdf=pdf,
            pdf_sha256=hashlib.sha256(pdf).hexdigest(),
            created_by=by,
        )
        for d, pdf in batch
    ]
    Letter.objects.bulk_create(rows)
    for letter, (draft, _pdf) in zip(rows, batch, strict=True):
        record_change(
            actor=by,
            action="letter.send",
            target=letter,
            student=draft.student,
            data={
                "template": draft.template.ref,
                "sha256": letter.pdf_sha256,
                "grade": draft.grade,
            },
        )
    return len(rows)
