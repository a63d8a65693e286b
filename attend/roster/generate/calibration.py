"""Attendance-shape factors calibrated on the NYC DOE daily school attendance of 2014–15.

The generator never reads the NYC file: the figures below were computed once by
`derive_from_nyc` and are baked in as constants. `CALIBRATION.md` explains each figure and the
test suite recomputes them whenever the shared data folder is present.
"""

from __future__ import annotations

import csv
import datetime as dt
import re
import statistics
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

SOURCE = (
    "NYC DOE daily school attendance 2014-15 (shared/data/attendance/"
    "nyc-doe-daily-school-attendance/daily_school_attendance_2014-15.csv, 244,872 rows, "
    "citywide TOTAL row per day + one row per school)"
)

# Relative absence by weekday (Mon..Fri), mean 1 over the five weekdays.
DOW_FACTORS: tuple[float, float, float, float, float] = (1.085, 0.945, 0.938, 0.933, 1.099)

# Relative absence by calendar month. NYC data start on 2014-10-20, so September has no
# figure of its own: it borrows October's (the start of the year is the best-attended stretch
# in every district report we know, and October is the closest observed month).
MONTH_FACTORS: dict[int, float] = {
    9: 0.864,
    10: 0.864,
    11: 0.894,
    12: 0.977,
    1: 0.975,
    2: 0.977,
    3: 0.964,
    4: 0.900,
    5: 1.041,
    6: 1.329,
}

# Absence on the school day before/after a break, relative to what weekday and month predict.
# A "recess" is 4+ calendar days without school (Thanksgiving, winter, mid-winter, spring);
# a "long weekend" is exactly 3 (Monday holidays).
BEFORE_RECESS = 1.695
AFTER_RECESS = 1.007
BEFORE_LONG_WEEKEND = 1.069
AFTER_LONG_WEEKEND = 1.122

# Open days with unusually high absence (snow, cold snaps, Halloween, exam days): share of
# ordinary school days and their mean relative absence.
BAD_DAY_SHARE = 0.099
BAD_DAY_FACTOR = 1.699

# Median school absence rate by level relative to elementary schools (school level read from
# the school name: P.S. = elementary, I.S./M.S./J.H.S. = middle, "High School" = high).
LEVEL_FACTORS: dict[str, float] = {"E": 1.0, "M": 1.016, "H": 1.989}

# NYC absolute figures, kept for the manifest (the generator's own base rate is tuned to a
# chronic-absence share of ~20-25%, not to NYC's level).
NYC_MEAN_ABSENCE = 0.0954


@dataclass(frozen=True)
class Figures:
    """Everything `derive_from_nyc` measures; `baked()` returns the constants above."""

    dow: tuple[float, ...]
    month: dict[int, float]
    before_recess: float
    after_recess: float
    before_long_weekend: float
    after_long_weekend: float
    bad_day_share: float
    bad_day_factor: float
    level: dict[str, float]
    mean_absence: float
    school_days: int = 0
    breaks: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def baked() -> Figures:
    """The figures the generator uses (constants of this module)."""
    return Figures(
        dow=DOW_FACTORS,
        month=dict(MONTH_FACTORS),
        before_recess=BEFORE_RECESS,
        after_recess=AFTER_RECESS,
        before_long_weekend=BEFORE_LONG_WEEKEND,
        after_long_weekend=AFTER_LONG_WEEKEND,
        bad_day_share=BAD_DAY_SHARE,
        bad_day_factor=BAD_DAY_FACTOR,
        level=dict(LEVEL_FACTORS),
        mean_absence=NYC_MEAN_ABSENCE,
    )


# --- derivation from the NYC file (tests and documentation only) ---------------------------


