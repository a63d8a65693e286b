"""Small generated districts and trained runs for the risk tests (built once per process).

The generator is deterministic, so every test module sees the same 800 students; building
and training take a few seconds, which is why they are cached rather than rebuilt per test.
"""

from __future__ import annotations

import atexit
import datetime as dt
import functools
import shutil
import tempfile
from pathlib import Path

from .features import Lake, read_lake

YEAR_END = dt.date(2026, 6, 29)


def _scratch(prefix: str) -> Path:
    folder = Path(tempfile.mkdtemp(prefix=prefix))
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    return folder


@functools.cache
def district_folder(students: int = 800, seed: int = 11) -> Path:
    """A whole generated school year (records known up to the end of June) as Parquet."""
    from attend.roster.generate import generate

    out = _scratch("attend-risk-test-") / "lake"
    generate(
        students=students,
        seed=seed,
        out=out,
        fmt="parquet",
        as_of=YEAR_END,
        schools=None,
        progress=lambda done, total: None,
    )
    return out


def district_lake(students: int = 800, seed: int = 11) -> Lake:
    return read_lake(district_folder(students, seed))


@functools.cache
def trained_run(label: str = "label", step: int = 10) -> Path:
    """A run folder trained on the generated district (no Bowers plot)."""
    from .pipeline import Options, train_run

    models = _scratch("attend-risk-models-")
    options = Options(step=step, label=label, bowers_csv=None)
    return train_run(district_folder(), models, options=options)
