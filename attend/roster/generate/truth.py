"""Ground truth in `_truth/`: life events, planted data-quality events, the run manifest.

Importers and the engine never read this folder; it is what detectors are scored against.
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import numpy as np

from attend.roster.generate import attendance as att
from attend.roster.generate import descriptors as d
from attend.roster.generate.enrollment import Stints
from attend.roster.generate.events import DURATIONS, SchoolEvents

TRUTH_DIR = "_truth"
LIFE_EVENTS = "life_events.csv"
DATA_QUALITY = "data_quality.csv"
MANIFEST = "manifest.json"
LIFE_HEADER = ("student_id", "school_id", "cause", "start_date", "end_date")
QUALITY_HEADER = ("student_id", "school_id", "event_date", "category", "issue")


class CsvTruth:
    """An append-only CSV under `_truth/`, published with the rest of the run."""

    def __init__(self, path: Path, header: tuple[str, ...]) -> None:
        self.path = path
        self.temp = path.with_name(path.name + ".partial")
        self.count = 0
        self._file: IO[str] = self.temp.open("w", newline="", encoding="utf-8")
        self._writer = csv.writer(self._file, lineterminator="\n")
        self._writer.writerow(header)

    def write(self, rows: list[tuple[Any, ...]]) -> None:
        self._writer.writerows(rows)
        self.count += len(rows)

    def close(self) -> None:
        self._file.close()

    def commit(self) -> None:
        self.temp.replace(self.path)

    def discard(self) -> None:
        self.temp.unlink(missing_ok=True)


@dataclass
class Tally:
    """The simulator's own chronic-absence count, per student × school (ATTENDANCE-RULES)."""

    rows: int = 0
    eligible: int = 0
    chronic: int = 0
    by_cause: dict[str, int] = field(default_factory=lambda: dict.fromkeys(att.CAUSES, 0))

    def add(self, stints: Stints, events: TallyEvents, known: int) -> None:
        """Count enrolled days and absent fractions per stint, up to `known` school days."""
        n = len(stints.school_a)
        enrolled = np.stack(
            [
                _days(stints.start_a, stints.end_a, known),
                _days(stints.start_b, stints.end_b, known),
            ],
            axis=1,
        )
        enrolled[stints.no_show] = 0
        absent = (
            np.bincount(
                events.row * 2 + events.slot, weights=events.fraction, minlength=2 * n
            ).reshape(n, 2)
            if len(events)
            else np.zeros((n, 2))
        )
        present = enrolled - absent
        eligible = (enrolled >= 10) & (present > 0)
        self.rows += int((enrolled > 0).sum())
        self.eligible += int(eligible.sum())
        self.chronic += int((eligible & (absent >= 0.1 * enrolled)).sum())

    def rate(self) -> float | None:
        return round(self.chronic / self.eligible, 4) if self.eligible else None


def _days(start: np.ndarray, end: np.ndarray, known: int) -> np.ndarray:
    return np.asarray(np.clip(np.minimum(end, known - 1) - start + 1, 0, None), np.float64)


@dataclass(frozen=True)
class TallyEvents:
    """Just what `Tally.add` needs from events: row, stint slot, absent fraction."""

    row: np.ndarray
    slot: np.ndarray
    fraction: np.ndarray

    def __len__(self) -> int:
        return len(self.row)


def absent_fractions(ev: SchoolEvents, stints: Stints, day_ordinals: np.ndarray) -> TallyEvents:
    """Absent fraction per absence event (rule 6), and which stint it belongs to."""
    absence = np.isin(ev.category, (d.CAT_UNEXCUSED, d.CAT_EXCUSED, d.CAT_PARTIAL))
    ev = ev.take(absence)
    duration = np.array([np.nan, *DURATIONS[1:]])[ev.duration]
    default = np.where(ev.category == d.CAT_PARTIAL, 0.0, 1.0)
    fraction = np.where(ev.duration > 0, duration, default)
    end_a = day_ordinals[np.maximum(stints.end_a[ev.row], 0)]
    slot = ((stints.school_b[ev.row] >= 0) & (ev.date > end_a)).astype(np.int64)
    return TallyEvents(ev.row.astype(np.int64), slot, fraction)


def write_manifest(path: Path, manifest: dict[str, Any]) -> None:
    temp = path.with_name(path.name + ".partial")
    temp.write_text(json.dumps(manifest, indent=2, sort_keys=False) + "\n", encoding="utf-8")
    temp.replace(path)
