"""Daily attendance for a batch of students, vectorised over students × school days.

The whole year is simulated whatever the as-of date, and only the writing step cuts at
as-of: the same seed as of December is a prefix of the same seed as of June, so a risk flag
raised in December can be scored against what happened by June.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from attend.roster.generate import calibration as cal
from attend.roster.generate.enrollment import Stints
from attend.roster.generate.people import Households, Students

# Base daily absence probability of an elementary student with no risk factor and average
# frailty; tuned so the district's chronic-absence share lands near 20-25%.
BASE_RATE = 0.034
LEVEL_RATE = np.array([cal.LEVEL_FACTORS[lvl] for lvl in ("E", "M", "H")])
# Within a level: kindergarten and senior year are worse, the middle grades best.
GRADE_FACTORS = np.array([1.25, 1.08, 0.98, 0.94, 0.92, 0.94, 0.9, 1.0, 1.1, 0.9, 0.95, 1.02, 1.18])
ECON_FACTOR = 1.6
DISABILITY_FACTOR = 1.35
# Serious emotional disability, other health impairment, multiple disabilities.
HEAVY_DISABILITIES = (2, 5, 6)
HEAVY_DISABILITY_FACTOR = 1.8
FRAILTY_SHAPE = 0.9  # gamma shape of individual propensity: most rarely absent, a long tail
CONTINUATION = 0.3  # chance an absence runs on to the next school day (a few days' illness)
MAX_P = 0.92

TARDY_BASE = np.array([0.018, 0.024, 0.04])  # per present day, by level
TARDY_DOW = np.array([1.2, 1.0, 0.95, 0.95, 1.05])
GROWING_TARDY_SHARE = 0.05
EARLY_BASE = 0.006
SKIP_DOW = np.array([1.15, 0.9, 0.9, 0.95, 1.4])
SKIP_BASE = np.array([0.0, 0.012, 0.03])  # period-skipping days per present day, by level
SKIPPER_SHARE = 0.35  # share of secondary students who ever skip

CAUSES = ("housing_loss", "illness", "bullying", "family_duties")
HOUSING, ILLNESS, BULLYING, FAMILY = range(4)
LIFE_EVENT_SHARE = 0.04
CAUSE_WEIGHTS = np.array([0.2, 0.3, 0.25, 0.25])
DURATIONS = {HOUSING: (30, 90), ILLNESS: (15, 25), BULLYING: (20, 60), FAMILY: (25, 70)}
MIN_HISTORY = 20  # school days enrolled before a life event, so a drop can be seen

# Day marks: why a day's probabilities were raised (drives categories and reasons).
MARK_NONE, MARK_HOUSING, MARK_STREAK, MARK_RECOVERY, MARK_BULLYING, MARK_FAMILY = range(6)


@dataclass(frozen=True)
class DayGrid:
    """School-day features shared by every batch (whole year)."""

    factor: np.ndarray  # day factor of new absences (calendar.fresh_factors)
    weekday: np.ndarray
    school_factor: np.ndarray  # schools × days
    carry: np.ndarray  # can an absence run on into this day

    @property
    def days(self) -> int:
        return len(self.factor)


@dataclass(frozen=True)
class LifeEvents:
    row: np.ndarray
    cause: np.ndarray
    start: np.ndarray
    end: np.ndarray
    streak_end: np.ndarray  # illness only: last day of the forced absence streak
    period: np.ndarray  # bullying: the period the student avoids


@dataclass(frozen=True)
class Pressure:
    """Students × days probabilities before drawing."""

    absent: np.ndarray
    tardy: np.ndarray
    early: np.ndarray
    skip: np.ndarray
    forced: np.ndarray
    mark: np.ndarray


@dataclass(frozen=True)
class DayRecords:
    """What happened, students × days (whole year)."""

    absent: np.ndarray
    continued: np.ndarray
    tardy: np.ndarray
    early: np.ndarray
    mark: np.ndarray
    skips: tuple[np.ndarray, np.ndarray, np.ndarray]  # row, day, period


def risk(students: Students, households: Households, rng: np.random.Generator) -> np.ndarray:
    """Each student's base daily absence probability (no day effects yet)."""
    econ = households.econ[students.household]
    heavy = np.isin(students.disability, HEAVY_DISABILITIES)
    disability = np.where(
        heavy, HEAVY_DISABILITY_FACTOR, np.where(students.disability >= 0, DISABILITY_FACTOR, 1.0)
    )
    frailty = rng.gamma(FRAILTY_SHAPE, 1 / FRAILTY_SHAPE, size=len(students))
    level = LEVEL_RATE[students.level] * GRADE_FACTORS[students.grade]
    econ_factor = np.where(econ, ECON_FACTOR, 1.0)
    return np.asarray(BASE_RATE * level * econ_factor * disability * frailty)


