"""A training run on disk: `VAR_DIR/models/<run-id>/`.

Files: `model.txt` (LightGBM booster), `run.json` (settings, split, metrics, audit,
calibration and the logistic baseline as numbers), `card.md`, `card.html`, `pr.svg`,
`reliability.svg`. JSON instead of pickles, so a run folder is safe to read and to diff.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from .train import RunResult


def new_run_id(now: datetime | None = None) -> str:
    moment = now or datetime.now(UTC)
    return moment.strftime("%Y%m%dT%H%M%S%fZ")


def _calibration(result: RunResult) -> dict[str, list[float]]:
    iso = result.calibrator
    return {"x": [float(v) for v in iso.X_thresholds_], "y": [float(v) for v in iso.y_thresholds_]}


def _logistic(result: RunResult) -> dict[str, Any]:
    scaler, lr = result.logistic[0], result.logistic[-1]
    return {
        "columns": list(result.logistic.attend_columns),
        "mean": scaler.mean_.tolist(),
        "scale": scaler.scale_.tolist(),
        "coef": lr.coef_[0].tolist(),
        "intercept": float(lr.intercept_[0]),
    }


def save(result: RunResult, folder: Path, meta: dict[str, Any]) -> Path:
    """Write the run folder and return it."""
    folder.mkdir(parents=True, exist_ok=True)
    result.model.booster_.save_model(str(folder / "model.txt"))
    document = {
        **meta,
        "columns": result.columns,
        "split": asdict(result.split),
        "metrics": result.metrics,
        "fairness": result.fairness,
        "reliability": result.reliability,
        "calibration": _calibration(result),
        "logistic": _logistic(result),
        "importance": _importance(result),
    }
    (folder / "run.json").write_text(json.dumps(document, indent=1, default=str))
    return folder


def _importance(result: RunResult) -> dict[str, float]:
    gains = result.model.booster_.feature_importance(importance_type="gain")
    total = float(np.sum(gains)) or 1.0
    pairs = sorted(zip(result.columns, gains, strict=True), key=lambda p: -p[1])
    return {name: float(gain) / total for name, gain in pairs}


def load(folder: Path) -> dict[str, Any]:
    document: dict[str, Any] = json.loads((folder / "run.json").read_text())
    return document


def latest(models_dir: Path) -> Path | None:
    runs = sorted(p for p in models_dir.glob("*") if (p / "run.json").is_file())
    return runs[-1] if runs else None
