"""App mode equals lake mode: the same district, imported or read from files, gives the same
numbers — the importer, the database adapter and the engine agree end to end."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from attend.insights.engine import compute
from attend.insights.models import InsightsRun, PatternFlag, StudentSnapshot
from attend.insights.services import run_app_mode
from attend.roster.actions import import_edfi
from attend.roster.generate import generate

AS_OF = dt.date(2026, 3, 13)
COMPARED = (
    "enrolled_days",
    "absent_days",
    "excused_absent_days",
    "unexcused_absent_days",
    "tardy_days",
    "attendance_rate",
    "eligible",
    "chronic",
    "tier",
    "longest_absence_streak",
    "current_absence_streak",
    "absence_budget",
)


@pytest.fixture(scope="module")
def lake(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("lake") / "district"
    generate(students=300, seed=11, out=folder, fmt="ndjson", as_of=AS_OF)
    return folder


def _key(row: dict[str, object]) -> tuple[object, object]:
    return (row["student_id"], row["school_id"])


@pytest.mark.django_db
def test_it_stores_the_same_metrics_as_lake_mode(lake: Path) -> None:
    import_edfi(path=lake, by=None)
    run = run_app_mode(as_of=AS_OF)
    expected = {_key(r): r for r in compute(source=lake, as_of=AS_OF).metrics.to_pylist()}
    stored = StudentSnapshot.objects.filter(run=run).values(
        "student__student_unique_id", "school__school_id", *COMPARED
    )
    assert len(stored) == len(expected) > 250
    for row in stored:
        want = expected[(row["student__student_unique_id"], row["school__school_id"])]
        for column in COMPARED:
            got, exp = row[column], want[column]
            if isinstance(exp, float):
                assert got == pytest.approx(exp, abs=1e-9), column
            else:
                assert (got or None) == (exp or None), column
    assert PatternFlag.objects.filter(run=run).exists()
    assert run.job is not None and run.job.status == "succeeded"


@pytest.mark.django_db
def test_it_keeps_history_per_as_of_date(lake: Path) -> None:
    import_edfi(path=lake, by=None)
    run_app_mode(as_of=AS_OF - dt.timedelta(days=7))
    run_app_mode(as_of=AS_OF)
    assert InsightsRun.objects.count() == 2
    student = StudentSnapshot.objects.values_list("student", flat=True).first()
    assert StudentSnapshot.objects.filter(student=student).values("as_of").distinct().count() == 2
