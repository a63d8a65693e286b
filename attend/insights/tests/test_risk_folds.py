"""Rolling temporal validation (several folds, earlier → later) and the year-end horizon."""

from __future__ import annotations

import datetime as dt
import itertools

import numpy as np
import pandas as pd
import pytest

from attend.insights.risk import card
from attend.insights.risk.features import Lake, training_frame
from attend.insights.risk.pipeline import known_as_of
from attend.insights.risk.store import load
from attend.insights.risk.testing import district_lake, trained_run
from attend.insights.risk.train import Design, rolling_folds, run


@pytest.fixture(scope="module")
def lake() -> Lake:
    return district_lake()


@pytest.fixture(scope="module")
def frame(lake: Lake) -> pd.DataFrame:
    return training_frame(lake, step=10)


def test_it_rolls_folds_forward_with_a_label_gap() -> None:
    nbs = np.arange(10, 170, 5)
    folds = rolling_folds(nbs, gap=30, n_folds=3)
    assert len(folds) == 3
    for fold in folds:
        assert fold.train_end == fold.test_start - 31  # labels known before the block
        assert fold.test_start <= fold.test_end
    for earlier, later in itertools.pairwise(folds):
        assert earlier.test_end < later.test_start and earlier.train_end < later.train_end
    assert folds[-1].test_end == nbs.max()


def test_it_skips_folds_with_nothing_earlier_to_train_on() -> None:
    assert rolling_folds(np.arange(0, 30), gap=30, n_folds=3) == []
    assert len(rolling_folds(np.arange(0, 40), gap=30, n_folds=3)) == 1  # the last block only
    assert rolling_folds(np.array([], dtype=int), gap=30) == []


def test_it_reports_every_fold_beside_the_baselines() -> None:
    metrics = load(trained_run())["metrics"]
    folds = metrics["folds"]
    assert len(folds) >= 2
    for fold in folds:
        assert fold["train"][1] < fold["test"][0]
        gap = pd.Timestamp(fold["test"][0]) - pd.Timestamp(fold["train"][1])
        assert gap >= pd.Timedelta(days=30)  # 30 school days are more than 30 calendar days
        assert set(fold["at_k"]) == {"model", "logistic", "chronic_so_far", "triggers"}
        assert fold["at_k"]["model"]["flagged"] > 0
    tests = [fold["test"] for fold in folds]
    assert tests == sorted(tests)
    assert "## Rolling validation" in card.markdown(load(trained_run()))


def test_it_knows_year_end_labels_only_when_the_year_is_over(lake: Lake) -> None:
    whole = training_frame(lake, step=10)
    assert whole["label_year_end_complete"].all()
    assert (whole["label_year_end"] >= whole["label"]).all()
    cut = training_frame(known_as_of(lake, dt.date(2026, 2, 2)), step=10)
    assert not cut["label_year_end_complete"].any()
    assert cut["d"].max() <= pd.Timestamp("2026-02-03")
    # A 30-day label is complete only when its 30 school days lie before the cut.
    assert cut.loc[cut["label_complete"], "d"].max() < pd.Timestamp("2025-12-22")
    with pytest.raises(ValueError, match="end of the school year"):
        run(cut, label="label_year_end")


def test_it_splits_students_for_the_year_end_label(frame: pd.DataFrame) -> None:
    design = Design.of("label_year_end", 30)
    learn, judge = design.sides(frame)
    assert not set(learn["student_id"]) & set(judge["student_id"])
    assert abs(len(learn) - len(judge)) < 0.2 * len(frame)
    within = Design.of("label", 30)
    assert within.gap == 30 and not within.disjoint


def test_it_trains_and_documents_a_year_end_model() -> None:
    document = load(trained_run(label="label_year_end"))
    metrics = document["metrics"]
    assert document["label"] == "label_year_end"
    assert metrics["label"] == "label_year_end" and metrics["student_disjoint"]
    assert metrics["base_rate"] > 0 and metrics["at_k"]["model"]["flagged"] > 0
    assert metrics["folds"]
    text = card.markdown(document)
    assert "to the end of the school year" in text and "by student" in text
    assert "Year-end label with one year of data" in text
