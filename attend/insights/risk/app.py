"""App mode: the risk model on the database — training, reports and nightly scores as Job
rows, versions from runs.

The features read the same normalised tables as lake mode (`app_source.database_input`),
restricted to one district, so a score in the app and a score from `--edfi` agree. One
difference, on purpose: the app flags each school's top k from the district's capacity
settings (`capacity.school_k`), where lake mode and validation take a district-wide share.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from attend.insights import actions
from attend.insights.choices import ModelStatus
from attend.insights.models import ModelVersion
from attend.insights.queries import district_capacity
from attend.jobs import actions as jobs
from attend.lib.dates import school_year_bounds, school_year_of
from attend.roster.models import District, School, Student

from . import store
from .features import Lake
from .pipeline import TRAIN_STAGES, Options, Step, headline, score_lake, train_run

if TYPE_CHECKING:
    from attend.accounts.models import User
    from attend.jobs.models import Job


def district_lake(district: District, as_of: dt.date) -> Lake:
    """The district's school year up to `as_of`, as the risk features' input tables."""
    from attend.insights.app_source import database_input

    year = school_year_of(as_of)
    start, _ = school_year_bounds(year)
    tables = database_input(year, start, as_of)
    schools = set(School.objects.filter(district=district).values_list("school_id", flat=True))
    students = set(
        Student.objects.filter(district=district).values_list("student_unique_id", flat=True)
    )

    def mine(name: str, by: str, keep: set[str]) -> pd.DataFrame:
        frame: pd.DataFrame = getattr(tables, name).to_pandas()
        return frame[frame[by].astype(str).isin(keep)].reset_index(drop=True)

    return Lake(
        school_days=mine("school_days", "school_id", schools),
        enrollments=mine("enrollments", "school_id", schools),
        events=mine("events", "school_id", schools),
        section_events=mine("section_events", "school_id", schools),
        students=mine("students", "student_id", students),
        known_through=as_of,
    )


def register_run(folder: Path, *, district: District, by: User | None = None) -> ModelVersion:
    """A run folder written by `attend risk train` becomes a (trained) model version."""
    return actions.register_model_version(
        district=district, run=store.load(folder), folder=str(folder), by=by
    )


def score_rows(scored: pd.DataFrame, district: District) -> list[dict[str, Any]]:
    """Scored lake rows → action rows keyed by database ids (unknown ids are dropped)."""
    students = dict(
        Student.objects.filter(district=district).values_list("student_unique_id", "pk")
    )
    schools = dict(School.objects.filter(district=district).values_list("school_id", "pk"))
    student = scored["student_id"].astype(str).map(students)
    school = scored["school_id"].astype(str).map(schools)
    known = (student.notna() & school.notna()).to_numpy()
    columns = zip(
        student[known].astype(int).tolist(),
        school[known].astype(int).tolist(),
        scored["score"][known].astype(float).tolist(),  # NaN (already chronic) → None
        scored["rank"][known].astype(int).tolist(),
        scored["rank_school"][known].astype(int).tolist(),
        scored["flagged"][known].astype(bool).tolist(),
        scored["reason_list"][known].tolist(),
        strict=True,
    )
    return [
        {
            "student": student_pk,
            "school": school_pk,
            "score": None if score != score else score,
            "rank": rank,
            "rank_school": rank_school,
            "selected": selected,
            "reasons": reasons or [],
        }
        for student_pk, school_pk, score, rank, rank_school, selected, reasons in columns
    ]


def active_versions(district: District) -> list[ModelVersion]:
    return list(ModelVersion.objects.filter(district=district, status=ModelStatus.ACTIVE))


def score_district(*, district: District, as_of: dt.date, by: User | None = None) -> Job:
    """`attend risk score` in app mode: a Job that scores every enrolled student under each
    active version and raises the watch-list flags.

    1. A Job row. 2. Read the district's year and capacity settings from the database.
    3. Per active version: features, scores, ranks, each school's top k (capacity, else the
    version's share of the school's students), reasons with their days. 4. Store scores and
    flags (one action).
    """
    versions = active_versions(district)
    if not versions:
        raise actions.RiskError(
            f"{district.name} has no active risk model: train one and activate it first."
        )
    with jobs.running_job(
        kind="risk_score",
        title=f"Risk scores as of {as_of} ({district.name})",
        created_by=by,
        params={"as_of": as_of.isoformat(), "district": district.lea_id},
        total=1 + 2 * len(versions),
        district=district,
    ) as job:
        jobs.finish_job(job=job, counts=_score_versions(job, district, as_of, versions, by))
    return job


def _score_versions(
    job: Job, district: District, as_of: dt.date, versions: list[ModelVersion], by: User | None
) -> dict[str, Any]:
    lake = district_lake(district, as_of)
    capacity = district_capacity(district)
    done = 1
    jobs.report_progress(job=job, done=done, line=f"read {len(lake.enrollments):,} enrollments")
    counts: dict[str, Any] = {}
    for version in versions:
        folder = Path(version.folder)
        scored = score_lake(lake, folder, as_of, share=version.share, capacity=capacity)
        done += 1
        jobs.report_progress(job=job, done=done, line=f"{version.run_id}: scored {len(scored):,}")
        found = actions.store_risk_scores(
            version=version, as_of=as_of, rows=score_rows(scored, district), by=by
        )
        done += 1
        jobs.report_progress(job=job, done=done, line=f"{version.run_id}: {found}")
        for name, value in found.items():
            counts[name] = counts.get(name, 0) + value
    return counts


# --- `attend risk train` and `attend risk report` as Job rows (house style 13) --------------


class JobFailed(Exception):
    """Long work that failed: its Job row is failed with the reason; the cause is chained."""

    def __init__(self, job: Job, error: Exception) -> None:
        super().__init__(f"job {job.pk} failed: {type(error).__name__}: {error}")
        self.job = job


def _fail(job: Job, error: Exception) -> JobFailed:
    jobs.fail_job(job=job, reason=f"{type(error).__name__}: {error}")
    return JobFailed(job, error)


def _steps(job: Job, watch: Step) -> Step:
    """A progress callback that counts each line it hears as one step done."""
    done = 0

    def step(line: str) -> None:
        nonlocal done
        done += 1
        jobs.report_progress(job=job, done=done, line=line)
        watch(line)

    return step


def train_job(
    *,
    edfi: Path,
    models_dir: Path,
    options: Options,
    as_of: dt.date | None = None,
    district: District | None = None,
    by: User | None = None,
    watch: Step = lambda _: None,
) -> tuple[Job, Path, ModelVersion | None]:
    """`attend risk train` as a Job: (job, run folder, the version registered for the
    district or None). Without a district the job has no owner (created_by None).

    1. A Job row, one step per TRAIN_STAGES entry (+1 to register). 2. `train_run`,
    each stage a progress line. 3. Register the run for the district. 4. Counts from the
    run: examples, fold sizes, folds won, fairness flags. A failure fails the Job with
    the reason and raises JobFailed. `watch` hears the progress lines too (a terminal).
    """
    where = district.name if district else "no district"
    job = jobs.create_job(
        kind="risk_train",
        title=f"Risk training on {edfi.name} ({where})",
        created_by=by,
        params={
            "edfi": str(edfi),
            "label": options.label,
            "as_of": as_of.isoformat() if as_of else None,
            "district": district.lea_id if district else None,
        },
        district=district,
    )
    jobs.start_job(job=job, total=len(TRAIN_STAGES) + (1 if district else 0))
    step = _steps(job, watch)
    try:
        folder = train_run(edfi, models_dir, as_of=as_of, options=options, progress=step)
        version = register_run(folder, district=district, by=by) if district else None
    except Exception as error:
        raise _fail(job, error) from error
    if version is not None:
        step(f"registered for {district} as model version {version.pk} (trained)")
    jobs.finish_job(job=job, counts=_train_counts(store.load(folder)))
    return job, folder, version


def _train_counts(run: dict[str, Any]) -> dict[str, Any]:
    from .fairness import flags

    metrics = run["metrics"]
    folds = metrics.get("folds", [])
    return {
        "examples": int(run.get("examples", 0)),
        **{f"{name} examples": size for name, size in metrics.get("sizes", {}).items()},
        "folds": len(folds),
        "folds won": sum(1 for fold in folds if fold.get("beats_all_baselines")),
        "fairness flags": len(flags(run.get("fairness", []))),
    }


def report_job(*, folder: Path, by: User | None = None) -> tuple[Job, list[str]]:
    """`attend risk report` as a Job: (job, the headline lines).

    1. A Job row. 2. Read run.json (a folder without one fails the Job, with the reason).
    3. The headline figures, each a log line. 4. The card's path. Counts as in training.
    A failure fails the Job with the reason and raises JobFailed.
    """
    job = jobs.create_job(
        kind="risk_report",
        title=f"Risk run report for {folder.name}",
        created_by=by,
        params={"run_dir": str(folder)},
    )
    jobs.start_job(job=job, total=3)
    try:
        run, lines = _report(job, folder)
    except Exception as error:
        raise _fail(job, error) from error
    jobs.finish_job(job=job, counts=_train_counts(run))
    return job, lines


def _report(job: Job, folder: Path) -> tuple[dict[str, Any], list[str]]:
    if not (folder / "run.json").is_file():
        raise FileNotFoundError(f"{folder} is not a run folder (no run.json)")
    run = store.load(folder)
    jobs.report_progress(job=job, done=1, line=f"run: {run['run_id']} ({run.get('label')})")
    lines = headline(run)
    jobs.report_progress(job=job, done=2, line="headline: " + "\n".join(lines))
    card = folder / "card.md"
    said = f"card: {card}" if card.is_file() else f"card: missing ({card} not found)"
    jobs.report_progress(job=job, done=3, line=said)
    return run, lines
