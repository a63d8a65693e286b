"""Fairness at the operating point: FPR, FNR and selection rate by group (Fairlearn MetricFrame).

Intervals come from a Poisson bootstrap over rows (fast and vectorised); a ratio to the
reference group (the largest group) outside 0.8–1.25 is flagged.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

GROUPS = {
    "sex": "sex",
    "race": "race/ethnicity",
    "el": "English learner",
    "disability": "disability",
    "econ": "economic disadvantage",
}
LOW, HIGH = 0.8, 1.25
MIN_DENOMINATOR = 20
MIN_STUDENTS = 30


def _denominator(name: str, truth: np.ndarray, flagged: np.ndarray) -> int:
    if name == "fpr":
        return int((~truth).sum())
    if name == "fnr":
        return int(truth.sum())
    return len(truth)


def _rates(
    truth: np.ndarray, flagged: np.ndarray, weights: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """FPR, FNR, selection rate with weights of shape (rows, boots)."""
    negatives = (~truth)[:, None] * weights
    positives = truth[:, None] * weights
    fpr = (negatives * flagged[:, None]).sum(0) / np.maximum(negatives.sum(0), 1e-9)
    fnr = (positives * ~flagged[:, None]).sum(0) / np.maximum(positives.sum(0), 1e-9)
    selection = (weights * flagged[:, None]).sum(0) / np.maximum(weights.sum(0), 1e-9)
    return fpr, fnr, selection


def audit(
    frame: pd.DataFrame, truth_col: str, flag_col: str, *, boots: int = 100, seed: int = 0
) -> list[dict[str, Any]]:
    """One row per (attribute, group): n, point estimates, 95% intervals, ratios, flags."""
    from fairlearn.metrics import (
        MetricFrame,
        false_negative_rate,
        false_positive_rate,
        selection_rate,
    )

    rng = np.random.default_rng(seed)
    truth = frame[truth_col].to_numpy().astype(bool)
    flagged = frame[flag_col].to_numpy().astype(bool)
    rows: list[dict[str, Any]] = []
    for column, title in GROUPS.items():
        feature = frame[column].astype(str)
        mf = MetricFrame(
            metrics={
                "fpr": false_positive_rate,
                "fnr": false_negative_rate,
                "selection": selection_rate,
            },
            y_true=truth,
            y_pred=flagged,
            sensitive_features=feature,
        )
        by_group = mf.by_group
        reference = feature.value_counts().idxmax()
        for group, point in by_group.iterrows():
            mask = (feature == group).to_numpy()
            weights = rng.poisson(1.0, size=(int(mask.sum()), boots)).astype(np.float32)
            fpr, fnr, sel = _rates(truth[mask], flagged[mask], weights)
            row: dict[str, Any] = {"attribute": title, "group": str(group), "n": int(mask.sum())}
            row["students"] = int(frame.loc[mask, "student_id"].nunique())
            row["reference"] = group == reference
            for name, samples in (("fpr", fpr), ("fnr", fnr), ("selection", sel)):
                value = float(point[name])
                ref = float(by_group.loc[reference, name])
                ratio = value / ref if ref > 0 else float("nan")
                row[name] = value
                row[f"{name}_lo"] = float(np.quantile(samples, 0.025))
                row[f"{name}_hi"] = float(np.quantile(samples, 0.975))
                row[f"{name}_ratio"] = ratio
                # Too few people behind the rate (no positives for FNR...) makes no finding.
                enough = (
                    _denominator(name, truth[mask], flagged[mask]) >= MIN_DENOMINATOR
                    and row["students"] >= MIN_STUDENTS
                )
                row[f"{name}_small"] = not enough
                row[f"{name}_flag"] = bool(
                    enough and np.isfinite(ratio) and not LOW <= ratio <= HIGH
                )
            rows.append(row)
    return rows


def flags(rows: list[dict[str, Any]]) -> list[str]:
    """Plain sentences for the flagged ratios."""
    out = []
    for row in rows:
        for name, label in (("fpr", "FPR"), ("fnr", "FNR"), ("selection", "selection rate")):
            if row[f"{name}_flag"]:
                out.append(
                    f"{row['attribute']} = {row['group']}: {label} {row[name]:.3f} "
                    f"(ratio {row[f'{name}_ratio']:.2f} to the reference group, "
                    f"{row['students']:,} students)"
                )
    return out
