"""From simulated days to Ed-Fi attendance events: category, duration, reason, timestamps."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, fields, replace

import numpy as np

from attend.roster.generate import attendance as att
from attend.roster.generate import descriptors as d
from attend.roster.generate.enrollment import Stints
from attend.roster.generate.people import Households, Students

DURATIONS = (None, 0.25, 0.5, 0.75)  # index 0 = no eventDuration
REASONS = (
    "Illness",
    "Medical appointment",
    "Dental appointment",
    "Family emergency",
    "Religious observance",
    "Bereavement",
    "Court appearance",
    "College visit",
    "No note received",
    "Parent called, no reason given",
    "Missed the bus",
    "Transportation",
    "Family obligation",
    "Caring for a sibling",
    "Overslept",
    "Bus late",
    "Sick, sent home",
    "Hospitalization",
    "Stomach ache",
)
R = {name: i for i, name in enumerate(REASONS)}

# Context → (chance of giving a reason, {reason: weight}).
POOLS: dict[str, tuple[float, dict[str, float]]] = {
    "excused": (
        0.7,
        {
            "Illness": 0.42,
            "Medical appointment": 0.16,
            "Dental appointment": 0.06,
            "Family emergency": 0.08,
            "Religious observance": 0.1,
            "Bereavement": 0.04,
            "Court appearance": 0.03,
            "College visit": 0.03,
        },
    ),
    "excused_ill": (0.85, {"Illness": 0.75, "Medical appointment": 0.15, "Hospitalization": 0.1}),
    "excused_bullying": (0.8, {"Illness": 0.5, "Stomach ache": 0.5}),
    "unexcused": (
        0.15,
        {"No note received": 0.6, "Parent called, no reason given": 0.25, "Missed the bus": 0.15},
    ),
    "unexcused_housing": (0.6, {"Transportation": 0.6, "No note received": 0.4}),
    "family": (0.7, {"Family obligation": 0.6, "Caring for a sibling": 0.4}),
    "partial": (
        0.6,
        {"Medical appointment": 0.4, "Sick, sent home": 0.3, "Family obligation": 0.3},
    ),
    "tardy": (
        0.3,
        {"Overslept": 0.35, "Bus late": 0.35, "Transportation": 0.15, "Medical appointment": 0.15},
    ),
    "tardy_housing": (0.7, {"Transportation": 0.8, "Bus late": 0.2}),
    "early": (
        0.6,
        {
            "Medical appointment": 0.4,
            "Sick, sent home": 0.3,
            "Dental appointment": 0.15,
            "Family obligation": 0.15,
        },
    ),
}
CONTEXTS = tuple(POOLS)
C = {name: i for i, name in enumerate(CONTEXTS)}

EXCUSED_BY_LEVEL = np.array([0.5, 0.42, 0.32])
EXCUSED_BY_MARK = {
    att.MARK_HOUSING: 0.15,
    att.MARK_STREAK: 0.95,
    att.MARK_RECOVERY: 0.75,
    att.MARK_BULLYING: 0.55,
    att.MARK_FAMILY: 0.3,
}
PARTIAL_SHARE = 0.07  # absences recorded as Partial with a duration
HALF_DAY_SHARE = 0.03  # absences kept in their category with eventDuration 0.5
LATE_EXCUSAL_SHARE = 0.35  # excused absences first entered as unexcused, fixed days later
MORNING = (12 * 60, 16 * 60)  # UTC minutes: 8:00–12:00 in New York
AFTERNOON = (17 * 60, 22 * 60)


@dataclass(frozen=True)
class SchoolEvents:
    """Columns of studentSchoolAttendanceEvents (one row per event)."""

    row: np.ndarray
    school: np.ndarray
    date: np.ndarray  # date ordinal
    category: np.ndarray
    duration: np.ndarray  # index into DURATIONS
    reason: np.ndarray  # index into REASONS, -1 = none
    delay: np.ndarray  # days until excused (0 = recorded as is)
    modified: np.ndarray  # date ordinal of _lastModifiedDate
    minute: np.ndarray  # UTC minute of day of _lastModifiedDate
    fix_minute: np.ndarray  # UTC minute of day the absence was excused, when delayed

    def __len__(self) -> int:
        return len(self.row)

    def take(self, index: np.ndarray) -> SchoolEvents:
        return SchoolEvents(*(getattr(self, f.name)[index] for f in fields(self)))

    @staticmethod
    def concat(parts: list[SchoolEvents]) -> SchoolEvents:
        cols = (np.concatenate([getattr(p, f.name) for p in parts]) for f in fields(SchoolEvents))
        return SchoolEvents(*cols)

    def sorted(self) -> SchoolEvents:
        return self.take(np.lexsort((self.category, self.date, self.row)))


@dataclass(frozen=True)
class SectionEvents:
    row: np.ndarray
    school: np.ndarray
    date: np.ndarray
    grade: np.ndarray
    period: np.ndarray
    cohort: np.ndarray
    minute: np.ndarray

    def __len__(self) -> int:
        return len(self.row)

    def take(self, index: np.ndarray) -> SectionEvents:
        return SectionEvents(*(getattr(self, f.name)[index] for f in fields(self)))


@dataclass(frozen=True)
class Context:
    """Batch facts the event builders need."""

    students: Students
    households: Households
    stints: Stints
    day_ordinals: np.ndarray  # school-day index → date ordinal
    school_on: np.ndarray  # students × days


def school_events(ctx: Context, rec: att.DayRecords, rng: np.random.Generator) -> SchoolEvents:
    """Absences, tardies and early departures of the whole year, sorted by student and day."""
    parts = [
        _absences(ctx, rec, rng),
        _presence_events(ctx, rec.tardy, d.CAT_TARDY, rec.mark, rng),
        _presence_events(ctx, rec.early, d.CAT_EARLY, rec.mark, rng),
    ]
    return SchoolEvents.concat(parts).sorted()


def _base(ctx: Context, rows: np.ndarray, days: np.ndarray, category: np.ndarray) -> SchoolEvents:
    n = len(rows)
    dates = ctx.day_ordinals[days]
    return SchoolEvents(
        row=rows,
        school=ctx.school_on[rows, days],
        date=dates,
        category=category,
        duration=np.zeros(n, np.int8),
        reason=np.full(n, -1, np.int16),
        delay=np.zeros(n, np.int16),
        modified=dates,
        minute=np.zeros(n, np.int16),
        fix_minute=np.zeros(n, np.int16),
    )


def _absences(ctx: Context, rec: att.DayRecords, rng: np.random.Generator) -> SchoolEvents:
    """Absences: excused or not (by level, household and life event), some partial.

    1. The chance of being excused depends on level and, on life-event days, on the event.
    2. 7% of ordinary absences are `Partial` with a duration, 3% are half days.
    3. 35% of excused absences were first entered as unexcused and excused 2–12 days later.
    """
    rows, days = np.nonzero(rec.absent)
    mark, continued = rec.mark[rows, days], rec.continued[rows, days]
    excused = rng.random(len(rows)) < _excused_chance(ctx, rows, mark, continued)
    category = np.where(excused, d.CAT_EXCUSED, d.CAT_UNEXCUSED).astype(np.int8)
    ev = _base(ctx, rows, days, category)
    ordinary = (mark == att.MARK_NONE) & ~continued
    ev = _partial_days(ev, ordinary, rng)
    ev = replace(ev, reason=_reasons(_absence_context(ev, mark, continued), rng))
    late = (ev.category == d.CAT_EXCUSED) & (rng.random(len(ev)) < LATE_EXCUSAL_SHARE)
    delay = np.where(late, rng.integers(2, 13, size=len(ev)), 0).astype(np.int16)
    minute, fix_minute = _minutes(len(ev), MORNING, rng), _minutes(len(ev), AFTERNOON, rng)
    return replace(ev, delay=delay, minute=minute, fix_minute=fix_minute)


def _excused_chance(
    ctx: Context, rows: np.ndarray, mark: np.ndarray, continued: np.ndarray
) -> np.ndarray:
    chance = EXCUSED_BY_LEVEL[ctx.students.level[rows]]
    chance = np.where(continued, 0.8, chance)
    for code, value in EXCUSED_BY_MARK.items():
        chance = np.where(mark == code, value, chance)
    return chance


def _partial_days(ev: SchoolEvents, ordinary: np.ndarray, rng: np.random.Generator) -> SchoolEvents:
    u = rng.random(len(ev))
    partial = ordinary & (u < PARTIAL_SHARE)
    half = ordinary & (u >= PARTIAL_SHARE) & (u < PARTIAL_SHARE + HALF_DAY_SHARE)
    length = rng.integers(1, 4, size=len(ev)).astype(np.int8)
    category = np.where(partial, d.CAT_PARTIAL, ev.category).astype(np.int8)
    duration = np.select([partial, half], [length, 2], 0).astype(np.int8)
    return replace(ev, category=category, duration=duration)


def _absence_context(ev: SchoolEvents, mark: np.ndarray, continued: np.ndarray) -> np.ndarray:
    excused = ev.category == d.CAT_EXCUSED
    ill = continued | (mark == att.MARK_STREAK) | (mark == att.MARK_RECOVERY)
    conditions = [
        ev.category == d.CAT_PARTIAL,
        mark == att.MARK_FAMILY,
        excused & ill,
        excused & (mark == att.MARK_BULLYING),
        excused,
        mark == att.MARK_HOUSING,
    ]
    choices = [
        C["partial"],
        C["family"],
        C["excused_ill"],
        C["excused_bullying"],
        C["excused"],
        C["unexcused_housing"],
    ]
    return np.select(conditions, choices, C["unexcused"])


def _reasons(context: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Draw an attendanceEventReason (or none) per event from its context's pool."""
    reason = np.full(len(context), -1, dtype=np.int16)
    u = rng.random(len(context))
    for code, (chance, pool) in enumerate(POOLS.values()):
        mask = (context == code) & (u < chance)
        weights = np.array(list(pool.values()))
        picks = rng.choice(len(pool), size=int(mask.sum()), p=weights / weights.sum())
        reason[mask] = np.array([R[name] for name in pool], dtype=np.int16)[picks]
    return reason


