"""End to end on a small generated district: train → score → card; no leakage; baselines."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pytest

from attend.insights.risk import Lake, Options, read_lake, score_date, scoring_frame, train_run
from attend.insights.risk.features import scoring_frame_sql
from attend.insights.risk.store import load

AS_OF = dt.date(2026, 6, 29)


@pytest.fixture(scope="module")
def district(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from attend.roster.generate import generate

    out = tmp_path_factory.mktemp("risk") / "lake"
    generate(
        students=800,
        seed=11,
        out=out,
        fmt="parquet",
        as_of=AS_OF,
        schools=None,
        progress=lambda done, total: None,
    )
    return out


@pytest.fixture(scope="module")
def lake(district: Path) -> Lake:
    return read_lake(district)


@pytest.fixture(scope="module")
def run_dir(district: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    models = tmp_path_factory.mktemp("models")
    return train_run(district, models, options=Options(bowers_csv=None))


def test_it_trains_with_baselines_and_writes_the_card(run_dir: Path) -> None:
    run = load(run_dir)
    assert set(run["metrics"]["at_k"]) == {"model", "logistic", "chronic_so_far", "triggers"}
    for point in run["metrics"]["at_k"].values():
        assert 0 <= point["precision"] <= 1 and point["flagged"] > 0
    assert set(run["metrics"]["lift"]) == {"logistic", "chronic_so_far", "triggers"}
    assert 0 <= run["metrics"]["brier"] < 0.25
    assert {row["attribute"] for row in run["fairness"]} >= {"sex", "race/ethnicity"}
    card = (run_dir / "card.md").read_text()
    for heading in (
        "## Data window",
        "## Label",
        "## Features",
        "## Calibration",
        "## Fairness at the same k",
        "## Known limits",
    ):
        assert heading in card
    assert (run_dir / "pr.svg").read_text().startswith("<svg")
    assert "<table>" in (run_dir / "card.html").read_text()
    # Train dates end before the test dates start (rolling, never random).
    assert run["metrics"]["dates"]["train"][1] < run["metrics"]["dates"]["test"][0]


def test_it_scores_flags_and_explains(district: Path, run_dir: Path) -> None:
    scored = score_date(district, run_dir, dt.date(2026, 3, 2))
    assert list(scored.columns) == [
        "student_id",
        "school_id",
        "score",
        "rank",
        "rank_school",
        "flagged",
        "reasons",
        "reason_list",
    ]
    flagged = scored[scored["flagged"]]
    assert 0 < len(flagged) <= 0.05 * len(scored) + 1
    assert (flagged["reasons"].str.len() > 0).all()
    # Every reason carries the days behind it (at most ten, none after the as-of date).
    for reasons in flagged["reason_list"]:
        assert 1 <= len(reasons) <= 3
        for reason in reasons:
            assert reason["text"] and len(reason["days"]) <= 10
            assert all("2025-07-01" <= day <= "2026-03-02" for day in reason["days"])
    assert any(reason["days"] for reasons in flagged["reason_list"] for reason in reasons)
    assert scored.groupby("school_id")["rank_school"].min().eq(1).all()
    text = " ".join(flagged["reasons"]).lower()
    for word in ("female", "male", "race", "hispanic", "learner", "disab", "econom"):
        assert word not in text


def _with_later_records(lake: Lake, d: pd.Timestamp) -> Lake:
    """Add absences recorded on or after d, dated before and after d (new and corrections)."""
    events = lake.events
    before = events[events["date"] < d].head(300).copy()
    before["category"] = "Unexcused Absence"
    before["recorded_at"] = d + pd.Timedelta(hours=9)
    after = events[events["date"] >= d].head(300).copy()
    section = lake.section_events.head(200).copy()
    section["recorded_at"] = d + pd.Timedelta(days=2)
    return Lake(
        school_days=lake.school_days,
        enrollments=lake.enrollments,
        events=pd.concat([events[events["date"] < d], before, after], ignore_index=True),
        section_events=pd.concat([lake.section_events, section], ignore_index=True),
        students=lake.students,
    )


def test_it_does_not_leak_records_made_after_d(lake: Lake) -> None:
    as_of = dt.date(2026, 1, 14)
    d = pd.Timestamp(as_of) + pd.Timedelta(days=1)
    known = Lake(
        school_days=lake.school_days,
        enrollments=lake.enrollments,
        events=lake.events[lake.events["recorded_at"] < d],
        section_events=lake.section_events[lake.section_events["recorded_at"] < d],
        students=lake.students,
    )
    for build in (scoring_frame, scoring_frame_sql):
        first = build(known, as_of)
        second = build(_with_later_records(known, d), as_of)
        pd.testing.assert_frame_equal(first, second)
        assert first["abs_ytd"].sum() > 0


def test_it_tiles_a_district_for_the_scoring_benchmark(lake: Lake) -> None:
    from bench.bench_risk import tile

    big = tile(lake, 2 * len(lake.students))
    assert big.students["student_id"].nunique() == 2 * len(lake.students)
    assert len(big.events) == 2 * len(lake.events)
    scored = scoring_frame(big, dt.date(2025, 10, 1))
    assert (
        scored["student_id"].nunique()
        == 2 * scoring_frame(lake, dt.date(2025, 10, 1))["student_id"].nunique()
    )
