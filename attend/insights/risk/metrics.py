"""Metrics at an operating point: precision/recall at k, lift, Brier, reliability.

Plain numpy in, plain numbers out, so the lead's views and the model card share them.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike


def auc(labels: ArrayLike, scores: ArrayLike) -> float:
    from sklearn.metrics import roc_auc_score

    return float(roc_auc_score(np.asarray(labels), np.asarray(scores)))


def top_k_mask(scores: ArrayLike, k: int) -> np.ndarray:
    """The k highest scores (ties broken by position, stable) as a boolean mask."""
    values = np.asarray(scores, dtype=float)
    mask = np.zeros(len(values), dtype=bool)
    if k > 0 and len(values):
        order = np.argsort(-values, kind="stable")[:k]
        mask[order] = True
    return mask


def precision_recall_at_k(labels: ArrayLike, scores: ArrayLike, k: int) -> tuple[float, float]:
    truth = np.asarray(labels).astype(bool)
    chosen = top_k_mask(scores, k)
    hits = int((truth & chosen).sum())
    precision = hits / max(1, int(chosen.sum()))
    recall = hits / max(1, int(truth.sum()))
    return float(precision), float(recall)


def brier(labels: ArrayLike, probabilities: ArrayLike) -> float:
    truth = np.asarray(labels, dtype=float)
    return float(np.mean((np.asarray(probabilities, dtype=float) - truth) ** 2))


def reliability_table(
    labels: ArrayLike, probabilities: ArrayLike, bins: int = 10
) -> list[dict[str, float]]:
    """Equal-count bins of predicted probability: mean predicted vs observed rate."""
    truth = np.asarray(labels, dtype=float)
    probs = np.asarray(probabilities, dtype=float)
    order = np.argsort(probs, kind="stable")
    rows = []
    for chunk in np.array_split(order, bins):
        if len(chunk):
            rows.append(
                {
                    "n": float(len(chunk)),
                    "predicted": float(probs[chunk].mean()),
                    "observed": float(truth[chunk].mean()),
                }
            )
    return rows
