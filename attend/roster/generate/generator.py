"""`generate()`: a synthetic district written as a lake-mode folder (docs/lake-format.md)."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from attend.roster.generate import attendance as att
from attend.roster.generate import calendar as calmod
from attend.roster.generate import calibration as cal
from attend.roster.generate import records as rec
from attend.roster.generate import truth
from attend.roster.generate.calendar import SchoolCalendar
from attend.roster.generate.district import District, build_district, school_day_factors
from attend.roster.generate.enrollment import Associations, draw_enrollment
from attend.roster.generate.events import (
    Context,
    SchoolEvents,
    as_of_view,
    school_events,
    section_events,
)
from attend.roster.generate.people import GROUP_SHARES, draw_households, draw_students
from attend.roster.generate.quality import ISSUES, plant_errors, planted_count
from attend.roster.generate.schemas import SCHEMAS
from attend.roster.generate.writers import RowChunk, Sinks

DEFAULT_SCHOOL_YEAR = 2026
BATCH_SIZE = 5_000
# Independent random streams, so that adding a feature to one part leaves the others alone.
STREAM_CALENDAR, STREAM_DISTRICT, STREAM_DAYS, STREAM_BATCH = range(4)

Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class GenerateResult:
    """What a run wrote: paths, record counts per file, and how long it took."""

    out: Path
    format: str
    seed: int
    school_year: int
    as_of: dt.date
    students: int
    schools: int
    files: dict[str, Path]
    counts: dict[str, int]
    truth_files: dict[str, Path]
    elapsed_seconds: float
    chronic_rate: float | None = None
    life_events: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class Plan:
    """Everything shared by all batches of one run."""

    students: int
    seed: int
    as_of: dt.date
    calendar: SchoolCalendar
    district: District
    grid: att.DayGrid
    lookup: rec.Lookup
    day_ordinals: np.ndarray
    known: int  # school days up to as_of
    levels: np.ndarray

    @property
    def entry_limit(self) -> int:
        """Enrolments are on file once they start, or before the first day if they start on it."""
        return max(self.as_of, self.calendar.first_day).toordinal()


@dataclass
class Running:
    """Counters carried from batch to batch."""

    contacts: int = 1
    written_students: int = 0
    tally: truth.Tally = field(default_factory=truth.Tally)


def _rng(seed: int, stream: int, index: int = 0) -> np.random.Generator:
    return np.random.default_rng([seed, stream, index])


def resolve_as_of(as_of: dt.date | None, today: dt.date | None = None) -> dt.date:
    """The as-of date: given, or today inside the 2025–26 year, or that year's last day."""
    if as_of is not None:
        return as_of
    first, last = calmod.year_bounds(DEFAULT_SCHOOL_YEAR)
    today = today or dt.date.today()
    return today if first <= today <= last else last


def plan_run(students: int, seed: int, as_of: dt.date, schools: int | None) -> Plan:
    """Calendar, district and day factors for the run (no per-student work yet)."""
    year = calmod.school_year_of(as_of)
    calendar = calmod.build_calendar(year, as_of, _rng(seed, STREAM_CALENDAR))
    district = build_district(students, schools, _rng(seed, STREAM_DISTRICT), GROUP_SHARES)
    days = calendar.school_days
    weekday = np.array([day.weekday() for day in days], dtype=np.int64)
    school_factor = school_day_factors(district, len(days), _rng(seed, STREAM_DAYS))
    carry = calmod.carries_over(days)
    fresh = calmod.fresh_factors(calmod.day_factors(days), carry, att.CONTINUATION)
    grid = att.DayGrid(fresh.astype(np.float32), weekday, school_factor, carry)
    return Plan(
        students,
        seed,
        as_of,
        calendar,
        district,
        grid,
        rec.build_lookup(calendar, district),
        calendar.ordinals(),
        calendar.known_days(as_of),
        rec.level_codes(district),
    )