def derive_from_nyc(daily_csv: Path, schools_csv: Path) -> Figures:
    """Recompute every factor from the NYC daily attendance file.

    1. Keep the citywide `TOTAL` rows with a positive percentage: those are the school days
       (a zero TOTAL marks a closure such as Election Day or the 2015-01-27 blizzard).
    2. Daily absence a = 1 - pct/100.
    3. Breaks are runs of 3+ calendar days without a school day; mark the school day before
       and after each, as recess (4+ days) or long weekend (3 days).
    4. Baseline = centred rolling median of a over 15 school days; a day is anomalous when
       |a/baseline - 1| exceeds 4 median absolute deviations.
    5. Clean days are neither anomalous nor next to a break. Weekday factor = mean a/baseline
       per weekday over clean days, rescaled to mean 1.
    6. Month factor = mean of a/weekday factor per month over clean days, over the overall mean.
    7. Expected absence = mean × weekday × month; break factors are mean actual/expected over
       the days before/after each break class; bad days are the anomalous high days that are
       not next to a break.
    8. Level factors = median of per-school mean absence by level, over elementary's.
    """
    readings = _readings(daily_csv)
    days, absence = _citywide_absence(readings["TOTAL"])
    before, after = _break_neighbours(days)
    baseline = _rolling_median(absence, 15)
    ratio = [a / b for a, b in zip(absence, baseline, strict=True)]
    anomalous = _anomalies(ratio)
    clean = [i for i in range(len(days)) if i not in anomalous | set(before) | set(after)]
    dow = _dow_factors(days, ratio, clean)
    month, mean = _month_factors(days, absence, dow, clean)
    expected = [mean * dow[d.weekday()] * month[d.month] for d in days]
    actual_over_expected = [a / e for a, e in zip(absence, expected, strict=True)]
    return _assemble(
        days,
        actual_over_expected,
        before,
        after,
        anomalous,
        dow,
        month,
        mean,
        _level_factors(readings, schools_csv),
    )


def _assemble(
    days: list[dt.date],
    aoe: list[float],
    before: dict[int, int],
    after: dict[int, int],
    anomalous: set[int],
    dow: list[float],
    month: dict[int, float],
    mean: float,
    level: dict[str, float],
) -> Figures:
    """Gather the break, bad-day and level figures into one `Figures`."""
    near = set(before) | set(after)
    high = [i for i in anomalous if i not in near and aoe[i] > 1]
    ordinary = [i for i in range(len(days)) if i not in near]
    month_full = {9: month[10], **month}
    return Figures(
        dow=tuple(round(x, 3) for x in dow),
        month={m: round(month_full[m], 3) for m in (9, 10, 11, 12, 1, 2, 3, 4, 5, 6)},
        before_recess=_mean_of(aoe, (i for i, n in before.items() if n >= 4)),
        after_recess=_mean_of(aoe, (i for i, n in after.items() if n >= 4)),
        before_long_weekend=_mean_of(aoe, (i for i, n in before.items() if n == 3)),
        after_long_weekend=_mean_of(aoe, (i for i, n in after.items() if n == 3)),
        bad_day_share=round(len(high) / len(ordinary), 3),
        bad_day_factor=_mean_of(aoe, high),
        level=level,
        mean_absence=round(mean, 4),
        school_days=len(days),
        breaks=[f"{days[i]}+{n}" for i, n in sorted(before.items())],
    )


def _mean_of(values: Sequence[float], index: Iterable[int]) -> float:
    return round(statistics.fmean(values[i] for i in index), 3)


def _readings(daily_csv: Path) -> dict[str, list[tuple[str, float]]]:
    """DBN (or TOTAL) → [(yyyymmdd, absence)] for the days it reported a positive rate."""
    out: dict[str, list[tuple[str, float]]] = defaultdict(list)
    with daily_csv.open(newline="", encoding="utf-8") as handle:
        rows = csv.reader(handle)
        header = next(rows)
        day, dbn, pct = (header.index(c) for c in ("ATTN_DATE_YMD", "DBN", "ATTN_PCT"))
        for row in rows:
            if (value := _pct(row[pct])) > 0:
                out[row[dbn]].append((row[day], 1 - value / 100))
    return out


