"""Reasons are actionable attendance facts, never demographics."""

from __future__ import annotations

import numpy as np
import pandas as pd

from attend.insights.risk import ACTIONABLE, DEMOGRAPHICS, FEATURES, explain
from attend.insights.risk.metrics import precision_recall_at_k, top_k_mask

DEMOGRAPHIC_WORDS = (
    "sex",
    "female",
    "male",
    "race",
    "hispanic",
    "black",
    "white",
    "asian",
    "english learner",
    "disab",
    "econom",
    "poverty",
    "income",
)


def _row() -> dict[str, float]:
    row = {name: 0.0 for name in FEATURES}
    row.update(
        abs_20=6,
        abs_10=3,
        monfri_abs=3,
        monfri_share=0.5,
        abs_ytd=8,
        enrolled_days=90,
        abs_rate_ytd=8 / 90,
        tardy_20=4,
        tardy_ytd=9,
        n_schools=1,
    )
    return row


def test_it_never_gives_a_demographic_reason() -> None:
    columns = FEATURES + DEMOGRAPHICS
    rows = pd.DataFrame(
        [{**_row(), "sex": "Female", "race": "Black", "el": True, "disability": True, "econ": True}]
    )
    contributions = np.zeros((1, len(columns) + 1))
    for name in DEMOGRAPHICS:  # demographics dominate the model's contributions...
        contributions[0, columns.index(name)] = 5.0
    contributions[0, columns.index("abs_20")] = 0.5
    reasons = explain(contributions, columns, rows)[0]
    assert not any(word in reasons.lower() for word in DEMOGRAPHIC_WORDS), reasons
    assert not ACTIONABLE & set(DEMOGRAPHICS)
    assert reasons == "6 absences in the last 20 school days (3 in the last 10)"


def test_it_gives_up_to_three_reasons_with_evidence() -> None:
    columns = list(FEATURES)
    contributions = np.zeros((1, len(columns) + 1))
    for name, value in (
        ("abs_20", 0.9),
        ("monfri_share", 0.5),
        ("tardy_20", 0.3),
        ("break_abs", 0.1),
    ):
        contributions[0, columns.index(name)] = value
    reasons = explain(contributions, columns, pd.DataFrame([_row()]))[0].split("; ")
    assert reasons == [
        "6 absences in the last 20 school days (3 in the last 10)",
        "3 absences on Mondays or Fridays (50% of full-day absences)",
        "4 late arrivals or early departures in the last 20 school days (9 this year)",
    ]


def test_it_measures_precision_and_recall_at_k() -> None:
    labels = np.array([1, 0, 1, 0, 0, 1])
    scores = np.array([0.9, 0.8, 0.7, 0.1, 0.2, 0.05])
    assert top_k_mask(scores, 2).tolist() == [True, True, False, False, False, False]
    assert precision_recall_at_k(labels, scores, 3) == (2 / 3, 2 / 3)
