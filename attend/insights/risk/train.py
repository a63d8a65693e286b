"""Training run: rolling temporal split, LightGBM + isotonic calibration, baselines, audit.

Everything returns plain data (dicts, arrays, DataFrames); `store.py` writes the run folder.
"""

from __future__ import annotations

import math
from collections.abc import Callable
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


def at_k(
    frame: pd.DataFrame,
    scores: np.ndarray,
    share: float,
    label: str,
    enrolled: str = "n_enrolled_d",
) -> dict[str, Any]:
    """Pooled precision/recall when each date flags k = share x enrolled students."""
    chosen = np.zeros(len(frame), dtype=bool)
    for _, index in frame.groupby("d").indices.items():
        k = math.ceil(share * int(frame[enrolled].iloc[index[0]]))
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


LABELS = {
    "label": "within the horizon",
    "label_year_end": "by the end of the school year",
}
COMPLETE = {"label": "label_complete", "label_year_end": "label_year_end_complete"}


@dataclass
class Design:
    """How a run splits its examples, from its label.

    A 30-day label is known `horizon` school days after d, so a gap of that many days
    between the training and test dates keeps the test period out of the training labels.
    A year-end label is known only when the year is over: with one year of data no gap
    can do that, so the students are split as well — train on one half of the students at
    earlier dates, test on the other half at later dates.
    """

    label: str
    gap: int
    disjoint: bool

    @classmethod
    def of(cls, label: str, horizon: int) -> Design:
        if label not in LABELS:
            raise ValueError(f"unknown label {label!r}")
        year_end = label == "label_year_end"
        return cls(label, 0 if year_end else horizon, year_end)

    @property
    def enrolled(self) -> str:
        return "n_enrolled_dg" if self.disjoint else "n_enrolled_d"

    def sides(self, frame: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
        """(the rows training may use, the rows testing may use)."""
        if not self.disjoint:
            return frame, frame
        group = frame["group"].to_numpy()
        return frame[group == 0], frame[group == 1]


def run(
    frame: pd.DataFrame,
    *,
    horizon: int = 30,
    share: float = 0.05,
    demographics: bool = False,
    label: str = "label",
    n_jobs: int = 1,
    n_folds: int = 3,
    progress: Callable[[str], None] = lambda _: None,
) -> RunResult:
    """Train, calibrate and evaluate on a rolling split; baselines and audit on the test fold.
    `progress` hears one line as each stage ends (calibration, baselines, folds, fairness).

    1. Keep rows whose label is complete; split by date (`plan_split`), and by student for
       the year-end label (`Design`).
    2. LightGBM on train; isotonic calibration on the later calibration fold.
    3. Logistic regression on the same features and train rows.
    4. On the test fold: precision/recall@k for the model and each baseline, lift, Brier,
       reliability, AUC (for reference only), and the fairness audit at the same k.
    5. Rolling validation: `n_folds` later test blocks, each trained on the dates before it.
    """
    design = Design.of(label, horizon)
    columns = model_columns(demographics)
    usable = frame[frame[COMPLETE[label]].astype(bool)]
    if usable.empty:
        raise ValueError(
            f"no example's label ({LABELS[label]}) is known yet: the records must reach "
            + ("the end of the school year" if design.disjoint else "past the horizon")
        )
    split = plan_split(usable["nb"].to_numpy(), horizon)
    learn, judge = design.sides(usable)
    train, calib, _ = (learn[m] for m in split.masks(learn["nb"]))
    test = judge[split.masks(judge["nb"])[2]].copy()
    model = fit_lgbm(train, columns, label, n_jobs)
    calibrator = calibrate(model.predict_proba(calib[columns])[:, 1], calib[label].to_numpy())
    progress(f"calibration: LightGBM on {len(train):,} examples, isotonic on {len(calib):,}")
    logistic = fit_logistic(train, columns, label)
    probs = calibrator.predict(model.predict_proba(test[columns])[:, 1])
    raw = model.predict_proba(test[columns])[:, 1]
    scores = {"model": raw, "logistic": logistic_scores(logistic, test), **baseline_scores(test)}
    result = RunResult(model, calibrator, logistic, columns, split)
    result.metrics = _metrics(test, scores, probs, share, label, design.enrolled)
    progress(f"baselines: {_precisions(result.metrics)} on {len(test):,} test examples")
    result.metrics["label"] = label
    result.metrics["student_disjoint"] = design.disjoint
    result.metrics["sizes"] = {"train": len(train), "calibration": len(calib), "test": len(test)}
    result.metrics["dates"] = {
        name: [str(part["d"].min().date()), str(part["d"].max().date())]
        for name, part in (("train", train), ("calibration", calib), ("test", test))
    }
    folds = rolling_validation(usable, columns, design, share=share, n_folds=n_folds, n_jobs=n_jobs)
    result.metrics["folds"] = folds
    won = sum(1 for fold in folds if fold["beats_all_baselines"])
    progress(f"folds: {len(folds)} rolling folds, the model beat every baseline in {won}")
    result.reliability = reliability_table(test[label].to_numpy(), probs)
    test["flagged"] = at_k(test, raw, share, label, design.enrolled)["mask"]
    result.fairness = fairness.audit(test, label, "flagged")
    outside = len(fairness.flags(result.fairness))
    progress(f"fairness: {len(result.fairness)} groups, {outside} ratios outside 0.8-1.25")
    return result


def _precisions(metrics: dict[str, Any]) -> str:
    """Each ranking's precision@k in one progress line (model, logistic, baselines)."""
    points = metrics["at_k"]
    return "precision@k " + ", ".join(f"{n} {p['precision']:.3f}" for n, p in points.items())


@dataclass(frozen=True)
class Fold:
    """Train on examples with nb <= train_end; test on test_start <= nb <= test_end."""

    train_end: int
    test_start: int
    test_end: int


def rolling_folds(nbs: np.ndarray, gap: int, n_folds: int = 3, start: float = 0.45) -> list[Fold]:
    """Expanding-window folds over the example dates (school-day indexes).

    The dates after the first `start` share of the range are cut into `n_folds` blocks in
    time order; each block is tested by a model trained on every date at least `gap + 1`
    school days before the block starts, so its labels were known by then.
    """
    if not len(nbs):
        return []
    first, last = int(np.min(nbs)), int(np.max(nbs))
    edges = np.linspace(first + start * (last - first), last + 1, n_folds + 1).round()
    folds = []
    for lo, hi in zip(edges[:-1].astype(int).tolist(), edges[1:].astype(int).tolist(), strict=True):
        if hi > lo and lo - gap - 1 >= first:
            folds.append(Fold(lo - gap - 1, lo, hi - 1))
    return folds


def rolling_validation(
    usable: pd.DataFrame,
    columns: list[str],
    design: Design,
    *,
    share: float,
    n_folds: int,
    n_jobs: int = 1,
) -> list[dict[str, Any]]:
    """Each fold's precision/recall@k for the model (uncalibrated: only the ranking counts
    at k) and every baseline, trained and tested as in the main split."""
    learn, judge = design.sides(usable)
    out = []
    for fold in rolling_folds(usable["nb"].to_numpy(), design.gap, n_folds):
        train = learn[learn["nb"] <= fold.train_end]
        test = judge[(judge["nb"] >= fold.test_start) & (judge["nb"] <= fold.test_end)]
        if train[design.label].nunique() < 2 or not len(test):
            continue  # nothing to learn from (or to test on) yet
        out.append(_fold_result(train, test, columns, design, share, n_jobs))
    return out


def _fold_result(
    train: pd.DataFrame,
    test: pd.DataFrame,
    columns: list[str],
    design: Design,
    share: float,
    n_jobs: int,
) -> dict[str, Any]:
    label = design.label
    model = fit_lgbm(train, columns, label, n_jobs)
    logistic = fit_logistic(train, columns, label)
    scores = {
        "model": model.predict_proba(test[columns])[:, 1],
        "logistic": logistic_scores(logistic, test),
        **baseline_scores(test),
    }
    points = {}
    for name, score in scores.items():
        point = at_k(test, score, share, label, design.enrolled)
        point.pop("mask")
        points[name] = point
    best_baseline = max(points[name]["precision"] for name in BASELINES)
    return {
        "train": [str(train["d"].min().date()), str(train["d"].max().date())],
        "test": [str(test["d"].min().date()), str(test["d"].max().date())],
        "sizes": {"train": len(train), "test": len(test)},
        "base_rate": float(test[label].mean()),
        "at_k": points,
        "beats_all_baselines": points["model"]["precision"] > best_baseline,
    }


def _metrics(
    test: pd.DataFrame,
    scores: dict[str, np.ndarray],
    probs: np.ndarray,
    share: float,
    label: str,
    enrolled: str = "n_enrolled_d",
) -> dict[str, Any]:
    from sklearn.metrics import roc_auc_score

    truth = test[label].to_numpy()
    out: dict[str, Any] = {"share": share, "base_rate": float(truth.mean()), "at_k": {}}
    for name, score in scores.items():
        point = at_k(test, score, share, label, enrolled)
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
