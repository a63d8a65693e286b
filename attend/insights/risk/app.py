"""App mode: the risk model on the database — nightly scores as a Job, versions from runs.

The features read the same normalised tables as lake mode (`app_source.database_input`),
restricted to one district, so a score in the app and a score from `--edfi` agree.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from attend.insights import actions
from attend.insights.choices import ModelStatus
from attend.insights.models import ModelVersion
from attend.jobs import actions as jobs
from attend.lib.dates import school_year_bounds, school_year_of
from attend.roster.models import District, School, Student

from . import store
from .features import Lake
from .pipeline import score_lake

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

    1. A Job row. 2. Read the district's year from the database. 3. Per active version:
    features, scores, ranks, reasons with their days. 4. Store scores and flags (one action).
    """
    versions = active_versions(district)
    if not versions:
        raise actions.RiskError(
            f"{district.name} has no active risk model: train one and activate it first."
        )
    job = jobs.create_job(
        kind="risk_score",
        title=f"Risk scores as of {as_of} ({district.name})",
        created_by=by,
        params={"as_of": as_of.isoformat(), "district": district.lea_id},
    )
    jobs.start_job(job=job, total=1 + 2 * len(versions))
    try:
        counts = _score_versions(job, district, as_of, versions, by)
    except Exception as error:
        jobs.fail_job(job=job, reason=f"{type(error).__name__}: {error}")
        raise
    jobs.finish_job(job=job, counts=counts)
    return job


def _score_versions(
    job: Job, district: District, as_of: dt.date, versions: list[ModelVersion], by: User | None
) -> dict[str, Any]:
    lake = district_lake(district, as_of)
    done = 1
    jobs.report_progress(job=job, done=done, line=f"read {len(lake.enrollments):,} enrollments")
    counts: dict[str, Any] = {}
    for version in versions:
        scored = score_lake(lake, Path(version.folder), as_of, share=version.share)
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
