"""The night's work that `attend worker` runs: insights snapshots, truancy rules, risk scores.

Each part keeps its own Job (so /jobs/ shows it as if run by hand); the nightly Job above them
says what ran, for which school day, and what failed. One district's failed risk scoring does
not stop the others, and does not hide behind a green night: its error is on the nightly Job.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone

from attend.jobs import actions as jobs
from attend.jobs.models import Job
from attend.lib.dates import school_year_of

KIND = "nightly"


def night_of(deadline: dt.datetime) -> dt.date:
    """The school day a run at `deadline` is for: the day that most recently ended. At 02:00
    that is yesterday; a district that runs at 20:00 gets the same day."""
    return (timezone.localtime(deadline) - dt.timedelta(hours=12)).date()


def is_school_day(day: dt.date) -> bool:
    """A school day in any imported calendar; with no calendar for that year, any weekday."""
    from attend.roster.models import CalendarDate

    year = CalendarDate.objects.filter(calendar__school_year=school_year_of(day))
    if year.exists():
        return year.filter(date=day, is_school_day=True).exists()
    return day.weekday() < 5


def run_nightly(*, as_of: dt.date) -> Job:
    """1. A nightly Job. 2. Not a school day: finish it saying so. 3. Insights snapshots.
    4. Truancy rules. 5. Risk scores for every district with an active model. 6. Finish with
    counts, and with the errors of any district whose scoring failed."""
    with jobs.running_job(
        kind=KIND,
        title=f"Nightly run for {as_of}",
        created_by=None,
        params={"as_of": as_of.isoformat()},
        total=3,
    ) as job:
        if not is_school_day(as_of):
            jobs.report_progress(job=job, done=3, line=f"{as_of} is not a school day: skipped")
            jobs.finish_job(job=job, counts={"school day": False})
            return job
        counts = _insights_and_rules(job, as_of)
        scored, errors = _risk_scores(job, as_of)
        jobs.finish_job(job=job, counts={"school day": True, **counts, **scored}, errors=errors)
    return job


def _insights_and_rules(job: Job, as_of: dt.date) -> dict[str, Any]:
    from attend.cases.actions import rules_line, run_rules_job
    from attend.insights.services import run_app_mode

    run = run_app_mode(as_of=as_of)
    jobs.report_progress(
        job=job, done=1, line=f"insights: {run.students:,} snapshots (job {run.job_id})"
    )
    rules = run_rules_job(as_of=as_of, why=f"nightly run (job {job.pk})")
    jobs.report_progress(job=job, done=2, line=f"{rules_line(rules.counts)} (job {rules.pk})")
    return {
        "snapshots": run.students,
        "rules steps due": rules.counts.get("created", 0),
        "sent steps flagged": rules.counts.get("flagged", 0),
    }


def _risk_scores(job: Job, as_of: dt.date) -> tuple[dict[str, Any], list[str]]:
    from attend.insights.choices import ModelStatus
    from attend.insights.models import ModelVersion
    from attend.insights.risk.app import score_district
    from attend.roster.models import District

    districts = District.objects.filter(
        pk__in=ModelVersion.objects.filter(status=ModelStatus.ACTIVE).values("district")
    ).order_by("name")
    scored, errors = 0, []
    for district in districts:
        try:
            run = score_district(district=district, as_of=as_of)
        except Exception as error:  # the district's own Job already failed with the detail
            errors.append(f"risk scores for {district.name}: {type(error).__name__}: {error}")
            continue
        scored += 1
        jobs.report_progress(job=job, done=2, line=f"risk: {district.name} (job {run.pk})")
    jobs.report_progress(job=job, done=3)
    return {"districts scored": scored, "districts failed": len(errors)}, errors
