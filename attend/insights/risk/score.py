"""Scoring with a saved run: calibrated probability, rank, top-k flag and reasons."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .reasons import explain


def load_booster(folder: Path) -> Any:
    import lightgbm as lgb

    return lgb.Booster(model_file=str(folder / "model.txt"))


def calibrated(raw: np.ndarray, calibration: dict[str, list[float]]) -> np.ndarray:
    return np.interp(raw, calibration["x"], calibration["y"])


def score_frame(
    frame: pd.DataFrame, booster: Any, run: dict[str, Any], *, share: float = 0.05
) -> pd.DataFrame:
    """Rank every enrolled student-school; flag the top k = share x students.

    1. Students already chronic on known data are ranked after everyone else and never
       flagged: they need the chronic-absence process, not a prediction.
    2. Reasons only for flagged rows (that is where an officer reads them).
    """
    columns = run["columns"]
    raw = booster.predict(frame[columns])
    score = calibrated(np.asarray(raw), run["calibration"])
    chronic = frame["chronic_known"].to_numpy().astype(bool)
    # Rank on the raw score: isotonic calibration has flat steps that would make ties.
    order_key = np.where(chronic, -1.0, np.asarray(raw))
    out = frame[["student_id", "school_id"]].copy()
    out["score"] = np.round(score, 4)
    out["rank"] = pd.Series(-order_key).rank(method="first").astype(int).to_numpy()
    k = math.ceil(share * len(frame))
    out["flagged"] = (out["rank"] <= k) & ~chronic
    out["reasons"] = ""
    chosen = out["flagged"].to_numpy()
    if chosen.any():
        contrib = booster.predict(frame.loc[chosen, columns], pred_contrib=True)
        out.loc[chosen, "reasons"] = explain(contrib, columns, frame.loc[chosen])
    return out.sort_values("rank").reset_index(drop=True)
