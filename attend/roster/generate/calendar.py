"""The district's school-year calendar: holidays, recesses, weather days and day factors.

Every school shares the district calendar; elementary and secondary schools differ only in
their parent-teacher-conference early-dismissal days (which still count as school days).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import numpy as np

from attend.roster.generate import calibration as cal

DAY = dt.timedelta(days=1)
TARGET_PLANNED_DAYS = 182  # two weather days later, the year has the customary ~180

INSTRUCTIONAL = "Instructional day"
HOLIDAY = "Holiday"
WEATHER = "Weather day"
TEACHER_ONLY = "Teacher only day"
NON_INSTRUCTIONAL = "Non-instructional day"
EARLY_DISMISSAL = "Student late arrival/early dismissal"
SCHOOL_DAY_EVENTS = frozenset({INSTRUCTIONAL, EARLY_DISMISSAL, "Make-up day"})


@dataclass(frozen=True)
class SchoolCalendar:
    """One school year of the district.

    `events` is the calendar as published on the as-of date (a later weather closure still
    shows as an instructional day); `school_days` are the days school actually opens, which
    the simulation uses so that an earlier as-of date sees a prefix of the same year.
    """

    school_year: int
    first_day: dt.date
    last_day: dt.date
    events: dict[dt.date, str]  # every date Jul 1..Jun 30 → its district event
    names: dict[dt.date, str]  # closure and staff-day names known on as-of (manifest)
    early_dismissal: dict[str, frozenset[dt.date]]  # by school level
    school_days: tuple[dt.date, ...] = field(default=())

    def event_for(self, day: dt.date, level: str) -> str:
        """The calendar event a school of `level` (E/M/H) has on `day`."""
        return EARLY_DISMISSAL if day in self.early_dismissal[level] else self.events[day]

    @property
    def dates(self) -> list[dt.date]:
        return sorted(self.events)

    def known_days(self, as_of: dt.date) -> int:
        """Number of school days up to and including `as_of`."""
        return int(np.searchsorted(self.ordinals(), as_of.toordinal(), side="right"))

    def ordinals(self) -> np.ndarray:
        return np.array([d.toordinal() for d in self.school_days], dtype=np.int64)


def school_year_of(day: dt.date) -> int:
    """The Ed-Fi school year (ending year) containing `day`: 2025-09-02 → 2026."""
    return day.year + 1 if day.month >= 7 else day.year


def build_calendar(school_year: int, as_of: dt.date, rng: np.random.Generator) -> SchoolCalendar:
    """Lay out the year.

    1. Start on the Thursday after Labor Day, after two teacher-only days.
    2. Close on the fixed holidays and recesses of a large US urban district.
    3. End on the day that makes 182 planned school days, kept within June 20–30.
    4. Draw two weather closures in January–February; those after `as_of` stay instructional
       because nobody knows about them yet.
    5. Give elementary and secondary schools two early-dismissal conference days each.
    """
    first_day, last_day = year_bounds(school_year)
    names = closures(school_year)
    teacher = teacher_only_days(school_year, first_day - 3 * DAY)
    if (clerical := _next_weekday(last_day)) <= dt.date(school_year, 6, 30):
        teacher[clerical] = "Clerical day"
    weather = _weather_days(school_year, first_day, last_day, names, teacher, rng)
    names |= {d: "Weather closure" for d in weather if d <= as_of}
    events = _events(school_year, first_day, last_day, names, teacher, weather, as_of)
    actual = _events(school_year, first_day, last_day, names, teacher, weather, dt.date.max)
    school_days = tuple(d for d in sorted(actual) if actual[d] in SCHOOL_DAY_EVENTS)
    early = _early_dismissal_days(school_year, set(school_days))
    return SchoolCalendar(
        school_year, first_day, last_day, events, names | teacher, early, school_days
    )


def year_bounds(school_year: int) -> tuple[dt.date, dt.date]:
    """First and last day of instruction (they do not depend on weather or seed)."""
    labor_day = nth_weekday(school_year - 1, 9, 0, 1)
    first_day = labor_day + 3 * DAY
    teacher = teacher_only_days(school_year, labor_day)
    return first_day, _last_day(first_day, school_year, closures(school_year), teacher)


def nth_weekday(year: int, month: int, weekday: int, n: int) -> dt.date:
    """The n-th `weekday` (Mon=0) of a month."""
    first = dt.date(year, month, 1)
    return first + ((weekday - first.weekday()) % 7 + 7 * (n - 1)) * DAY


def last_weekday(year: int, month: int, weekday: int) -> dt.date:
    after = dt.date(year + month // 12, month % 12 + 1, 1)
    last = after - DAY
    return last - ((last.weekday() - weekday) % 7) * DAY


def observed(day: dt.date) -> dt.date:
    """A fixed-date holiday falling on a weekend is observed on the nearest weekday."""
    return {5: day - DAY, 6: day + DAY}.get(day.weekday(), day)


def easter(year: int) -> dt.date:
    """Gregorian Easter Sunday (the anonymous Gregorian computus)."""
    a, b, c = year % 19, year // 100, year % 100
    d, e = divmod(b, 4)
    g = (8 * b + 13) // 25
    h = (19 * a + b - d - g + 15) % 30
    i, k = divmod(c, 4)
    weekday_shift = (32 + 2 * e + 2 * i - h - k) % 7
    m = (a + 11 * h + 22 * weekday_shift) // 451
    month, day = divmod(h + weekday_shift - 7 * m + 114, 31)
    return dt.date(year, month, day + 1)


def rosh_hashanah(year: int) -> dt.date:
    """First day of Rosh Hashanah in Gregorian `year`, via Gauss's Passover formula.

    1. Gauss gives 15 Nisan as a day of March in the Julian calendar, from the year's place
       in the 19-year cycle and a fractional-day correction.
    2. Three postponement rules keep Passover off Monday, Wednesday and Friday.
    3. Convert Julian to Gregorian, then 1 Tishrei is always 163 days after 15 Nisan.
    """
    a, b = (12 * year + 12) % 19, year % 4
    value = 20.0955877 + 1.5542418 * a + 0.25 * b - 0.003177794 * year
    march_day, fraction = int(value), value - int(value)
    c = (march_day + 3 * year + 5 * b + 1) % 7
    march_day += _passover_postponement(c, a, fraction)
    julian_shift = year // 100 - year // 400 - 2
    passover = dt.date(year, 3, 1) + (march_day - 1 + julian_shift) * DAY
    return passover + 163 * DAY


def _passover_postponement(c: int, a: int, fraction: float) -> int:
    if c in (2, 4, 6):
        return 1
    if c == 1 and a > 6 and fraction >= 0.63287037:
        return 2
    if c == 0 and a > 11 and fraction >= 0.89772376:
        return 1
    return 0


def closures(school_year: int) -> dict[dt.date, str]:
    """Holidays and recesses, weekends excluded, keyed by date."""
    fall, spring = school_year - 1, school_year
    rh = rosh_hashanah(fall)
    named = {
        rh: "Rosh Hashanah",
        rh + DAY: "Rosh Hashanah",
        rh + 9 * DAY: "Yom Kippur",
        nth_weekday(fall, 10, 0, 2): "Indigenous Peoples' Day",
        observed(dt.date(fall, 11, 11)): "Veterans Day",
        nth_weekday(spring, 1, 0, 3): "Martin Luther King Jr. Day",
        last_weekday(spring, 5, 0): "Memorial Day",
        observed(dt.date(spring, 6, 19)): "Juneteenth",
    }
    named |= _thanksgiving(fall) | _winter_recess(fall) | _midwinter_recess(spring)
    named |= _spring_recess(spring)
    return {d: n for d, n in named.items() if d.weekday() < 5}


def _thanksgiving(fall: int) -> dict[dt.date, str]:
    thursday = nth_weekday(fall, 11, 3, 4)
    return {thursday: "Thanksgiving", thursday + DAY: "Thanksgiving recess"}


def _winter_recess(fall: int) -> dict[dt.date, str]:
    start, end = dt.date(fall, 12, 24), dt.date(fall + 1, 1, 1)
    if (end + DAY).weekday() == 4:  # no one comes back for a lone Friday
        end += DAY
    return {start + i * DAY: "Winter recess" for i in range((end - start).days + 1)}


def _midwinter_recess(spring: int) -> dict[dt.date, str]:
    presidents = nth_weekday(spring, 2, 0, 3)
    return {presidents + i * DAY: "Midwinter recess" for i in range(5)}


def _spring_recess(spring: int) -> dict[dt.date, str]:
    good_friday = easter(spring) - 2 * DAY
    week = {good_friday + (3 + i) * DAY: "Spring recess" for i in range(5)}
    return {good_friday: "Spring recess", **week}


def teacher_only_days(school_year: int, labor_day: dt.date) -> dict[dt.date, str]:
    """Staff days: two before the first day, Election Day, a June staff-development day."""
    fall = school_year - 1
    election = nth_weekday(fall, 11, 0, 1) + DAY
    return {
        labor_day + DAY: "Staff orientation",
        labor_day + 2 * DAY: "Staff orientation",
        election: "Election Day staff development",
        nth_weekday(school_year, 6, 3, 1): "Staff development day",
    }


def _next_weekday(day: dt.date) -> dt.date:
    day += DAY
    while day.weekday() >= 5:
        day += DAY
    return day


def _open(day: dt.date, *closed: dict[dt.date, str]) -> bool:
    return day.weekday() < 5 and not any(day in c for c in closed)


def _last_day(
    first_day: dt.date,
    school_year: int,
    names: dict[dt.date, str],
    teacher: dict[dt.date, str],
) -> dt.date:
    """The day of the 182nd planned school day, clamped to June 20–30 (and a school day)."""
    earliest, latest = dt.date(school_year, 6, 20), dt.date(school_year, 6, 30)
    day, count = first_day, 0
    while day < latest:
        count += _open(day, names, teacher)
        if count >= TARGET_PLANNED_DAYS and day >= earliest and _open(day, names, teacher):
            return day
        day += DAY
    while not _open(day, names, teacher):
        day -= DAY
    return day


def _weather_days(
    school_year: int,
    first_day: dt.date,
    last_day: dt.date,
    names: dict[dt.date, str],
    teacher: dict[dt.date, str],
    rng: np.random.Generator,
) -> list[dt.date]:
    """Two snow closures among the open weekdays of January and February."""
    start, end = dt.date(school_year, 1, 5), dt.date(school_year, 2, 28)
    span = [start + i * DAY for i in range((end - start).days + 1)]
    candidates = [d for d in span if _open(d, names, teacher) and first_day <= d <= last_day]
    picks = rng.choice(len(candidates), size=2, replace=False)
    return sorted(candidates[int(i)] for i in picks)


def _events(
    school_year: int,
    first_day: dt.date,
    last_day: dt.date,
    names: dict[dt.date, str],
    teacher: dict[dt.date, str],
    weather: list[dt.date],
    as_of: dt.date,
) -> dict[dt.date, str]:
    """Every date of the year (July 1 → June 30) with its one district event."""
    start = dt.date(school_year - 1, 7, 1)
    days = (dt.date(school_year, 6, 30) - start).days + 1
    known_weather = {d for d in weather if d <= as_of}
    out: dict[dt.date, str] = {}
    for day in (start + i * DAY for i in range(days)):
        out[day] = _event(day, first_day, last_day, names, teacher, known_weather)
    return out


def _event(
    day: dt.date,
    first_day: dt.date,
    last_day: dt.date,
    names: dict[dt.date, str],
    teacher: dict[dt.date, str],
    weather: set[dt.date],
) -> str:
    if day.weekday() >= 5:
        return NON_INSTRUCTIONAL
    if day in teacher:
        return TEACHER_ONLY
    if not first_day <= day <= last_day:
        return NON_INSTRUCTIONAL
    if day in weather:
        return WEATHER
    return HOLIDAY if day in names else INSTRUCTIONAL


def _early_dismissal_days(
    school_year: int, school_days: set[dt.date]
) -> dict[str, frozenset[dt.date]]:
    """Parent-teacher conferences: elementary on Thursdays, secondary on Wednesdays."""
    fall = school_year - 1

    def pick(weekday: int) -> frozenset[dt.date]:
        wanted = (nth_weekday(fall, 11, weekday, 2), nth_weekday(school_year, 3, weekday, 2))
        return frozenset(d for d in wanted if d in school_days)

    elementary, secondary = pick(3), pick(2)
    return {"E": elementary, "M": secondary, "H": secondary}


# --- day factors --------------------------------------------------------------------------


def break_neighbours(school_days: tuple[dt.date, ...]) -> tuple[np.ndarray, np.ndarray]:
    """Per school day, the calibrated factor for being just before / just after a break."""
    n = len(school_days)
    before, after = np.ones(n), np.ones(n)
    for i in range(n - 1):
        off = (school_days[i + 1] - school_days[i]).days - 1
        if off >= 3:
            recess = off >= 4
            before[i] = cal.BEFORE_RECESS if recess else cal.BEFORE_LONG_WEEKEND
            after[i + 1] = cal.AFTER_RECESS if recess else cal.AFTER_LONG_WEEKEND
    return before, after


def day_factors(school_days: tuple[dt.date, ...]) -> np.ndarray:
    """Calibrated relative absence per school day: weekday × month × break neighbourhood."""
    dow = np.array([cal.DOW_FACTORS[d.weekday()] for d in school_days])
    month = np.array([cal.MONTH_FACTORS[d.month] for d in school_days])
    before, after = break_neighbours(school_days)
    return np.asarray(dow * month * before * after)


def carries_over(school_days: tuple[dt.date, ...]) -> np.ndarray:
    """Per school day: can yesterday's absence run on into it (no break of 3+ days between)?"""
    gaps = np.diff([d.toordinal() for d in school_days], prepend=school_days[0].toordinal())
    return (gaps >= 1) & (gaps <= 3)


def fresh_factors(target: np.ndarray, carry: np.ndarray, continuation: float) -> np.ndarray:
    """Day factors for *new* absences so that absences including run-ons follow `target`.

    With a run-on chance c, today's absence ≈ new absences + c × yesterday's, so new absences
    must follow (F_today − c·F_yesterday) / (1 − c); otherwise run-ons would smear the
    Monday/Friday peaks into Tuesday and Monday.
    """
    yesterday = np.concatenate([[target[0]], target[:-1]]) * carry
    fresh = np.maximum(target - continuation * yesterday, 0.1 * target)
    return np.asarray(fresh / (1 - continuation))