def generate(
    *,
    students: int,
    seed: int,
    out: Path,
    fmt: str = "ndjson",
    as_of: dt.date | None = None,
    schools: int | None = None,
    progress: Progress | None = None,
) -> GenerateResult:
    """Write a synthetic district of `students` students to the lake-mode folder `out`.

    1. Plan: calendar of the school year containing `as_of`, schools, day factors.
    2. Write the schools and every school's calendar dates.
    3. For each batch of 5,000 students: households, students, enrolment, a whole year of
       attendance, then the records known on `as_of`; report progress.
    4. Publish all files at once and write the ground truth (`_truth/`).
    Same arguments, same bytes.
    """
    _check(students, seed, fmt, schools)
    started = time.perf_counter()
    plan = plan_run(students, seed, resolve_as_of(as_of), schools)
    (out / truth.TRUTH_DIR).mkdir(parents=True, exist_ok=True)
    sinks = Sinks(out, fmt, SCHEMAS)
    truths = _open_truths(out)
    try:
        running = _write_all(plan, sinks, truths, progress)
    except BaseException:
        sinks.abort()
        _discard(truths)
        raise
    return _publish(plan, out, fmt, sinks, truths, running, started)


def _check(students: int, seed: int, fmt: str, schools: int | None) -> None:
    if students < 1:
        raise ValueError("students must be at least 1")
    if seed < 0:
        raise ValueError("seed must be zero or positive")
    if schools is not None and schools < 3:
        raise ValueError("schools must be at least 3 (one elementary, middle and high school)")
    if fmt not in ("json", "ndjson", "parquet"):
        raise ValueError(f"format must be json, ndjson or parquet, not {fmt!r}")


def _open_truths(out: Path) -> dict[str, truth.CsvTruth]:
    folder = out / truth.TRUTH_DIR
    return {
        "life_events": truth.CsvTruth(folder / truth.LIFE_EVENTS, truth.LIFE_HEADER),
        "data_quality": truth.CsvTruth(folder / truth.DATA_QUALITY, truth.QUALITY_HEADER),
    }


def _discard(truths: dict[str, truth.CsvTruth]) -> None:
    for t in truths.values():
        t.close()
        t.discard()


def _write_all(
    plan: Plan, sinks: Sinks, truths: dict[str, truth.CsvTruth], progress: Progress | None
) -> Running:
    _write_static(plan, sinks)
    running = Running()
    for number, first in enumerate(range(0, plan.students, BATCH_SIZE)):
        size = min(BATCH_SIZE, plan.students - first)
        _write_batch(plan, sinks, truths, running, number, first + 1, size)
        if progress is not None:
            progress(first + size, plan.students)
    return running


def _write_static(plan: Plan, sinks: Sinks) -> None:
    sinks["schools"].write(RowChunk(rec.school_rows(plan.district)))
    for school in plan.district.schools:
        sinks["calendarDates"].write(RowChunk(rec.calendar_rows(plan.calendar, school)))


def _write_batch(
    plan: Plan,
    sinks: Sinks,
    truths: dict[str, truth.CsvTruth],
    running: Running,
    number: int,
    first: int,
    size: int,
) -> None:
    """Simulate one batch and write what is known of it on the as-of date."""
    rng = _rng(plan.seed, STREAM_BATCH, number)
    fall = plan.calendar.school_year - 1
    households = draw_households(size, plan.district, rng)
    students = draw_students(first, households, plan.district, fall, rng)
    enrollment = draw_enrollment(students, plan.district, plan.grid.days, rng)
    days, life = att.simulate(students, households, enrollment.stints, plan.grid, rng)
    guardians = rec.draw_guardians(households, running.contacts, rng)
    running.contacts += rec.contact_count(households)
    ctx = Context(
        students,
        households,
        enrollment.stints,
        plan.day_ordinals,
        enrollment.stints.school_on(plan.grid.days),
    )
    batch = _Batch(plan, ctx, enrollment.associations, guardians, life, students.ids())
    batch.write_people(sinks, running)
    batch.write_events(sinks, truths, running, days, number, rng)
    batch.write_life_events(truths["life_events"], running)


