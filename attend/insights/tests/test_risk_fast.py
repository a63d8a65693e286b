"""The one-date scoring path (`risk/fast.py`) gives the training features' exact values, and
its reasons (TreeSHAP contributions, evidence days) stay faithful to the model and the record."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from attend.insights.risk import features
from attend.insights.risk.features import Lake, scoring_frame, scoring_frame_sql, training_frame
from attend.insights.risk.reasons import top_families
from attend.insights.risk.score import load_booster, score_frame
from attend.insights.risk.store import load
from attend.insights.risk.testing import district_lake, trained_run

DATES = [dt.date(2025, 9, 19), dt.date(2025, 12, 3), dt.date(2026, 3, 2), dt.date(2026, 6, 29)]


@pytest.fixture(scope="module")
def lake() -> Lake:
    return district_lake()


def _assert_same(fast: pd.DataFrame, reference: pd.DataFrame) -> None:
    assert list(fast.columns) == list(reference.columns)
    assert len(fast) == len(reference)
    for column in fast.columns:
        mine, theirs = fast[column], reference[column]
        if mine.dtype.kind in "fc":
            assert np.allclose(mine, theirs.astype(float), rtol=1e-12, equal_nan=True), column
        else:
            assert (mine.astype(str) == theirs.astype(str)).all(), column


@pytest.mark.parametrize("as_of", DATES)
def test_it_builds_the_same_features_as_the_training_sql(lake: Lake, as_of: dt.date) -> None:
    fast = scoring_frame(lake, as_of)
    _assert_same(fast, scoring_frame_sql(lake, as_of))
    assert fast["abs_ytd"].sum() > 0 and fast["current_streak"].max() > 0


def test_it_matches_the_training_examples_of_the_same_day(lake: Lake) -> None:
    """Scoring as of a Wednesday predicts for Thursday d; a training example on that Thursday
    has nb = the Wednesday's index: the same student-schools, the same values."""
    frame = training_frame(lake, step=1, first=2)
    as_of = dt.date(2026, 2, 11)
    d = pd.Timestamp(as_of + dt.timedelta(days=1))
    train_rows = frame[frame["d"] == d].set_index(["student_id", "school_id"])
    scored = scoring_frame(lake, as_of).set_index(["student_id", "school_id"])
    sample = train_rows.index[:: max(1, len(train_rows) // 300)]
    assert len(sample) > 100
    scored = scored.loc[sample]
    for column in [*features.FEATURES, "nb", "chronic_known"]:
        mine, theirs = scored[column].to_numpy(dtype=float), train_rows.loc[sample, column]
        assert np.allclose(mine, theirs.to_numpy(dtype=float), rtol=1e-12), column


def test_it_does_not_depend_on_the_order_of_the_records(lake: Lake) -> None:
    shuffled = Lake(
        school_days=lake.school_days.sample(frac=1, random_state=1),
        enrollments=lake.enrollments.sample(frac=1, random_state=2),
        events=lake.events.sample(frac=1, random_state=3),
        section_events=lake.section_events.sample(frac=1, random_state=4),
        students=lake.students.sample(frac=1, random_state=5),
    )
    as_of = dt.date(2026, 1, 14)
    _assert_same(scoring_frame(shuffled, as_of), scoring_frame(lake, as_of))


def test_it_gives_each_reason_the_days_behind_it(lake: Lake) -> None:
    as_of = dt.date(2026, 3, 2)
    asof = features.scoring(lake, as_of)
    frame = asof.frame
    rows = np.flatnonzero((frame["abs_20"] >= 2).to_numpy())[:50]
    families = [["recent", "ytd", "streak", "weekday", "mobility"] for _ in rows]
    found = asof.evidence(rows, families)
    events = lake.events.assign(day=lake.events["date"].dt.strftime("%Y-%m-%d"))
    absences = events[events["category"].str.contains("Absence|Partial")]
    for row, (recent, ytd, streak, weekday, mobility) in zip(rows, found, strict=True):
        student = frame.iloc[row]
        mine = absences[
            (absences["student_id"] == student["student_id"])
            & (absences["school_id"] == student["school_id"])
        ]
        assert set(recent) <= set(mine["day"]) and len(recent) <= 10
        assert bool(recent) == (student["abs_20"] > 0)
        assert all(day <= as_of.isoformat() for day in ytd)
        assert set(streak) <= set(mine["day"])
        assert all(pd.Timestamp(day).day_of_week in (0, 4) for day in weekday)
        assert len(mobility) == 1


def test_it_explains_the_flagged_with_contributions_that_sum_to_the_score(lake: Lake) -> None:
    folder = trained_run()
    run, booster = load(folder), load_booster(folder)
    frame = scoring_frame(lake, dt.date(2026, 3, 2))
    columns = run["columns"]
    raw = booster.predict(frame[columns], raw_score=True)
    scored = score_frame(frame, booster, run)
    flagged = scored[scored["flagged"]]
    assert len(flagged) and flagged["reasons"].str.len().gt(0).all()
    # The reasons are TreeSHAP's largest families for exactly those rows.
    positions = [
        int(
            np.flatnonzero(
                (frame["student_id"] == row.student_id).to_numpy()
                & (frame["school_id"] == row.school_id).to_numpy()
            )[0]
        )
        for row in flagged.head(50).itertuples()
    ]
    shap = booster.predict(frame.iloc[positions][columns], pred_contrib=True)
    assert np.allclose(shap.sum(axis=1), raw[positions])
    leading = [names[0] for names in top_families(shap, columns)]
    stored = [reasons[0]["family"] for reasons in flagged.head(50)["reason_list"]]
    assert stored == leading
