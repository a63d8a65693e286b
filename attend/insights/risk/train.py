"""Training run: rolling temporal split, LightGBM + isotonic calibration, baselines, audit.

Everything returns plain data (dicts, arrays, DataFrames); `store.py` writes the run folder.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from . import fairness
from .features import model_columns
from .metrics import brier, precision_recall_at_k, reliability_table, top_k_mask

BASELINES = {
    "chronic_so_far": "Chronic so far (was chronic at some earlier point this year; ties by "
    "year-to-date absence rate) — stands in for prior-year chronic with one year of data",
    "triggers": "Year-to-date attendance ≤ 90% or Attendance Works month triggers "
    "(2 absences in month 1, 4 by month 2, 6 by month 3); ties by year-to-date absence rate",
    "logistic": "Logistic regression on the same features (scikit-learn, standardised)",
}


@dataclass
class Split:
    """School-day indexes (nb = school days before d) bounding each fold."""

    train_end: int
    calib_start: int
    calib_end: int
    test_start: int
    test_end: int
    horizon: int

    def masks(self, nb: pd.Series) -> tuple[pd.Series, pd.Series, pd.Series]:
        return (
            nb <= self.train_end,
            (nb >= self.calib_start) & (nb <= self.calib_end),
            (nb >= self.test_start) & (nb <= self.test_end),
        )


def plan_split(nbs: np.ndarray, horizon: int) -> Split:
    """Roll forward in time with no label leakage into the test fold.

    1. Test = the last ~35% of the example dates whose horizon is complete.
    2. Calibration = a block ending `horizon` school days before the test starts, so its
       labels are known before the first test date.
    3. Train = every earlier date (its label windows may overlap the calibration block's,
       never the test block's).
    """
    first, last = int(nbs.min()), int(nbs.max())
    test_start = first + int(0.65 * (last - first))
    calib_end = test_start - horizon - 1
    calib_start = max(first + 1, calib_end - max(5, (calib_end - first) // 3))
    return Split(calib_start - 1, calib_start, calib_end, test_start, last, horizon)


def lgbm_params(n_jobs: int = 1) -> dict[str, Any]:
    # n_jobs=1: on this 2-core shared machine two threads were 5-20x slower under load.
    return {
        "objective": "binary",
        "learning_rate": 0.05,
        "num_leaves": 15,
        "min_child_samples": 100,
        "reg_lambda": 5.0,
        "subsample": 0.8,
        "subsample_freq": 1,
        "colsample_bytree": 0.8,
        "n_estimators": 200,
        "verbose": -1,
        "n_jobs": n_jobs,
    }


def fit_lgbm(frame: pd.DataFrame, columns: list[str], label: str, n_jobs: int = 1) -> Any:
    import lightgbm as lgb

    model = lgb.LGBMClassifier(**lgbm_params(n_jobs))
    model.fit(frame[columns], frame[label])
    return model


def fit_logistic(frame: pd.DataFrame, columns: list[str], label: str) -> Any:
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    numeric = [c for c in columns if frame[c].dtype.kind in "biuf"]
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=500, C=1.0))
    model.fit(frame[numeric].astype(float).fillna(0), frame[label])
    model.attend_columns = numeric
    return model


def logistic_scores(model: Any, frame: pd.DataFrame) -> np.ndarray:
    values = frame[model.attend_columns].astype(float).fillna(0)
    return np.asarray(model.predict_proba(values)[:, 1])


def baseline_scores(frame: pd.DataFrame) -> dict[str, np.ndarray]:
    rate = frame["abs_rate_ytd"].to_numpy(dtype=float)
    ytd_rule = (1 - rate <= 0.90) & (frame["enrolled_days"].to_numpy() >= 10)
    triggers = frame["month_trigger"].to_numpy().astype(bool) | ytd_rule
    return {
        "chronic_so_far": 2 * frame["ever_chronic"].to_numpy(dtype=float) + rate,
        "triggers": 2 * triggers.astype(float) + rate,
    }


def at_k(frame: pd.DataFrame, scores: np.ndarray, share: float, label: str) -> dict[str, Any]:
    """Pooled precision/recall when each date flags k = share x enrolled students."""
    chosen = np.zeros(len(frame), dtype=bool)
    for _, index in frame.groupby("d").indices.items():
        k = math.ceil(share * int(frame["n_enrolled_d"].iloc[index[0]]))
        chosen[index[top_k_mask(scores[index], k)]] = True
    truth = frame[label].to_numpy().astype(bool)
    hits = int((truth & chosen).sum())
    return {
        "flagged": int(chosen.sum()),
        "hits": hits,
        "precision": hits / max(1, int(chosen.sum())),
        "recall": hits / max(1, int(truth.sum())),
        "mask": chosen,
    }


@dataclass
class RunResult:
    """What a training run produced: models, metrics, audit — plain data for the card."""

    model: Any
    calibrator: Any
    logistic: Any
    columns: list[str]
    split: Split
    metrics: dict[str, Any] = field(default_factory=dict)
    fairness: list[dict[str, Any]] = field(default_factory=list)
    reliability: list[dict[str, float]] = field(default_factory=list)


def calibrate(raw: np.ndarray, truth: np.ndarray) -> Any:
    from sklearn.isotonic import IsotonicRegression

    return IsotonicRegression(out_of_bounds="clip", y_min=0, y_max=1).fit(raw, truth)


def run(
    frame: pd.DataFrame,
    *,
    horizon: int = 30,
    share: float = 0.05,
    demographics: bool = False,
    label: str = "label",
    n_jobs: int = 1,
) -> RunResult:
    """Train, calibrate and evaluate on a rolling split; baselines and audit on the test fold.

    1. Keep rows whose label window is complete; split by date (`plan_split`).
    2. LightGBM on train; isotonic calibration on the later calibration fold.
    3. Logistic regression on the same features and train rows.
    4. On the test fold: precision/recall@k for the model and each baseline, lift, Brier,
       reliability, AUC (for reference only), and the fairness audit at the same k.
    """
    columns = model_columns(demographics)
    usable = frame[frame["label_complete"].astype(bool)]
    split = plan_split(usable["nb"].to_numpy(), horizon)
    train, calib, test = (usable[m] for m in split.masks(usable["nb"]))
    model = fit_lgbm(train, columns, label, n_jobs)
    calibrator = calibrate(model.predict_proba(calib[columns])[:, 1], calib[label].to_numpy())
    logistic = fit_logistic(train, columns, label)
    test = test.copy()
    probs = calibrator.predict(model.predict_proba(test[columns])[:, 1])
    raw = model.predict_proba(test[columns])[:, 1]
    scores = {"model": raw, "logistic": logistic_scores(logistic, test), **baseline_scores(test)}
    result = RunResult(model, calibrator, logistic, columns, split)
    result.metrics = _metrics(test, scores, probs, share, label)
    result.metrics["sizes"] = {"train": len(train), "calibration": len(calib), "test": len(test)}
    result.metrics["dates"] = {
        name: [str(part["d"].min().date()), str(part["d"].max().date())]
        for name, part in (("train", train), ("calibration", calib), ("test", test))
    }
    result.reliability = reliability_table(test[label].to_numpy(), probs)
    test["flagged"] = at_k(test, raw, share, label)["mask"]
    result.fairness = fairness.audit(test, label, "flagged")
    return result


def _metrics(
    test: pd.DataFrame, scores: dict[str, np.ndarray], probs: np.ndarray, share: float, label: str
) -> dict[str, Any]:
    from sklearn.metrics import roc_auc_score

    truth = test[label].to_numpy()
    out: dict[str, Any] = {"share": share, "base_rate": float(truth.mean()), "at_k": {}}
    for name, score in scores.items():
        point = at_k(test, score, share, label)
        point.pop("mask")
        point["auc"] = float(roc_auc_score(truth, score))
        out["at_k"][name] = point
    model_precision = out["at_k"]["model"]["precision"]
    out["lift"] = {
        name: model_precision / max(1e-9, out["at_k"][name]["precision"]) for name in BASELINES
    }
    out["brier"] = brier(truth, probs)
    out["brier_base_rate"] = brier(truth, np.full(len(truth), truth.mean()))
    logistic = np.clip(scores["logistic"], 0, 1)
    out["brier_logistic"] = brier(truth, logistic)
    out["beats_all_baselines"] = all(v > 1 for v in out["lift"].values())
    _ = precision_recall_at_k
    return out