def simulate(
    students: Students,
    households: Households,
    stints: Stints,
    grid: DayGrid,
    rng: np.random.Generator,
) -> tuple[DayRecords, LifeEvents]:
    """One batch's year.

    1. Probability of absence = student risk × calibrated day factor × school-day factor.
    2. Life events raise absence, tardiness, early departures or period skipping in their
       window (and force an illness streak).
    3. Absences are drawn per day, with a chance of running on to the next day; tardies and
       early departures only on days present; secondary students may skip periods.
    4. Nothing happens on days the student is not enrolled.
    """
    enrolled = stints.enrolled(grid.days)
    school = stints.school_on(grid.days)
    base = risk(students, households, rng)
    p = (
        base[:, None]
        * grid.factor[None, :]
        * grid.school_factor[np.maximum(school, 0), np.arange(grid.days)]
    )
    pressure = _pressure(students, households, p, grid, rng)
    events = draw_life_events(students, households, stints, rng)
    apply_life_events(events, pressure, grid)
    return _draw(students, pressure, enrolled, grid, events, rng), events


def _pressure(
    students: Students,
    households: Households,
    p: np.ndarray,
    grid: DayGrid,
    rng: np.random.Generator,
) -> Pressure:
    shape = p.shape
    return Pressure(
        absent=np.minimum(p, MAX_P).astype(np.float32),
        tardy=_tardy_pressure(students, households, grid, rng),
        early=np.broadcast_to(_early_rates(students, rng)[:, None], shape).astype(np.float32),
        skip=_skip_pressure(students, grid, rng),
        forced=np.zeros(shape, dtype=bool),
        mark=np.zeros(shape, dtype=np.int8),
    )


def _tardy_pressure(
    students: Students, households: Households, grid: DayGrid, rng: np.random.Generator
) -> np.ndarray:
    """Tardiness per day; for 5% of students it keeps growing through the year."""
    n = len(students)
    econ = households.econ[students.household]
    rate = TARDY_BASE[students.level] * rng.gamma(0.7, 1 / 0.7, size=n) * np.where(econ, 1.3, 1)
    growing = rng.random(n) < GROWING_TARDY_SHARE
    onset = rng.random(n) * 0.5
    slope = rng.uniform(4, 10, size=n)
    progress = np.linspace(0, 1, grid.days)[None, :]
    ramp = 1 + slope[:, None] * np.clip(progress - onset[:, None], 0, None)
    rate = np.where(growing, np.maximum(rate, 0.02), rate)
    trend = np.where(growing[:, None], ramp, 1.0)
    return np.asarray(rate[:, None] * TARDY_DOW[grid.weekday][None, :] * trend, np.float32)


def _early_rates(students: Students, rng: np.random.Generator) -> np.ndarray:
    return EARLY_BASE * rng.gamma(0.8, 1 / 0.8, size=len(students))


def _skip_pressure(students: Students, grid: DayGrid, rng: np.random.Generator) -> np.ndarray:
    """Chance of skipping at least one period on a day present (secondary only)."""
    n = len(students)
    skipper = rng.random(n) < SKIPPER_SHARE
    rate = SKIP_BASE[students.level] / SKIPPER_SHARE * rng.gamma(0.8, 1 / 0.8, size=n)
    rate = np.where(skipper, rate, 0.0)
    return np.asarray(rate[:, None] * SKIP_DOW[grid.weekday][None, :], np.float32)


