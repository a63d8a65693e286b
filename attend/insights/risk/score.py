"""Scoring with a saved run: calibrated probability, ranks, top-k flag and reasons."""

from __future__ import annotations

import math
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .capacity import Capacity, school_k
from .reasons import sentences, top_families

# (frame row positions, each row's reason families) → each family's evidence dates.
Evidence = Callable[[np.ndarray, list[list[str]]], list[list[list[str]]]]
# Threads for the reasons' TreeSHAP (`explain_rows`): the machine's cores, at most 8.
SHAP_THREADS = max(1, min(8, os.cpu_count() or 1))


def load_booster(folder: Path) -> Any:
    import lightgbm as lgb

    return lgb.Booster(model_file=str(folder / "model.txt"))


def calibrated(raw: np.ndarray, calibration: dict[str, list[float]]) -> np.ndarray:
    return np.interp(raw, calibration["x"], calibration["y"])


def score_frame(
    frame: pd.DataFrame,
    booster: Any,
    run: dict[str, Any],
    *,
    share: float = 0.05,
    evidence: Evidence | None = None,
    capacity: Capacity | None = None,
) -> pd.DataFrame:
    """`rank_frame`, then the flagged rows' reasons (`explain_flagged`), sorted by rank."""
    out = rank_frame(frame, booster, run, share=share, capacity=capacity)
    chosen = np.flatnonzero(out["flagged"].to_numpy())
    out["reasons"], out["reason_list"] = explain_rows(
        frame, booster, run["columns"], chosen, evidence
    )
    return out.sort_values("rank").reset_index(drop=True)


def rank_frame(
    frame: pd.DataFrame,
    booster: Any,
    run: dict[str, Any],
    *,
    share: float = 0.05,
    capacity: Capacity | None = None,
) -> pd.DataFrame:
    """Score and rank every enrolled student-school; flag the top k.

    1. Students already chronic on known data get no score, are ranked after everyone else
       and never flagged: they need the chronic-absence process, not a prediction.
    2. Ranks in the district and in the school.
    3. Without `capacity` (lake mode, as in validation): the district's top
       k = ceil(share x students). With it (app mode): each school's top k_school, from
       the district's settings (`capacity.school_k`), since officers serve schools.
    Rows stay in `frame`'s order.
    """
    columns = run["columns"]
    chronic = frame["chronic_known"].to_numpy().astype(bool)
    # The model was trained on students not yet chronic: for the others it has no answer.
    raw = np.full(len(frame), np.nan)
    raw[~chronic] = booster.predict(frame.loc[~chronic, columns])
    # Rank on the raw score: isotonic calibration has flat steps that would make ties.
    order_key = pd.Series(np.where(chronic, 1.0, -raw))
    out = frame[["student_id", "school_id"]].copy()
    out["score"] = np.round(calibrated(raw, run["calibration"]), 4)
    out["rank"] = order_key.rank(method="first").astype(int).to_numpy()
    out["rank_school"] = (
        order_key.groupby(frame["school_id"].to_numpy()).rank(method="first").astype(int)
    ).to_numpy()
    out["flagged"] = _within_k(out, share, capacity) & ~chronic
    return out


def _within_k(ranked: pd.DataFrame, share: float, capacity: Capacity | None) -> np.ndarray:
    if capacity is None:
        return (ranked["rank"] <= math.ceil(share * len(ranked))).to_numpy()
    schools = ranked["school_id"].astype(str)
    enrolled = {str(school): int(n) for school, n in schools.value_counts().items()}
    k = school_k(enrolled, capacity, share)
    return (ranked["rank_school"] <= schools.map(k)).to_numpy()


def explain_rows(
    frame: pd.DataFrame,
    booster: Any,
    columns: list[str],
    chosen: np.ndarray,
    evidence: Evidence | None,
) -> tuple[np.ndarray, np.ndarray]:
    """(reasons joined in words, [{family, text, days}] per reason) for the chosen rows;
    empty text and None elsewhere. Reasons come from LightGBM's `pred_contrib` (TreeSHAP), and
    only for the flagged rows: that is where an officer reads them, and TreeSHAP is the
    costly part of a night's scoring (`attend bench risk` times it on its own)."""
    texts = np.full(len(frame), "", dtype=object)
    lists = np.full(len(frame), None, dtype=object)
    if not len(chosen):
        return texts, lists
    rows = frame.iloc[chosen]
    # TreeSHAP costs ~1-2 ms a row on one core; rows are independent, so every core helps
    # (measured 2.1x on this 2-core machine, under load). Training stays on one thread.
    contributions = booster.predict(rows[columns], pred_contrib=True, num_threads=SHAP_THREADS)
    families = top_families(contributions, columns)
    said = sentences(families, rows)
    days = evidence(chosen, families) if evidence else [[[] for _ in f] for f in families]
    texts[chosen] = ["; ".join(parts) for parts in said]
    for position, names, parts, dates in zip(chosen, families, said, days, strict=True):
        lists[position] = [
            {"family": name, "text": text, "days": found}
            for name, text, found in zip(names, parts, dates, strict=True)
        ]
    return texts, lists
