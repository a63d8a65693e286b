"""Checks across records, after every file is read and before anything is written.

References (an event's student, an enrollment's school, ...) must resolve to a record in the
same import or already stored; a record that does not is a problem and is dropped from the
batch. Events on days that are not school days are kept and listed in the data-quality report
(ATTENDANCE-RULES rule 7).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from attend.roster.choices import IGNORED_EXIT_TYPES
from attend.roster.importers.batch import Batch, Events, Table
from attend.roster.importers.upsert import scoped
from attend.roster.models import (
    CalendarDate,
    District,
    Enrollment,
    Guardian,
    School,
    Section,
    Staff,
    Student,
)

WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def resolve_district(batch: Batch) -> District | None:
    """The district the batch belongs to (unsaved when the import creates it).

    1. The LEA the source names (`localEducationAgencyReference`, OneRoster district org).
    2. Else the district of a school already stored.
    3. Else the only district there is.
    4. Else the reader's fallback (OneRoster: the parent org its schools share).
    5. Else one derived from Ed-Fi's convention that a schoolId is its LEA id plus three
       digits (Grand Bend ISD 255901 → school 255901001), when all schools agree.
    """
    lea = batch.district.get("lea_id")
    if lea:
        name = batch.district.get("name") or f"District {lea}"
        return District.objects.filter(lea_id=lea).first() or District(lea_id=lea, name=name)
    codes = set(batch.schools.rows) | _codes(batch)
    stored = School.objects.filter(school_id__in=codes).select_related("district").first()
    if stored is not None:
        return stored.district
    if District.objects.count() == 1:
        return District.objects.get()
    fallback = batch.district_fallback
    if fallback:
        return District.objects.filter(lea_id=fallback["lea_id"]).first() or District(**fallback)
    return _derived_district(codes)


def check_district(batch: Batch, district: District) -> None:
    """An import run for one district (the web upload) may not touch another's records."""
    lea = batch.district.get("lea_id")
    if lea and lea != district.lea_id:
        batch.problems.add(
            "(import)",
            "",
            "localEducationAgencyId",
            lea,
            f"this data is for another district than {district.lea_id}",
        )
    codes = set(batch.schools.rows) | _codes(batch)
    for code in _foreign(School, "school_id", codes, district):
        batch.problems.add("(import)", "", "schoolId", code, "school belongs to another district")
    uids = set(batch.students.rows) | set(batch.events.student)
    for uid in _foreign(Student, "student_unique_id", uids, district):
        batch.problems.add(
            "(import)", "", "studentUniqueId", uid, "student belongs to another district"
        )


def _foreign(model: Any, field: str, wanted: set[str], district: District) -> list[str]:
    rows = scoped(model.objects.exclude(district=district), field, wanted)
    return sorted(set(rows.values_list(field, flat=True)) & wanted)


def _derived_district(codes: set[str]) -> District | None:
    prefixes = {code[:-3] for code in codes if code.isdigit() and len(code) > 3}
    if len(prefixes) != 1:
        return None
    lea = prefixes.pop()
    return District.objects.filter(lea_id=lea).first() or District(
        lea_id=lea, name=f"District {lea}"
    )


def infer_schools(batch: Batch) -> None:
    """A source with no school records at all (Ed-Fi's XML samples ship attendance without the
    EducationOrganization interchange) names its schools only by id: those not stored yet are
    created as "School <id>" and listed in the data-quality report. A source that does carry
    schools is held to them."""
    if batch.schools.rows:
        return
    codes = _codes(batch)
    for code in sorted(codes - _stored(School, "school_id", codes)):
        batch.schools.rows[code] = {"name": f"School {code}"}
        batch.schools.where[code] = batch.at(0, 0)
        batch.problems.note(
            f"school {code} is only referenced: created as 'School {code}'", "inferred_school"
        )