def draw_life_events(
    students: Students, households: Households, stints: Stints, rng: np.random.Generator
) -> LifeEvents:
    """A few percent of students go through a life event that shows in their attendance.

    1. Pick about 4% of students; housing loss is 2.5× likelier in poor households.
    2. Start on a school day with at least 20 enrolled school days before it.
    3. Each cause has its own duration; illness starts with a 3–10 day absence streak.
    """
    n = len(students)
    econ = households.econ[students.household]
    weights = np.tile(CAUSE_WEIGHTS, (n, 1))
    weights[:, HOUSING] *= np.where(econ, 2.5, 1.0)
    cdf = np.cumsum(weights, axis=1)
    cause = (rng.random((n, 1)) * cdf[:, -1:] > cdf).sum(axis=1)
    lo = stints.start_a + MIN_HISTORY
    hi = stints.last_day()
    start = lo + (rng.random(n) * np.maximum(hi - lo, 0)).astype(np.int64)
    low, high = np.array([DURATIONS[c] for c in range(4)]).T
    length = low[cause] + (rng.random(n) * (high - low)[cause]).astype(np.int64)
    chosen = (rng.random(n) < LIFE_EVENT_SHARE) & (hi > lo) & ~stints.no_show
    streak = start + rng.integers(3, 11, size=n) - 1
    period = rng.integers(0, 7, size=n)
    keep = np.flatnonzero(chosen)
    end = np.minimum(start + length - 1, hi)
    return LifeEvents(keep, cause[keep], start[keep], end[keep], streak[keep], period[keep])


def _window(start: np.ndarray, end: np.ndarray, days: int) -> np.ndarray:
    day = np.arange(days)[None, :]
    return (day >= start[:, None]) & (day <= end[:, None])


def _raise(p: np.ndarray, extra: float | np.ndarray) -> np.ndarray:
    """Combine an existing chance with an independent extra one."""
    return 1 - (1 - p) * (1 - extra)


def apply_life_events(events: LifeEvents, pressure: Pressure, grid: DayGrid) -> None:
    """Raise the pressure matrices in place inside each event's window."""
    for cause, effect in (
        (HOUSING, _housing),
        (ILLNESS, _illness),
        (BULLYING, _bullying),
        (FAMILY, _family),
    ):
        sel = events.cause == cause
        if sel.any():
            effect(events, sel, pressure, grid)


def _housing(events: LifeEvents, sel: np.ndarray, pr: Pressure, grid: DayGrid) -> None:
    """Housing loss: a sustained drop, with late arrivals from far-away shelters."""
    rows, w = events.row[sel], _window(events.start[sel], events.end[sel], grid.days)
    pr.absent[rows] = np.where(w, _raise(pr.absent[rows], 0.3), pr.absent[rows])
    pr.tardy[rows] = np.where(w, _raise(pr.tardy[rows], 0.15), pr.tardy[rows])
    pr.mark[rows] = np.where(w, MARK_HOUSING, pr.mark[rows])


def _illness(events: LifeEvents, sel: np.ndarray, pr: Pressure, grid: DayGrid) -> None:
    """Illness: an unbroken absence streak, then a shaky recovery."""
    rows = events.row[sel]
    streak = _window(events.start[sel], events.streak_end[sel], grid.days)
    after = _window(events.streak_end[sel] + 1, events.end[sel], grid.days)
    pr.forced[rows] = streak
    pr.absent[rows] = np.where(after, _raise(pr.absent[rows], 0.12), pr.absent[rows])
    pr.mark[rows] = np.select([streak, after], [MARK_STREAK, MARK_RECOVERY], pr.mark[rows])


def _bullying(events: LifeEvents, sel: np.ndarray, pr: Pressure, grid: DayGrid) -> None:
    """Bullying: Monday avoidance, a general rise, one period skipped again and again."""
    rows, w = events.row[sel], _window(events.start[sel], events.end[sel], grid.days)
    monday = (grid.weekday == 0)[None, :]
    extra = np.where(monday, 0.55, 0.1)
    pr.absent[rows] = np.where(w, _raise(pr.absent[rows], extra), pr.absent[rows])
    pr.mark[rows] = np.where(w, MARK_BULLYING, pr.mark[rows])


def _family(events: LifeEvents, sel: np.ndarray, pr: Pressure, grid: DayGrid) -> None:
    """Family duties: late most mornings, gone on Fridays, picked up early."""
    rows, w = events.row[sel], _window(events.start[sel], events.end[sel], grid.days)
    friday = (grid.weekday == 4)[None, :]
    extra = np.where(friday, 0.5, 0.06)
    pr.absent[rows] = np.where(w, _raise(pr.absent[rows], extra), pr.absent[rows])
    pr.tardy[rows] = np.where(w, _raise(pr.tardy[rows], 0.35), pr.tardy[rows])
    pr.early[rows] = np.where(w, _raise(pr.early[rows], 0.08), pr.early[rows])
    pr.mark[rows] = np.where(w, MARK_FAMILY, pr.mark[rows])


