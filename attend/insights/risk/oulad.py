"""OULAD replication of the risk design (RISK.md, "Benchmarks to place the model against").

The Open University data has no attendance, but it has the design's shape: an as-of cut
(day 60 of the module), an outcome later (fail or withdraw), and a temporal split (train on
2013 presentations, test on 2014). Features use only what was known before day 60:
registration, assessments due and submitted, scores, lateness. Demographics are left out by
default; a demographics-only model is trained in the same run as the floor to beat.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from .metrics import auc, precision_recall_at_k

AS_OF_DAY = 60
REFERENCE_AUC = 0.774  # RISK.md: reference LightGBM on this split
DEMOGRAPHICS = [
    "gender",
    "region",
    "highest_education",
    "imd_band",
    "age_band",
    "disability",
]


@dataclass(frozen=True)
class OuladResult:
    auc: float
    precision_at_k: float
    recall_at_k: float
    k: int
    demographics_auc: float
    n_train: int
    n_test: int

    def line(self) -> str:
        return (
            f"OULAD AUC {self.auc:.3f} precision@k {self.precision_at_k:.3f} (k={self.k}) | "
            f"reference LightGBM AUC {REFERENCE_AUC:.3f} (RISK.md); demographics-only AUC "
            f"{self.demographics_auc:.3f} (this run); train {self.n_train:,} test {self.n_test:,}"
        )


def _read(folder: Path, name: str) -> pd.DataFrame:
    return pd.read_csv(folder / f"{name}.csv", na_values=[""], keep_default_na=True)


def load_frame(folder: Path, as_of: int = AS_OF_DAY) -> pd.DataFrame:
    """One row per student-presentation still registered at the cut, with features and label.

    1. Keep registrations not withdrawn before the cut (those already have the outcome).
    2. Assessment features from submissions dated before the cut, against assessments due
       before it.
    3. Label: final result Fail or Withdrawn.
    """
    keys = ["code_module", "code_presentation", "id_student"]
    info = _read(folder, "studentInfo")
    reg = _read(folder, "studentRegistration")
    frame = info.merge(reg, on=keys, how="left")
    still = frame["date_unregistration"].isna() | (frame["date_unregistration"] >= as_of)
    frame = frame[still].copy()
    frame["label"] = frame["final_result"].isin(["Fail", "Withdrawn"]).astype(int)
    frame = frame.merge(_assessment_features(folder, as_of), on=keys, how="left")
    frame["module"] = frame["code_module"].astype("category")
    frame["semester"] = frame["code_presentation"].str[-1].astype("category")
    frame["year"] = frame["code_presentation"].str[:4].astype(int)
    for column in DEMOGRAPHICS:
        frame[column] = frame[column].astype("category")
    return frame.reset_index(drop=True)


def _assessment_features(folder: Path, as_of: int) -> pd.DataFrame:
    assessments = _read(folder, "assessments")
    submitted = _read(folder, "studentAssessment").merge(assessments, on="id_assessment")
    submitted = submitted[submitted["date_submitted"] < as_of].copy()
    submitted["late_days"] = (submitted["date_submitted"] - submitted["date"]).clip(lower=0)
    submitted["weighted"] = submitted["score"].fillna(0) * submitted["weight"] / 100
    submitted["is_cma"] = (submitted["assessment_type"] == "CMA").astype(int)
    keys = ["code_module", "code_presentation", "id_student"]
    features = submitted.groupby(keys).agg(
        n_submitted=("id_assessment", "count"),
        mean_score=("score", "mean"),
        min_score=("score", "min"),
        weighted_score=("weighted", "sum"),
        mean_late_days=("late_days", "mean"),
        n_cma=("is_cma", "sum"),
        first_submission=("date_submitted", "min"),
        last_submission=("date_submitted", "max"),
        n_banked=("is_banked", "sum"),
    )
    features["days_since_last_submission"] = as_of - features["last_submission"]
    due = assessments[assessments["date"] < as_of]
    n_due = due.groupby(["code_module", "code_presentation"]).size().rename("n_due")
    features = features.reset_index().merge(
        n_due.reset_index(), on=["code_module", "code_presentation"], how="left"
    )
    return features.drop(columns=["n_due"])


def feature_columns(demographics: bool) -> list[str]:
    base = [
        "module",
        "semester",
        "date_registration",
        "num_of_prev_attempts",
        "studied_credits",
        "n_submitted",
        "mean_score",
        "min_score",
        "weighted_score",
        "mean_late_days",
        "n_cma",
        "first_submission",
        "days_since_last_submission",
        "n_banked",
        "n_missing",
    ]
    return base + (DEMOGRAPHICS if demographics else [])


def _add_missing(frame: pd.DataFrame, folder: Path, as_of: int) -> pd.DataFrame:
    assessments = _read(folder, "assessments")
    due = assessments[assessments["date"] < as_of]
    n_due = due.groupby(["code_module", "code_presentation"]).size().rename("n_due").reset_index()
    frame = frame.merge(n_due, on=["code_module", "code_presentation"], how="left")
    frame["n_due"] = frame["n_due"].fillna(0)
    frame["n_missing"] = frame["n_due"] - frame["n_submitted"].fillna(0)
    return frame


def _fit_predict(train: pd.DataFrame, test: pd.DataFrame, columns: list[str]) -> np.ndarray:
    import lightgbm as lgb

    model = lgb.LGBMClassifier(
        n_estimators=300,
        learning_rate=0.03,
        num_leaves=31,
        min_child_samples=40,
        subsample=0.8,
        subsample_freq=1,
        colsample_bytree=0.8,
        verbose=-1,
        n_jobs=1,  # two threads were 20x slower on this loaded 2-core machine
    )
    model.fit(train[columns], train["label"])
    probabilities = np.asarray(model.predict_proba(test[columns]))
    return probabilities[:, 1]


def replicate(folder: Path, *, k_share: float = 0.05, demographics: bool = False) -> OuladResult:
    """Train on 2013 presentations, test on 2014; k is a share of the test students."""
    frame = _add_missing(load_frame(folder), folder, AS_OF_DAY)
    train, test = frame[frame["year"] == 2013], frame[frame["year"] == 2014]
    scores = _fit_predict(train, test, feature_columns(demographics))
    demo_scores = _fit_predict(train, test, DEMOGRAPHICS)
    k = max(1, round(k_share * len(test)))
    labels = test["label"].to_numpy()
    precision, recall = precision_recall_at_k(labels, scores, k)
    return OuladResult(
        auc=auc(labels, scores),
        precision_at_k=precision,
        recall_at_k=recall,
        k=k,
        demographics_auc=auc(labels, demo_scores),
        n_train=len(train),
        n_test=len(test),
    )
