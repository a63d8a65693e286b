"""ATTENDANCE-RULES written as plain loops: the oracle for the engine's property tests.

Nothing clever: every enrolled school day of every student is enumerated. Input is a mapping of
normalised table name (see the package docstring) to a list of row dicts; output rows have the
engine's columns (`metrics.METRIC_COLUMNS`, `patterns.FLAG_COLUMNS`) and values.
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from fractions import Fraction
from typing import Any

from .schema import (
    ABSENCE_CATEGORIES,
    CATEGORIES,
    EARLY_DEPARTURE,
    EXCUSED,
    IGNORED_EXIT_CODES,
    PRESENT_CATEGORIES,
    SEVERITY,
    TARDY,
    UNEXCUSED,
)
from .settings import MICRO, Policy

__all__ = ["Day", "Reference", "reference_flags", "reference_metrics"]

Row = Mapping[str, Any]
Key = tuple[str, str, int]
_CANONICAL = {name.lower(): name for name in CATEGORIES}


@dataclass
class Day:
    """One resolved day of one student at one school."""

    severity: int = -1
    absent: int = 0
    absence_severity: int = 0
    tardy: bool = False
    present: bool = False
    full_absence: bool = False


@dataclass
class Reference:
    """Everything derived from the input, per student × school × year."""

    as_of: date
    policy: Policy
    calendars: dict[tuple[str, int], list[date]] = field(default_factory=dict)
    counted: dict[Key, list[date]] = field(default_factory=dict)
    planned: dict[Key, int] = field(default_factory=dict)
    days: dict[Key, dict[date, Day]] = field(default_factory=dict)
    section_absent: dict[Key, set[date]] = field(default_factory=dict)

    @classmethod
    def build(cls, data: Mapping[str, Sequence[Row]], *, as_of: date, policy: Policy) -> Reference:
        ref = cls(as_of=as_of, policy=policy)
        ref.calendars = _calendars(data.get("school_days", []))
        cuts = ref._cuts(data)
        ref._enroll(data.get("enrollments", []), cuts)
        ref.days = ref._resolve(data.get("events", []))
        ref.section_absent = ref._sections(data.get("section_events", []))
        return ref

    # -- school days and enrolled days ---------------------------------------------------

    def _year_of(self, school: str, day: date) -> int | None:
        for (sch, year), dates in self.calendars.items():
            if sch == school and day in dates:
                return year
        return None

    def _cuts(self, data: Mapping[str, Sequence[Row]]) -> dict[tuple[str, int], date]:
        reported: dict[tuple[str, int], list[date]] = defaultdict(list)
        for row in [*data.get("events", []), *data.get("section_events", [])]:
            year = self._year_of(row["school_id"], row["date"])
            if year is not None and row["date"] <= self.as_of:
                reported[(row["school_id"], year)].append(row["date"])
        cuts = {}
        for key, dates in self.calendars.items():
            cut = self.as_of
            running = dates[0] <= self.as_of <= dates[-1]
            if self.policy.cut_at_last_reported and running:
                last = max(reported[key]) if reported[key] else dates[0] - timedelta(days=1)
                cut = min(cut, last)
            cuts[key] = cut
        return cuts

    def _enroll(self, enrollments: Iterable[Row], cuts: Mapping[tuple[str, int], date]) -> None:
        planned: dict[Key, set[date]] = defaultdict(set)
        for row in enrollments:
            if not _valid(row):
                continue
            end = row.get("exit_date")
            if end is not None and not self.policy.exit_inclusive:
                end = end - timedelta(days=1)
            for (school, year), dates in self.calendars.items():
                if school != row["school_id"]:
                    continue
                inside = {d for d in dates if d >= row["entry_date"] and (end is None or d <= end)}
                if inside:
                    planned[(row["student_id"], school, year)] |= inside
        for key, enrolled in planned.items():
            first = self.calendars[(key[1], key[2])][0]
            if first > self.as_of:
                continue
            self.planned[key] = len(enrolled)
            cut = cuts[(key[1], key[2])]
            self.counted[key] = sorted(d for d in enrolled if d <= cut)

    # -- a day's attendance ---------------------------------------------------------------

    def _usable(self, row: Row) -> Key | None:
        category = _canonical(row.get("category"))
        if category is None or row["date"] > self.as_of:
            return None
        recorded = row.get("recorded_at")
        late = recorded is not None and recorded > datetime.combine(self.as_of, time.max)
        if self.policy.ignore_recorded_after_as_of and late:
            return None
        year = self._year_of(row["school_id"], row["date"])
        if year is None or (row.get("school_year") not in (None, year)):
            return None
        key = (row["student_id"], row["school_id"], year)
        if row["date"] not in self.counted.get(key, []):
            return None
        return key

    def _resolve(self, events: Iterable[Row]) -> dict[Key, dict[date, Day]]:
        days: dict[Key, dict[date, Day]] = defaultdict(dict)
        for row in events:
            key = self._usable(row)
            if key is None:
                continue
            day = days[key].setdefault(row["date"], Day())
            _apply(day, row, self.policy)
        return days

    def _sections(self, events: Iterable[Row]) -> dict[Key, set[date]]:
        absent: dict[Key, set[date]] = defaultdict(set)
        for row in events:
            key = self._usable(row)
            if key is not None and _canonical(row["category"]) in (UNEXCUSED, EXCUSED):
                absent[key].add(row["date"])
        return absent

    # -- per student ------------------------------------------------------------------------

    def enrolled(self, key: Key) -> int:
        if self.policy.positive_reporting(key[1]):
            return len(self.days.get(key, {}))
        return len(self.counted[key])

    def absences(self, key: Key) -> list[date]:
        """Counted days with absent fraction ≥ the policy's "an absence" minimum."""
        half = self.policy.micro(self.policy.absence_day_min_fraction)
        days = self.days.get(key, {})
        return [d for d in self.counted[key] if d in days and days[d].absent >= half]

    def runs(self, key: Key) -> list[list[date]]:
        """Runs of absence days consecutive in the enrolled-day numbering."""
        position = {d: i for i, d in enumerate(self.counted[key], start=1)}
        runs: list[list[date]] = []
        for d in self.absences(key):
            if runs and position[runs[-1][-1]] + 1 == position[d]:
                runs[-1].append(d)
            else:
                runs.append([d])
        return runs

    def current_run(self, key: Key) -> list[date]:
        runs = self.runs(key)
        counted = self.counted[key]
        if runs and counted and runs[-1][-1] == counted[-1]:
            return runs[-1]
        return []


