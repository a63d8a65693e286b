"""Risk-model benchmarks (not tests): training on >= 2M (student, date) examples and scoring
1M students, each beside the logistic-regression baseline on the same rows.

    .venv/bin/attend bench risk [--train-edfi DIR --step 1] [--score-students N --as-of DATE]

train: the as-of features for every `step`-th school day (step 1 on a 20,000-student district
gives ~2.6M examples), then LightGBM (the production settings, one thread) and the logistic
baseline fitted on the same examples. Targets: features + fit <= 300 s.
score: features as of one date for every enrolled student of a 1M-student lake (the one-date
path, risk/fast.py), then the calibrated LightGBM score, ranks and top-k flag (the production
path, as `attend risk score` runs it), beside the logistic baseline's scoring of the same rows:
target <= 30 s. The flagged students' reasons (LightGBM `pred_contrib`, i.e. TreeSHAP, with
their evidence days) are timed after it, on their own line figure. `--sql-reference`
also times the training SQL building the same features (the path scoring used before). Generating a
1M-student district took > 40 min on the loaded shared machine, so the 1M lake is the 20,000-
student district tiled 50 times with distinct student ids (same schools and calendars): the
work per student is real, the attendance histories repeat. Reading the files is timed apart.
The training district is generated under the temp dir when absent and reused afterwards.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from attend.insights.risk import features, train
from attend.insights.risk.score import explain_rows, rank_frame

TRAIN_DIR = Path(tempfile.gettempdir()) / "attend-risk" / "d20k"


def ensure(folder: Path, students: int, as_of: date) -> Path:
    if not (folder / "students.parquet").is_file():
        from attend.roster.generate import generate

        print(f"generating {students:,} students into {folder} ...", flush=True)
        generate(
            students=students,
            seed=7,
            out=folder,
            fmt="parquet",
            as_of=as_of,
            schools=None,
            progress=lambda done, total: None,
        )
    return folder


def _load(cpu: float, wall: float) -> str:
    """The machine is shared: CPU seconds this process got, beside the load average."""
    one, five, _ = os.getloadavg()
    return (
        f"process CPU {cpu:.1f} s over {wall:.1f} s wall; load avg {one:.1f}/{five:.1f} "
        f"on {os.cpu_count()} CPUs"
    )


def bench_train(folder: Path, step: int) -> tuple[Any, list[str]]:
    c0 = time.process_time()
    t0 = time.perf_counter()
    lake = features.read_lake(folder)
    frame = features.training_frame(lake, step=step)
    usable = frame[frame["label_complete"].astype(bool)]
    t_features = time.perf_counter() - t0
    columns = features.model_columns()
    t1 = time.perf_counter()
    model = train.fit_lgbm(usable, columns, "label")
    t_lgbm = time.perf_counter() - t1
    t2 = time.perf_counter()
    train.fit_logistic(usable, columns, "label")
    t_lr = time.perf_counter() - t2
    total = t_features + t_lgbm
    print(
        f"risk train: {len(usable):,} examples (step {step}) features {t_features:.1f} s; "
        f"LightGBM fit {t_lgbm:.1f} s vs logistic fit {t_lr:.1f} s "
        f"(ratio {t_lgbm / max(t_lr, 1e-9):.1f}x); features+LightGBM {total:.1f} s "
        f"{'<=' if total <= 300 else '>'} 300 s target; "
        f"{_load(time.process_time() - c0, time.perf_counter() - t0)}",
        flush=True,
    )
    return model, columns


def tile(lake: features.Lake, students: int) -> features.Lake:
    """Copies of the district with distinct student ids until it holds `students` students."""
    copies = max(1, -(-students // len(lake.students)))

    def many(frame: pd.DataFrame) -> pd.DataFrame:
        parts = []
        for n in range(copies):
            part = frame.copy()
            part["student_id"] = part["student_id"].astype(str) + f"-{n}"
            parts.append(part)
        return pd.concat(parts, ignore_index=True)

    return features.Lake(
        school_days=lake.school_days,
        enrollments=many(lake.enrollments),
        events=many(lake.events),
        section_events=many(lake.section_events),
        students=many(lake.students),
    )


def bench_score(
    folder: Path,
    students: int,
    as_of: date,
    model: Any,
    columns: list[str],
    sql_reference: bool = False,
) -> None:
    c0 = time.process_time()
    t0 = time.perf_counter()
    lake = tile(features.read_lake(folder), students)
    t_read = time.perf_counter() - t0
    t1 = time.perf_counter()
    asof = features.scoring(lake, as_of)
    frame = asof.frame
    t_features = time.perf_counter() - t1
    run = {"columns": columns, "calibration": {"x": [0.0, 1.0], "y": [0.0, 1.0]}}
    t2 = time.perf_counter()
    ranked = rank_frame(frame, model.booster_, run)
    t_score = time.perf_counter() - t2
    t5 = time.perf_counter()
    flagged = np.flatnonzero(ranked["flagged"].to_numpy())
    explain_rows(frame, model.booster_, columns, flagged, asof.evidence)
    t_reasons = time.perf_counter() - t5
    logistic = train.fit_logistic(frame.assign(label=frame["abs_20"] > 2), columns, "label")
    t3 = time.perf_counter()
    lr_scores = train.logistic_scores(logistic, frame)
    np.argsort(-lr_scores)
    t_lr = time.perf_counter() - t3
    total = t_features + t_score
    print(
        f"risk score: {len(frame):,} students as of {as_of} read+tile {t_read:.1f} s, features "
        f"{t_features:.1f} s, LightGBM score+rank {t_score:.1f} s vs logistic score+rank "
        f"{t_lr:.1f} s (ratio {t_score / max(t_lr, 1e-9):.1f}x); features+score {total:.1f} s "
        f"{'<=' if total <= 30 else '>'} 30 s target; then reasons (pred_contrib TreeSHAP + "
        f"evidence days) for the {len(flagged):,} flagged {t_reasons:.1f} s; "
        f"{_load(time.process_time() - c0, time.perf_counter() - t0)}",
        flush=True,
    )
    if sql_reference:
        t4 = time.perf_counter()
        features.scoring_frame_sql(lake, as_of)
        t_sql = time.perf_counter() - t4
        print(
            f"risk score features: one-date path {t_features:.1f} s vs training SQL "
            f"{t_sql:.1f} s on the same {len(frame):,} students (ratio {t_sql / t_features:.1f}x)",
            flush=True,
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--train-edfi", type=Path, default=TRAIN_DIR)
    parser.add_argument("--train-students", type=int, default=20_000)
    parser.add_argument("--step", type=int, default=1)
    parser.add_argument("--score-students", type=int, default=1_000_000)
    parser.add_argument("--as-of", type=date.fromisoformat, default=date(2026, 3, 2))
    parser.add_argument("--skip-score", action="store_true")
    parser.add_argument("--sql-reference", action="store_true", help="time the SQL features too")
    args = parser.parse_args(argv)
    ensure(args.train_edfi, args.train_students, date(2026, 6, 29))
    model, columns = bench_train(args.train_edfi, args.step)
    if not args.skip_score:
        bench_score(
            args.train_edfi, args.score_students, args.as_of, model, columns, args.sql_reference
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
