"""The three jobs behind `attend risk`: train a run, score a date, describe a run."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd

from . import card, features, score, store, train
from .capacity import Capacity

Step = Callable[[str], None]


@dataclass(frozen=True)
class Options:
    """Per-district settings (`ATTEND_RISK_*`), passed as plain data."""

    share: float = 0.05
    horizon: int = 30
    step: int = 5
    demographics: bool = False
    n_jobs: int = 1
    bowers_csv: Path | None = None
    label: str = "label"  # or "label_year_end": chronic by the end of the school year
    n_folds: int = 3


def known_as_of(lake: features.Lake, as_of: date) -> features.Lake:
    """The lake as the district knew it at the end of `as_of` (for back-dated training).

    The calendar stays whole (it is published before the year starts); `known_through`
    tells the labels where the records stop.
    """
    cut = pd.Timestamp(as_of)
    end = cut + pd.Timedelta(days=1)
    enrollments = lake.enrollments[lake.enrollments["entry_date"] <= cut].copy()
    later = enrollments["exit_date"] > cut
    enrollments.loc[later, "exit_date"] = pd.NaT
    enrollments.loc[later, "exit_type"] = None
    return features.Lake(
        school_days=lake.school_days,
        enrollments=enrollments,
        events=lake.events[(lake.events["date"] <= cut) & (lake.events["recorded_at"] < end)],
        section_events=lake.section_events[
            (lake.section_events["date"] <= cut) & (lake.section_events["recorded_at"] < end)
        ],
        students=lake.students,
        known_through=as_of,
    )


# The stages `train_run` reports, one progress line each as it ends (a Job's steps).
TRAIN_STAGES = ("lake", "features", "calibration", "baselines", "folds", "fairness", "card")


def train_run(
    edfi: Path,
    models_dir: Path,
    *,
    as_of: date | None = None,
    options: Options = Options(),
    progress: Step = lambda _: None,
) -> Path:
    """Read, build examples, train and evaluate, write the run folder with its card.
    `progress` hears one line per TRAIN_STAGES entry, each starting with the stage's name."""
    lake = features.read_lake(edfi)
    if as_of is not None:
        lake = known_as_of(lake, as_of)
    progress(f"lake: {len(lake.enrollments):,} enrollments, {len(lake.events):,} events")
    frame = features.training_frame(
        lake, step=options.step, horizon=options.horizon, demographics=options.demographics
    )
    progress(f"features: {len(frame):,} as-of examples")
    result = train.run(
        frame,
        horizon=options.horizon,
        share=options.share,
        demographics=options.demographics,
        label=options.label,
        n_jobs=options.n_jobs,
        n_folds=options.n_folds,
        progress=progress,
    )
    run_id = store.new_run_id()
    meta: dict[str, Any] = {
        "run_id": run_id,
        "source": str(edfi),
        "as_of": as_of.isoformat() if as_of else None,
        "horizon": options.horizon,
        "label": options.label,
        "step": options.step,
        "demographics": options.demographics,
        "examples": len(frame),
    }
    folder = store.save(result, models_dir / run_id, meta)
    card.write(store.load(folder), folder, options.bowers_csv)
    progress(f"card: run {run_id} and its model card in {folder}")
    return folder


def score_date(
    edfi: Path, run_dir: Path, as_of: date, *, share: float = 0.05, progress: Step = lambda _: None
) -> pd.DataFrame:
    progress("reading the lake")
    lake = features.read_lake(edfi)
    return score_lake(lake, run_dir, as_of, share=share, progress=progress)


def score_lake(
    lake: features.Lake,
    run_dir: Path,
    as_of: date,
    *,
    share: float = 0.05,
    capacity: Capacity | None = None,
    progress: Step = lambda _: None,
) -> pd.DataFrame:
    """Features as of the date (the one-date path), then scores, ranks, flags, reasons.
    `capacity` (app mode) sets k per school; without it k is the district's share."""
    run = store.load(run_dir)
    progress("building features")
    asof = features.scoring(lake, as_of, demographics=bool(run["demographics"]))
    progress(f"scoring {len(asof.frame):,} students")
    booster = score.load_booster(run_dir)
    return score.score_frame(
        asof.frame, booster, run, share=share, evidence=asof.evidence, capacity=capacity
    )


def headline(run: dict[str, Any]) -> list[str]:
    """A few lines for the terminal: precision/recall at k per ranking, Brier, fairness."""
    from .fairness import flags

    m = run["metrics"]
    lines = [f"run {run['run_id']}  k = {m['share']:.0%} of enrolled students per date"]
    for name, point in m["at_k"].items():
        lift = m["lift"].get(name)
        lines.append(
            f"  {card.NAMES.get(name, name):28s} precision@k {point['precision']:.3f}  "
            f"recall@k {point['recall']:.3f}" + (f"  model lift {lift:.2f}x" if lift else "")
        )
    lines.append(f"  Brier {m['brier']:.4f} (base rate {m['brier_base_rate']:.4f})")
    found = flags(run["fairness"])
    lines.append(f"  fairness flags: {len(found)}")
    lines += [f"    {f}" for f in found]
    return lines