def reference_metrics(ref: Reference) -> list[dict[str, Any]]:
    """Metric rows, sorted by school year, school and student."""
    rows = [_metric_row(ref, key) for key in ref.counted]
    return sorted(rows, key=lambda r: (r["school_year"], r["school_id"], r["student_id"]))


def _metric_row(ref: Reference, key: Key) -> dict[str, Any]:
    policy, days = ref.policy, ref.days.get(key, {})
    counted = set(ref.counted[key])
    used = [day for d, day in days.items() if d in counted]
    enrolled = ref.enrolled(key)
    absent = sum(day.absent for day in used)
    present = enrolled * MICRO - absent
    eligible = enrolled >= policy.eligibility_min_days and (
        present > 0 or not policy.eligibility_requires_present_day
    )
    share = Fraction(present, enrolled * MICRO) if enrolled else None
    runs = ref.runs(key)
    allowed = int(policy.chronic_threshold * ref.planned[key])  # floor: both are non-negative
    return {
        "student_id": key[0],
        "school_id": key[1],
        "school_year": key[2],
        "as_of": ref.as_of,
        "enrolled_days": enrolled,
        "absent_days": absent / MICRO,
        "excused_absent_days": _split(used, SEVERITY[EXCUSED]) / MICRO,
        "unexcused_absent_days": _split(used, SEVERITY[UNEXCUSED]) / MICRO,
        "tardy_days": sum(1 for day in used if day.tardy),
        "present_days": present / MICRO,
        "attendance_rate": present / (enrolled * MICRO) if enrolled else None,
        "eligible": eligible,
        "chronic": (Fraction(absent, enrolled * MICRO) >= policy.chronic_threshold)
        if eligible
        else None,
        "tier": _tier(share, policy) if eligible and share is not None else None,
        "longest_absence_streak": max((len(run) for run in runs), default=0),
        "current_absence_streak": len(ref.current_run(key)),
        "absence_budget": (allowed * MICRO - absent) / MICRO,
    }