def _citywide_absence(total: list[tuple[str, float]]) -> tuple[list[dt.date], list[float]]:
    days = [dt.datetime.strptime(day, "%Y%m%d").date() for day, _ in total]
    return days, [absence for _, absence in total]


def _rows(path: Path) -> Iterable[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        yield from csv.DictReader(handle)


def _pct(raw: str) -> float:
    """ATTN_PCT as a number; "NS" (not submitted) counts as zero."""
    try:
        return float(raw)
    except ValueError:
        return 0.0


def _break_neighbours(days: list[dt.date]) -> tuple[dict[int, int], dict[int, int]]:
    """Index of the school day before/after each break → the break's length in days."""
    before: dict[int, int] = {}
    after: dict[int, int] = {}
    for i in range(len(days) - 1):
        off = (days[i + 1] - days[i]).days - 1
        if off >= 3:
            before[i] = off
            after[i + 1] = off
    return before, after


def _rolling_median(values: list[float], width: int) -> list[float]:
    half = width // 2
    return [statistics.median(values[max(0, i - half) : i + half + 1]) for i in range(len(values))]


def _anomalies(ratio: list[float]) -> set[int]:
    mad = statistics.median(abs(r - 1) for r in ratio)
    return {i for i, r in enumerate(ratio) if abs(r - 1) > 4 * mad}


def _dow_factors(days: list[dt.date], ratio: list[float], clean: list[int]) -> list[float]:
    by_day: dict[int, list[float]] = defaultdict(list)
    for i in clean:
        by_day[days[i].weekday()].append(ratio[i])
    raw = [statistics.fmean(by_day[w]) for w in range(5)]
    scale = statistics.fmean(raw)
    return [x / scale for x in raw]


def _month_factors(
    days: list[dt.date], absence: list[float], dow: list[float], clean: list[int]
) -> tuple[dict[int, float], float]:
    adjusted = {i: absence[i] / dow[days[i].weekday()] for i in clean}
    mean = statistics.fmean(adjusted.values())
    by_month: dict[int, list[float]] = defaultdict(list)
    for i, value in adjusted.items():
        by_month[days[i].month].append(value)
    return {m: statistics.fmean(v) / mean for m, v in by_month.items()}, mean


_LEVEL_PATTERNS = (
    ("H", re.compile(r"HIGH SCHOOL|\bHS\b|H\.S\.|SECONDARY|EARLY COLLEGE|\bPREP")),
    ("M", re.compile(r"\bI\.S\.|\bM\.S\.|J\.H\.S|\bJHS\b|\bIS\b|\bMS\b|MIDDLE|INTERMEDIATE")),
    ("E", re.compile(r"\bP\.S\.|\bPS\b|ELEMENTARY|PRIMARY|EARLY CHILDHOOD")),
)


def school_level(name: str) -> str | None:
    """E, M or H read from an NYC school name; None when the name does not say."""
    upper = name.upper()
    return next((level for level, rx in _LEVEL_PATTERNS if rx.search(upper)), None)


def _level_factors(
    readings: dict[str, list[tuple[str, float]]], schools_csv: Path
) -> dict[str, float]:
    level_of = {r["DBN"]: school_level(r["SCHOOL_NAME"]) for r in _rows(schools_csv)}
    per_school = {dbn: [a for _, a in v] for dbn, v in readings.items() if dbn != "TOTAL"}
    medians = _median_by_level(per_school, level_of)
    return {lvl: round(medians[lvl] / medians["E"], 3) for lvl in ("E", "M", "H")}


def _median_by_level(
    per_school: dict[str, list[float]], level_of: dict[str, str | None]
) -> dict[str, float]:
    by_level: dict[str, list[float]] = defaultdict(list)
    for dbn, values in per_school.items():
        level = level_of.get(dbn)
        if level is not None:
            by_level[level].append(statistics.fmean(values))
    return {lvl: statistics.median(v) for lvl, v in by_level.items()}
