"""Small generated districts and trained runs for the risk tests (built once per process).

The generator is deterministic, so every test module sees the same 800 students; building
and training take a few seconds, which is why they are cached rather than rebuilt per test.
"""

from __future__ import annotations

import atexit
import datetime as dt
import functools
import shutil
import tempfile
from pathlib import Path
from typing import Any

from .features import Lake, read_lake

YEAR_END = dt.date(2026, 6, 29)


def _scratch(prefix: str) -> Path:
    folder = Path(tempfile.mkdtemp(prefix=prefix))
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    return folder


@functools.cache
def district_folder(students: int = 800, seed: int = 11) -> Path:
    """A whole generated school year (records known up to the end of June) as Parquet."""
    from attend.roster.generate import generate

    out = _scratch("attend-risk-test-") / "lake"
    generate(
        students=students,
        seed=seed,
        out=out,
        fmt="parquet",
        as_of=YEAR_END,
        schools=None,
        progress=lambda done, total: None,
    )
    return out


def district_lake(students: int = 800, seed: int = 11) -> Lake:
    return read_lake(district_folder(students, seed))


@functools.cache
def trained_run(label: str = "label", step: int = 10) -> Path:
    """A run folder trained on the generated district (no Bowers plot)."""
    from .pipeline import Options, train_run

    models = _scratch("attend-risk-models-")
    options = Options(step=step, label=label, bowers_csv=None)
    return train_run(district_folder(), models, options=options)


def activate_for_cast(cast: Any) -> Any:
    """The test cast's two schools with a year's calendar, and the trained run registered and
    active for the cast's district (by Dana, its admin). Returns the ModelVersion."""
    from attend.insights.actions import change_model_status
    from attend.insights.choices import ModelStatus

    from .app import register_run

    for school in (cast.lincoln, cast.roosevelt):
        cast.make_calendar(school, dt.date(2025, 9, 1), 200)
    version = register_run(trained_run(), district=cast.district, by=cast.dana)
    change_model_status(version=version, to=ModelStatus.ACTIVE, by=cast.dana)
    return version


def record_absences(student: Any, school: Any, days: list[dt.date]) -> None:
    """Unexcused absences on `days`, each recorded at noon that day."""
    from django.utils import timezone

    from attend.attendance.models import AttendanceEvent

    for day in days:
        AttendanceEvent.objects.create(
            student=student,
            school=school,
            event_date=day,
            category="unexcused",
            recorded_at=timezone.make_aware(dt.datetime.combine(day, dt.time(12))),
        )


# Nine school days in the three weeks before the cast's scoring date (2026-03-02).
ADA_NINE_DAYS = [
    day
    for day in (dt.date(2026, 2, 9) + dt.timedelta(days=n) for n in range(21))
    if day.weekday() < 5
][:9]