@dataclass(frozen=True)
class _Batch:
    plan: Plan
    ctx: Context
    associations: Associations
    guardians: rec.Guardians
    life: att.LifeEvents
    ids: list[str]

    def known_students(self) -> np.ndarray:
        entry = self.plan.day_ordinals[self.ctx.stints.start_a]
        return np.asarray(entry <= self.plan.entry_limit)

    def write_people(self, sinks: Sinks, running: Running) -> None:
        st, hh, ids = self.ctx.students, self.ctx.households, self.ids
        keep = self.known_students()
        homes = np.bincount(st.household[keep], minlength=len(hh)) > 0
        limits = (self.plan.entry_limit, self.plan.as_of.toordinal())
        sinks["students"].write(RowChunk(rec.student_rows(st, hh, ids, keep)))
        sinks["studentEducationOrganizationAssociations"].write(
            RowChunk(rec.demographic_rows(st, hh, ids, keep))
        )
        sinks["studentSchoolAssociations"].write(
            RowChunk(
                rec.association_rows(
                    self.associations, st, ids, self.plan.lookup, self.plan.day_ordinals, limits
                )
            )
        )
        sinks["contacts"].write(RowChunk(rec.contact_rows(hh, self.guardians, homes)))
        sinks["studentContactAssociations"].write(
            RowChunk(rec.student_contact_rows(st, hh, self.guardians, ids, keep))
        )
        running.written_students += int(keep.sum())

    def write_events(
        self,
        sinks: Sinks,
        truths: dict[str, truth.CsvTruth],
        running: Running,
        days: att.DayRecords,
        number: int,
        rng: np.random.Generator,
    ) -> None:
        """School and section events up to as-of, plus (first batch) the planted errors."""
        plan, ctx = self.plan, self.ctx
        full = school_events(ctx, days, rng)
        cohort = rng.integers(0, 1 << 30, size=len(ctx.students))
        sections = section_events(ctx, days, cohort, rng)
        seen = as_of_view(full, plan.as_of)
        running.tally.add(
            ctx.stints, truth.absent_fractions(seen, ctx.stints, plan.day_ordinals), plan.known
        )
        if number == 0:
            seen = SchoolEvents.concat([seen, self._planted(truths["data_quality"], rng)]).sorted()
        sinks["studentSchoolAttendanceEvents"].write(
            rec.SchoolEventChunk(seen, self.ids, plan.lookup)
        )
        sections = sections.take(np.flatnonzero(sections.date <= plan.as_of.toordinal()))
        sinks["studentSectionAttendanceEvents"].write(
            rec.SectionEventChunk(sections, self.ids, plan.lookup, plan.levels)
        )

    def _planted(self, out: truth.CsvTruth, rng: np.random.Generator) -> SchoolEvents:
        """Deliberate errors, all in the first batch; listed in `_truth/data_quality.csv`.

        Only errors dated up to as-of and about students already on file are kept.
        """
        planted = plant_errors(self.ctx, self.plan.calendar, planted_count(self.plan.students), rng)
        ev = planted.events
        known = self.known_students()[ev.row] & (ev.date <= self.plan.as_of.toordinal())
        keep = np.flatnonzero(known)
        events, issue = ev.take(keep), planted.issue[keep]
        out.write(
            [
                self._quality_row(r, s, o, ISSUES[i])
                for r, s, o, i in zip(
                    events.row.tolist(),
                    events.school.tolist(),
                    events.date.tolist(),
                    issue.tolist(),
                    strict=True,
                )
            ]
        )
        return events

    def _quality_row(self, row: int, school: int, date: int, issue: str) -> tuple[str, ...]:
        lk = self.plan.lookup
        return (
            self.ids[row],
            str(lk.school_ids[school]),
            lk.dates[date - lk.base],
            "Unexcused Absence",
            issue,
        )

    def write_life_events(self, out: truth.CsvTruth, running: Running) -> None:
        """Life events that have started by as-of (their end may still lie ahead)."""
        life, plan = self.life, self.plan
        started = np.flatnonzero(life.start < plan.known)
        rows = [
            (
                self.ids[r],
                plan.lookup.school_ids[self.ctx.school_on[r, s]],
                att.CAUSES[c],
                _date(plan, s),
                _date(plan, e),
            )
            for r, c, s, e in zip(
                life.row[started].tolist(),
                life.cause[started].tolist(),
                life.start[started].tolist(),
                life.end[started].tolist(),
                strict=True,
            )
        ]
        for row in rows:
            running.tally.by_cause[row[2]] += 1
        out.write(rows)