def _minutes(n: int, window: tuple[int, int], rng: np.random.Generator) -> np.ndarray:
    return rng.integers(window[0], window[1], size=n).astype(np.int16)


def _presence_events(
    ctx: Context, hit: np.ndarray, category: int, marks: np.ndarray, rng: np.random.Generator
) -> SchoolEvents:
    """Tardies (morning) and early departures (afternoon) on days present."""
    rows, days = np.nonzero(hit)
    ev = _base(ctx, rows, days, np.full(len(rows), category, np.int8))
    mark = marks[rows, days]
    if category == d.CAT_TARDY:
        plain, window = C["tardy"], MORNING
        housing = np.where(mark == att.MARK_HOUSING, C["tardy_housing"], plain)
        context = np.where(mark == att.MARK_FAMILY, C["family"], housing)
    else:
        window = AFTERNOON
        context = np.where(mark == att.MARK_FAMILY, C["family"], C["early"])
    return replace(ev, reason=_reasons(context, rng), minute=_minutes(len(ev), window, rng))


def as_of_view(ev: SchoolEvents, as_of: dt.date) -> SchoolEvents:
    """The events as the SIS shows them on `as_of`.

    Events after `as_of` do not exist yet; an absence excused later is still `Unexcused`
    (without its reason) until the day it was excused, and from then on carries that day as
    `_lastModifiedDate`.
    """
    keep = ev.date <= as_of.toordinal()
    ev = ev.take(keep)
    fixed = ev.date + ev.delay
    pending = (ev.delay > 0) & (fixed > as_of.toordinal())
    done = (ev.delay > 0) & ~pending
    return replace(
        ev,
        category=np.where(pending, d.CAT_UNEXCUSED, ev.category).astype(np.int8),
        reason=np.where(pending, -1, ev.reason).astype(np.int16),
        modified=np.where(done, fixed, ev.date),
        minute=np.where(done, ev.fix_minute, ev.minute).astype(np.int16),
    )


def section_events(
    ctx: Context, rec: att.DayRecords, cohort: np.ndarray, rng: np.random.Generator
) -> SectionEvents:
    """Unexcused section absences for the periods skipped on days present."""
    rows, days, period = rec.skips
    minute = (12 * 60 + 30 + period * 55 + rng.integers(0, 20, size=len(rows))).astype(np.int16)
    return SectionEvents(
        row=rows,
        school=ctx.school_on[rows, days],
        date=ctx.day_ordinals[days],
        grade=ctx.students.grade[rows],
        period=period,
        cohort=cohort[rows],
        minute=minute,
    )