def _split(days: Iterable[Day], severity: int) -> int:
    return sum(day.absent for day in days if day.absence_severity == severity)


def _tier(share: Fraction, policy: Policy) -> str:
    if share > policy.tier_satisfactory_above:
        return "satisfactory"
    if share > policy.tier_at_risk_above:
        return "at_risk"
    if share > policy.tier_moderate_above:
        return "moderate_chronic"
    return "severe_chronic"


# -- patterns -------------------------------------------------------------------------------


def reference_flags(ref: Reference) -> list[dict[str, Any]]:
    """Flag rows, sorted by school year, school, student and pattern."""
    found = []
    for key in ref.counted:
        for pattern, detector in _DETECTORS.items():
            hit = detector(ref, key)
            if hit is not None:
                evidence, detail, crossing = hit
                found.append(
                    {
                        "student_id": key[0],
                        "school_id": key[1],
                        "school_year": key[2],
                        "pattern": pattern,
                        "detected_on": ref.as_of,
                        "evidence_dates": sorted(evidence),
                        "detail": detail,
                        "projected_crossing_date": crossing,
                    }
                )
    return sorted(
        found, key=lambda r: (r["school_year"], r["school_id"], r["student_id"], r["pattern"])
    )


Hit = tuple[list[date], str, date | None] | None


def _recent(ref: Reference, key: Key) -> list[date]:
    return ref.counted[key][-ref.policy.recent_window_days :]


def _sudden_drop(ref: Reference, key: Key) -> Hit:
    policy, width, counted = ref.policy, ref.policy.recent_window_days, ref.counted[key]
    if len(counted) < width + policy.sudden_drop_min_prior_days:
        return None
    days = ref.days.get(key, {})
    recent, earlier = counted[-width:], counted[:-width]
    recent_absent = sum(days[d].absent for d in recent if d in days)
    earlier_absent = sum(days[d].absent for d in earlier if d in days)
    absences = [d for d in ref.absences(key) if d in recent]
    drop = Fraction(recent_absent, width * MICRO) - Fraction(earlier_absent, len(earlier) * MICRO)
    if len(absences) < policy.sudden_drop_min_absences or drop < policy.sudden_drop_points:
        return None
    now = _percent(width * MICRO - recent_absent, width * MICRO)
    before = _percent(len(earlier) * MICRO - earlier_absent, len(earlier) * MICRO)
    detail = (
        f"{len(absences)} absences in the last {width} school days; "
        f"attendance {now}% against {before}% before"
    )
    return [d for d in recent if d in days and days[d].absent > 0], detail, None


def _streak(ref: Reference, key: Key) -> Hit:
    run = ref.current_run(key)
    if len(run) < ref.policy.streak_min_days:
        return None
    return run, f"absent the last {len(run)} school days in a row", None


def _weekday(ref: Reference, key: Key) -> Hit:
    absences = ref.absences(key)
    edges = [d for d in absences if d.weekday() in (0, 4)]
    policy = ref.policy
    if len(absences) < policy.weekday_min_absences:
        return None
    if Fraction(len(edges), len(absences)) < policy.weekday_min_share:
        return None
    return edges, f"{len(edges)} of {len(absences)} absences on Mondays or Fridays", None


def _around_breaks(ref: Reference, key: Key) -> Hit:
    calendar = ref.calendars[(key[1], key[2])]
    min_gap = ref.policy.break_min_calendar_days
    edges = set()
    for before, after in itertools.pairwise(calendar):
        if (after - before).days - 1 >= min_gap:
            edges |= {before, after}
    hits = [d for d in ref.absences(key) if d in edges]
    if len(hits) < ref.policy.break_min_absences:
        return None
    return hits, f"{len(hits)} absences on the school day before or after a break", None