def check_references(batch: Batch) -> None:
    """Drop (and report) every record whose parent is neither in the batch nor stored."""
    schools = set(batch.schools.rows) | _stored(School, "school_id", _codes(batch))
    students = _check_students(batch)
    contacts = set(batch.guardians.rows) | _stored(
        Guardian, "contact_unique_id", {c for _, c in batch.student_guardians.rows}
    )
    staff = set(batch.staff.rows) | _stored(
        Staff, "staff_unique_id", {s for _, s in batch.section_staff.rows}
    )
    _require(batch, batch.calendars, {0: (schools, "schoolId")})
    _require(batch, batch.calendar_dates, {0: (schools, "schoolId")})
    _require(batch, batch.enrollments, {0: (students, "studentUniqueId"), 1: (schools, "schoolId")})
    _require(
        batch,
        batch.student_guardians,
        {0: (students, "studentUniqueId"), 1: (contacts, "contactUniqueId")},
    )
    _require(batch, batch.sections, {0: (schools, "schoolId")})
    sections = set(batch.sections.rows) | _stored_sections(batch)
    _require(
        batch,
        batch.section_enrollments,
        {0: (sections, "sectionIdentifier"), 1: (students, "studentUniqueId")},
    )
    _require(
        batch,
        batch.section_staff,
        {0: (sections, "sectionIdentifier"), 1: (staff, "staffUniqueId")},
    )
    check_duplicate_events(batch)
    _check_events(batch, students, schools)


def _codes(batch: Batch) -> set[str]:
    tables: Iterable[Table] = (batch.calendars, batch.enrollments, batch.sections)
    codes = {k[0] if t is not batch.enrollments else k[1] for t in tables for k in t.rows}
    return codes | set(batch.events.school) | {k[1] for k in batch.deleted_events}


def _stored(model: Any, field: str, wanted: set[str]) -> set[str]:
    if not wanted:
        return set()
    rows = scoped(model.objects.all(), field, wanted).values_list(field, flat=True)
    return set(rows) & wanted


def _stored_sections(batch: Batch) -> set[tuple[str, int, str]]:
    wanted = {k[0] for k in batch.section_enrollments.rows} | {
        k[0] for k in batch.section_staff.rows
    }
    wanted -= set(batch.sections.rows)
    if not wanted:
        return set()
    rows = Section.objects.filter(section_id__in={k[2] for k in wanted}).values_list(
        "school__school_id", "school_year", "section_id"
    )
    return set(rows) & wanted


def _check_students(batch: Batch) -> set[str]:
    """Students in the batch with names, plus stored ones; a demographics-only row for a
    student nobody has heard of is refused."""
    referenced = set(batch.events.student) | {k[0] for k in batch.enrollments.rows}
    referenced |= {k[0] for k in batch.student_guardians.rows}
    referenced |= {k[1] for k in batch.section_enrollments.rows} | set(batch.students.rows)
    stored = _stored(Student, "student_unique_id", referenced)
    for uid in [u for u, row in batch.students.rows.items() if "first_name" not in row]:
        if uid not in stored:
            where = batch.students.where[uid]
            batch.problem(where, "studentUniqueId", uid, "unknown student")
            batch.students.drop(uid)
    return set(batch.students.rows) | stored


def _require(batch: Batch, table: Table, parts: dict[int, tuple[set[Any], str]]) -> None:
    for key in list(table.rows):
        for index, (known, name) in parts.items():
            value = key[index]
            if value not in known:
                shown = value[2] if isinstance(value, tuple) else value
                batch.problem(table.where[key], name, shown, f"unknown {name.removesuffix('Id')}")
                table.drop(key)
                break


def _check_events(batch: Batch, students: set[str], schools: set[str]) -> None:
    events = batch.events
    known = [
        s in students and c in schools for s, c in zip(events.student, events.school, strict=True)
    ]
    if all(known):
        return
    for ok, student, school, where in zip(
        known, events.student, events.school, events.where, strict=True
    ):
        if ok:
            continue
        if student not in students:
            batch.problem(where, "studentUniqueId", student, "unknown student")
        else:
            batch.problem(where, "schoolId", school, "unknown school")
    events.keep(known)


def check_duplicate_events(batch: Batch) -> None:
    """The same event twice: a harmless repeat is noted, a disagreeing one refused; either way
    only the first is kept."""
    events = batch.events
    if len(set(events.keys())) == len(events):
        return
    first: dict[tuple[str, ...], int] = {}
    for index, key in enumerate(events.keys()):
        first.setdefault(key, index)
    if len(first) == len(events):
        return
    keep = [False] * len(events)
    for index in first.values():
        keep[index] = True
    for index in (i for i, ok in enumerate(keep) if not ok):
        _duplicate(batch, index, first[_key(events, index)])
    events.keep(keep)


def _key(events: Events, index: int) -> tuple[str, ...]:
    return (
        events.student[index],
        events.school[index],
        events.section[index],
        events.date[index],
        events.category[index],
    )