def _draw(
    students: Students,
    pr: Pressure,
    enrolled: np.ndarray,
    grid: DayGrid,
    events: LifeEvents,
    rng: np.random.Generator,
) -> DayRecords:
    absent, continued = draw_absences(
        np.where(enrolled, pr.absent, 0), pr.forced & enrolled, grid.carry, rng
    )
    absent &= enrolled
    continued &= enrolled
    present = enrolled & ~absent
    shape = absent.shape
    tardy = (rng.random(shape, dtype=np.float32) < pr.tardy) & present
    early = (rng.random(shape, dtype=np.float32) < pr.early) & present
    skips = draw_skips(students, pr, present, events, grid, rng)
    return DayRecords(absent, continued, tardy, early, pr.mark, skips)


def draw_absences(
    p: np.ndarray, forced: np.ndarray, carry: np.ndarray, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Absent days and the days that only continue yesterday's absence.

    New absences start with probability p·(1 − c) so that, with each absence running on to
    the next school day with probability c (not across a break), the absence rate stays
    close to p.
    """
    fresh = (rng.random(p.shape, dtype=np.float32) < p * (1 - CONTINUATION)) | forced
    runs_on = (rng.random(p.shape, dtype=np.float32) < CONTINUATION) & carry[None, :]
    by_day, carry = fresh.T.copy(), runs_on.T  # days first: each step is one contiguous row
    for day in range(1, len(by_day)):
        by_day[day] |= by_day[day - 1] & carry[day]
    absent = by_day.T
    return absent, absent & ~fresh


def draw_skips(
    students: Students,
    pr: Pressure,
    present: np.ndarray,
    events: LifeEvents,
    grid: DayGrid,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Period skipping on days present: (row, day, period) triples, secondary only.

    Ordinary skippers miss one to three consecutive periods, usually the last ones of the
    day; a bullied student also skips the one period they dread on 40% of days.
    """
    hit = (rng.random(present.shape, dtype=np.float32) < pr.skip) & present
    rows, days = np.nonzero(hit)
    periods = periods_of(students.level[rows])
    first = np.minimum(_skewed_period(len(rows), rng), periods - 1)
    count = rng.choice(3, size=len(rows), p=[0.75, 0.2, 0.05]) + 1
    ordinary = _spread(rows, days, first, np.minimum(count, periods - first))
    return _merge_skips(ordinary, _dread_skips(students, present, events, grid, rng))


def periods_of(level: np.ndarray) -> np.ndarray:
    """Middle schools run six periods a day, high schools seven."""
    return np.where(level == 2, 7, 6)


def _skewed_period(n: int, rng: np.random.Generator) -> np.ndarray:
    weights = np.array([1.6, 0.7, 0.7, 0.9, 1.2, 1.6, 2.3])  # first and last periods
    return rng.choice(7, size=n, p=weights / weights.sum())


def _spread(
    rows: np.ndarray, days: np.ndarray, first: np.ndarray, count: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    reps = np.repeat(np.arange(len(rows)), count)
    offset = np.arange(len(reps)) - np.repeat(np.cumsum(count) - count, count)
    return rows[reps], days[reps], first[reps] + offset


def _dread_skips(
    students: Students,
    present: np.ndarray,
    events: LifeEvents,
    grid: DayGrid,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    sel = (events.cause == BULLYING) & (students.level[events.row] > 0)
    rows = events.row[sel]
    window = _window(events.start[sel], events.end[sel], grid.days) & present[rows]
    hit = window & (rng.random(window.shape) < 0.4)
    which, days = np.nonzero(hit)
    period = np.minimum(events.period[sel], periods_of(students.level[rows]) - 1)
    return rows[which], days, period[which]


def _merge_skips(
    a: tuple[np.ndarray, np.ndarray, np.ndarray], b: tuple[np.ndarray, np.ndarray, np.ndarray]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Union of two skip sets, sorted by row, day, period, without duplicates."""
    rows, days, periods = (np.concatenate([x, y]) for x, y in zip(a, b, strict=True))
    key = (rows.astype(np.int64) * 4096 + days) * 8 + periods
    _, first = np.unique(key, return_index=True)
    return rows[first], days[first], periods[first]