def _period_skipping(ref: Reference, key: Key) -> Hit:
    policy, days = ref.policy, ref.days.get(key, {})
    half = policy.micro(policy.absence_day_min_fraction)
    skipped = [
        d
        for d in _recent(ref, key)
        if d in ref.section_absent.get(key, set()) and (days[d].absent if d in days else 0) < half
    ]
    if len(skipped) < policy.period_skip_min_days:
        return None
    detail = (
        f"absent from a class on {len(skipped)} of the last {policy.recent_window_days} "
        "school days while present for the day"
    )
    return skipped, detail, None


def _tardiness(ref: Reference, key: Key) -> Hit:
    days = ref.days.get(key, {})
    tardy = [d for d in _recent(ref, key) if d in days and days[d].tardy]
    if len(tardy) < ref.policy.tardy_min_days:
        return None
    return (
        tardy,
        f"{len(tardy)} tardy days in the last {ref.policy.recent_window_days} school days",
        None,
    )


def _on_track(ref: Reference, key: Key) -> Hit:
    policy, ratio = ref.policy, ref.policy.chronic_threshold
    counted, days = ref.counted[key], ref.days.get(key, {})
    enrolled, planned = len(counted), ref.planned[key]
    absent = sum(days[d].absent for d in counted if d in days)
    if enrolled < policy.on_track_min_days or absent == 0:
        return None
    if Fraction(absent, MICRO) >= ratio * planned or Fraction(absent, enrolled * MICRO) < ratio:
        return None
    remaining = ratio * planned - Fraction(absent, MICRO)
    ahead = -(-remaining * enrolled // Fraction(absent, MICRO))  # ceil
    calendar = ref.calendars[(key[1], key[2])]
    target = calendar.index(counted[-1]) + int(ahead)
    crossing = calendar[target] if target < len(calendar) else None
    projected = absent * planned // enrolled
    detail = (
        f"{_tenths(absent)} days absent in {enrolled} school days; at this rate "
        f"{_tenths(projected)} of {planned} planned days"
    )
    return [d for d in counted if d in days and days[d].absent > 0], detail, crossing


_DETECTORS = {
    "sudden_drop": _sudden_drop,
    "streak": _streak,
    "weekday_concentration": _weekday,
    "around_breaks": _around_breaks,
    "period_skipping": _period_skipping,
    "growing_tardiness": _tardiness,
    "on_track_to_chronic": _on_track,
}


# -- helpers -------------------------------------------------------------------------------


def _calendars(school_days: Iterable[Row]) -> dict[tuple[str, int], list[date]]:
    calendars: dict[tuple[str, int], set[date]] = defaultdict(set)
    for row in school_days:
        calendars[(row["school_id"], row["school_year"])].add(row["date"])
    return {key: sorted(dates) for key, dates in calendars.items()}


def _valid(row: Row) -> bool:
    exit_type = (row.get("exit_type") or "").strip().lower()
    if exit_type in IGNORED_EXIT_CODES:
        return False
    return row.get("exit_date") is None or row["exit_date"] >= row["entry_date"]


def _canonical(category: str | None) -> str | None:
    return _CANONICAL.get((category or "").strip().lower())


def _apply(day: Day, row: Row, policy: Policy) -> None:
    category = _canonical(row["category"])
    assert category is not None
    severity = SEVERITY[category]
    day.severity = max(day.severity, severity)
    day.tardy |= category in (TARDY, EARLY_DEPARTURE)
    day.present |= category in PRESENT_CATEGORIES
    day.full_absence |= category in (UNEXCUSED, EXCUSED)
    if category not in ABSENCE_CATEGORIES:
        return
    fraction = _fraction(row.get("duration"), category, policy)
    if (severity, fraction) > (day.absence_severity, day.absent):
        day.absence_severity, day.absent = severity, fraction


def _fraction(duration: float | None, category: str, policy: Policy) -> int:
    if duration is not None and duration == duration:  # NaN is "not given"
        return max(0, min(MICRO, round(duration * MICRO)))
    if category in (UNEXCUSED, EXCUSED):
        return MICRO
    return policy.micro(policy.partial_default)


def _percent(part: int, whole: int) -> int:
    return (part * 200 + whole) // (whole * 2)


def _tenths(micro: int) -> str:
    tenths = (micro + MICRO // 20) // (MICRO // 10)
    return f"{tenths // 10}.{tenths % 10}"