def _duplicate(batch: Batch, index: int, original: int) -> None:
    events = batch.events
    first = "{}:{}".format(*batch.place(events.where[original]))
    same = (events.duration[index], events.reason[index]) == (
        events.duration[original],
        events.reason[original],
    )
    if same:
        file, line = batch.place(events.where[index])
        batch.problems.note(
            f"{file}:{line}: duplicate attendance event (first at {first})", "duplicate_event"
        )
    else:
        reason = f"duplicate attendance event (first at {first})"
        batch.problem(events.where[index], "eventDate", events.date[index], reason)


def note_non_school_days(batch: Batch) -> None:
    """Events on dates the school's calendar does not mark as school days, or on weekends
    where the calendar is silent, go to the data-quality report (they are still stored)."""
    closed = _closed_days(batch)
    if not closed:
        return
    events = batch.events
    for student, school, date, where in zip(
        events.student, events.school, events.date, events.where, strict=True
    ):
        if (school, date) in closed:
            file, line = batch.place(where)
            name = WEEKDAYS[dt.date.fromisoformat(date).weekday()]
            batch.problems.note(
                f"{file}:{line} studentUniqueId={student} eventDate={date}: "
                f"event on a non-school day ({name})",
                kind="event_on_non_school_day",
            )


def _closed_days(batch: Batch) -> set[tuple[str, str]]:
    """The (school, date) pairs among the events that are not school days."""
    days = _school_days(batch)
    pairs = set(zip(batch.events.school, batch.events.date, strict=True))
    weekend = {d for _, d in pairs if dt.date.fromisoformat(d).weekday() >= 5}
    return {(s, d) for s, d in pairs if not days.get((s, d), d not in weekend)}


def note_outside_enrollment(batch: Batch) -> None:
    """Events of a student whose enrollments are known but do not cover the day at that school
    (exit date inclusive; No show / Invalid enrollment ignored) go to the data-quality report.
    A student with no enrollment at all is not judged: the source may not carry them."""
    stints = _stints(batch)
    events = batch.events
    rows = zip(events.student, events.school, events.date, events.where, strict=True)
    for student, school, date, where in rows:
        spans = stints.get(student)
        if spans is None:
            continue
        for at, entry, exit_date in spans:
            if at == school and entry <= date <= exit_date:
                break
        else:
            file, line = batch.place(where)
            batch.problems.note(
                f"{file}:{line} studentUniqueId={student} schoolId={school} eventDate={date}: "
                "event outside the student's enrollment",
                kind="event_outside_enrollment",
            )


def _stints(batch: Batch) -> dict[str, list[tuple[str, str, str]]]:
    """studentUniqueId → (schoolId, entry, exit or far future) as ISO text, batch and stored."""
    students = set(batch.events.student)
    rows = [
        (s, sc, e, r.get("exit_date"), r.get("exit_type", ""))
        for (s, sc, e), r in batch.enrollments.rows.items()
    ]
    rest = students - {k[0] for k in batch.enrollments.rows}
    found = scoped(Enrollment.objects.all(), "student__student_unique_id", rest).values_list(
        "student__student_unique_id", "school__school_id", "entry_date", "exit_date", "exit_type"
    )
    rows += [row for row in found if row[0] in rest]
    stints: dict[str, list[tuple[str, str, str]]] = {}
    for student, school, entry, exit_date, exit_type in rows:
        if str(exit_type).lower() not in IGNORED_EXIT_TYPES:
            end = exit_date.isoformat() if exit_date else "9999-12-31"
            stints.setdefault(student, []).append((school, entry.isoformat(), end))
    return stints


def _school_days(batch: Batch) -> dict[tuple[str, str], bool]:
    """(schoolId, date) → is a school day, from the batch and the stored calendars; a date
    any of a school's calendars marks as a school day is one."""
    schools = set(batch.events.school)
    years = {k[1] for k in batch.calendars.rows} | batch.school_years
    stored = CalendarDate.objects.filter(
        calendar__school__school_id__in=schools, calendar__school_year__in=years
    ).values_list("calendar__school__school_id", "date", "is_school_day")
    days: dict[tuple[str, str], bool] = {}
    for school, date, flag in stored:
        key = (school, date.isoformat())
        days[key] = days.get(key, False) or flag
    for (school, _year, _code, date), row in batch.calendar_dates.rows.items():
        key = (school, date.isoformat())
        days[key] = days.get(key, False) or row["is_school_day"]
    return days