def _date(plan: Plan, day: int) -> str:
    return dt.date.fromordinal(int(plan.day_ordinals[day])).isoformat()


def _publish(
    plan: Plan,
    out: Path,
    fmt: str,
    sinks: Sinks,
    truths: dict[str, truth.CsvTruth],
    running: Running,
    started: float,
) -> GenerateResult:
    """Make every file visible at once, then write the manifest."""
    files = sinks.finish()
    for t in truths.values():
        t.close()
        t.commit()
    counts = sinks.counts()
    manifest_path = out / truth.TRUTH_DIR / truth.MANIFEST
    truth.write_manifest(manifest_path, manifest(plan, fmt, counts, truths, running))
    truth_files = {name: t.path for name, t in truths.items()} | {"manifest": manifest_path}
    return GenerateResult(
        out=out,
        format=fmt,
        seed=plan.seed,
        school_year=plan.calendar.school_year,
        as_of=plan.as_of,
        students=running.written_students,
        schools=len(plan.district.schools),
        files=files,
        counts=counts,
        truth_files=truth_files,
        elapsed_seconds=round(time.perf_counter() - started, 3),
        chronic_rate=running.tally.rate(),
        life_events=dict(running.tally.by_cause),
    )


def manifest(
    plan: Plan,
    fmt: str,
    counts: dict[str, int],
    truths: dict[str, truth.CsvTruth],
    running: Running,
) -> dict[str, Any]:
    """The run's description: arguments, calendar, counts, calibration, simulator's own tally.

    No clock time goes in here, so the manifest is as reproducible as the data.
    """
    cal_ = plan.calendar
    return {
        "generator": "attend.roster.generate",
        "seed": plan.seed,
        "students": plan.students,
        "students_on_file": running.written_students,
        "schools": len(plan.district.schools),
        "format": fmt,
        "as_of": plan.as_of.isoformat(),
        "school_year": cal_.school_year,
        "first_day": cal_.first_day.isoformat(),
        "last_day": cal_.last_day.isoformat(),
        "instructional_days": sum(e in calmod.SCHOOL_DAY_EVENTS for e in cal_.events.values()),
        "school_days_to_as_of": plan.known,
        "closures": {day.isoformat(): name for day, name in sorted(cal_.names.items())},
        "counts": counts,
        "life_events": dict(running.tally.by_cause),
        "deliberate_data_quality_events": truths["data_quality"].count,
        "simulated": {
            "student_school_rows": running.tally.rows,
            "eligible": running.tally.eligible,
            "chronic": running.tally.chronic,
            "chronic_rate": running.tally.rate(),
        },
        "calibration": {
            "source": cal.SOURCE,
            "method": "attend/roster/generate/CALIBRATION.md",
            "figures": cal.baked().as_dict(),
        },
        "model": model_parameters(),
    }


def model_parameters() -> dict[str, Any]:
    """The attendance model's knobs, for whoever scores a detector against this data."""
    return {
        "base_rate_elementary": att.BASE_RATE,
        "economic_disadvantage_factor": att.ECON_FACTOR,
        "disability_factor": att.DISABILITY_FACTOR,
        "heavy_disability_factor": att.HEAVY_DISABILITY_FACTOR,
        "frailty_gamma_shape": att.FRAILTY_SHAPE,
        "absence_continuation": att.CONTINUATION,
        "life_event_share": att.LIFE_EVENT_SHARE,
        "race_ethnicity_effect": "none",
    }
