# ruff: noqa: S608 — the SQL here names registered Arrow tables (generated names) and columns;
# values are bound parameters.
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

import pyarrow as pa

from attend.roster.choices import IGNORED_EXIT_TYPES
from attend.roster.importers.batch import Batch, Table
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
    uids = set(batch.students.rows) | batch.events.distinct("student")
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
    return codes | batch.events.distinct("school") | {k[1] for k in batch.deleted_events}


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
    referenced = batch.events.distinct("student") | {k[0] for k in batch.enrollments.rows}
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
    # Usually every reference resolves: find the rows that do not with one pass per part
    # (set lookups in a comprehension), then name them in staging order.
    wrong = {k for index, (known, _) in parts.items() for k in table.rows if k[index] not in known}
    for key in [k for k in table.rows if k in wrong] if wrong else []:
        for index, (known, name) in parts.items():
            value = key[index]
            if value not in known:
                shown = value[2] if isinstance(value, tuple) else value
                batch.problem(table.where[key], name, shown, f"unknown {name.removesuffix('Id')}")
                table.drop(key)
                break


def _check_events(batch: Batch, students: set[str], schools: set[str]) -> None:
    """Events whose student or school is unknown are problems, and are dropped."""
    events = batch.events
    if not len(events):
        return
    known = pa.table({"student": pa.array(sorted(students), pa.string())})
    places = pa.table({"school": pa.array(sorted(schools), pa.string())})
    with events.registered(known) as s, events.registered(places) as c:
        unknown = events.rows(
            f"SELECT loc, student, school, student IN (SELECT student FROM {s}) FROM ev "
            f"WHERE student NOT IN (SELECT student FROM {s}) "
            f"OR school NOT IN (SELECT school FROM {c}) ORDER BY loc"
        )
    for where, student, school, student_known in unknown:
        if not student_known:
            batch.problem(where, "studentUniqueId", student, "unknown student")
        else:
            batch.problem(where, "schoolId", school, "unknown school")
    events.remove(row[0] for row in unknown)


def check_duplicate_events(batch: Batch) -> None:
    """The same event twice: a harmless repeat is noted, a disagreeing one refused; either way
    only the first is kept."""
    events = batch.events
    if not len(events) or _distinct(batch):
        return
    repeats = events.rows(
        "SELECT loc, first_loc, same, CAST(date AS VARCHAR) FROM ("
        "SELECT loc, date, first_value(loc) OVER w AS first_loc, "
        "duration IS NOT DISTINCT FROM first_value(duration) OVER w "
        "AND reason = first_value(reason) OVER w AS same FROM ev "
        "WHERE (student, school, section, date, category) IN ("
        "SELECT (student, school, section, date, category) FROM ev GROUP BY ALL "
        "HAVING count(*) > 1) "
        "WINDOW w AS (PARTITION BY student, school, section, date, category ORDER BY loc)"
        ") WHERE loc <> first_loc ORDER BY loc"
    )
    for where, original, same, date in repeats:
        first = "{}:{}".format(*batch.place(original))
        if same:
            file, line = batch.place(where)
            batch.problems.note(
                f"{file}:{line}: duplicate attendance event (first at {first})", "duplicate_event"
            )
        else:
            reason = f"duplicate attendance event (first at {first})"
            batch.problem(where, "eventDate", date, reason)
    events.remove(row[0] for row in repeats)


def _distinct(batch: Batch) -> bool:
    """True when no two events share a key. One 64-bit hash per key is far cheaper to count
    than the five columns; a collision only sends the import to the full check."""
    key = "hash(student, school, section, date, category)"
    ((total, keys),) = batch.events.rows(f"SELECT count(*), count(DISTINCT {key}) FROM ev")
    return bool(total == keys)


def _noted(batch: Batch, sql: str, params: list[Any]) -> tuple[int, list[tuple[Any, ...]]]:
    """(how many rows `sql` selects, the first of them that the report has room for): one
    pass, the count riding along as a window over all of them."""
    rows = batch.events.rows(
        f"SELECT *, count(*) OVER () FROM ({sql}) ORDER BY loc LIMIT ?",
        [*params, max(1, batch.problems.room())],
    )
    total = int(rows[0][-1]) if rows else 0
    return total, [row[:-1] for row in rows[: batch.problems.room()]]


def note_non_school_days(batch: Batch) -> None:
    """Events on dates the school's calendar does not mark as school days, or on weekends
    where the calendar is silent, go to the data-quality report (they are still stored)."""
    closed = _closed_days(batch)
    if not closed:
        return
    events = batch.events
    table = pa.table(
        {
            "school": pa.array([s for s, _ in closed], pa.string()),
            "date": pa.array([d for _, d in closed], pa.string()).cast(pa.date32()),
        }
    )
    with events.registered(table) as name:
        total, shown = _noted(
            batch,
            "SELECT loc, student, CAST(date AS VARCHAR), dayname(date) "
            f"FROM ev SEMI JOIN {name} USING (school, date)",
            [],
        )
    texts = (
        "{}:{} studentUniqueId={} eventDate={}: event on a non-school day ({})".format(
            *batch.place(loc), student, date, day
        )
        for loc, student, date, day in shown
    )
    batch.problems.note_many("event_on_non_school_day", int(total), texts)


def _closed_days(batch: Batch) -> set[tuple[str, str]]:
    """The (school, date) pairs among the events that are not school days."""
    days = _school_days(batch)
    pairs = {
        (school, date.isoformat())
        for school, date in batch.events.rows("SELECT DISTINCT school, date FROM ev")
    }
    weekend = {d for _, d in pairs if dt.date.fromisoformat(d).weekday() >= 5}
    return {(s, d) for s, d in pairs if not days.get((s, d), d not in weekend)}


def note_outside_enrollment(batch: Batch) -> None:
    """Events of a student whose enrollments are known but do not cover the day at that school
    (exit date inclusive; No show / Invalid enrollment ignored) go to the data-quality report.
    A student with no enrollment at all is not judged: the source may not carry them."""
    events = batch.events
    if not len(events):
        return
    stints = _stints(batch)
    with events.registered(stints) as name:
        total, shown = _noted(
            batch,
            "SELECT e.loc, e.student, e.school, CAST(e.date AS VARCHAR) FROM ev e "
            f"SEMI JOIN (SELECT DISTINCT student FROM {name}) k ON k.student = e.student "
            f"ANTI JOIN {name} s ON s.student = e.student AND s.school = e.school "
            "AND e.date BETWEEN s.entry AND s.exit",
            [],
        )
    texts = (
        "{}:{} studentUniqueId={} schoolId={} eventDate={}: event outside the student's "
        "enrollment".format(*batch.place(loc), student, school, date)
        for loc, student, school, date in shown
    )
    batch.problems.note_many("event_outside_enrollment", int(total), texts)


def _stints(batch: Batch) -> pa.Table:
    """(student, school, entry, exit or far future) of the events' students, from the batch
    and, for students the batch has no enrollment of, the database."""
    students = batch.events.distinct("student")
    rows = [
        (s, sc, e, r.get("exit_date"), r.get("exit_type", ""))
        for (s, sc, e), r in batch.enrollments.rows.items()
    ]
    rest = students - {k[0] for k in batch.enrollments.rows}
    found = scoped(Enrollment.objects.all(), "student__student_unique_id", rest).values_list(
        "student__student_unique_id", "school__school_id", "entry_date", "exit_date", "exit_type"
    )
    rows += [row for row in found if row[0] in rest]
    kept = [r for r in rows if str(r[4]).lower() not in IGNORED_EXIT_TYPES]
    far = dt.date(9999, 12, 31)
    return pa.table(
        {
            "student": pa.array([r[0] for r in kept], pa.string()),
            "school": pa.array([r[1] for r in kept], pa.string()),
            "entry": pa.array([r[2] for r in kept], pa.date32()),
            "exit": pa.array([r[3] or far for r in kept], pa.date32()),
        }
    )


def _school_days(batch: Batch) -> dict[tuple[str, str], bool]:
    """(schoolId, date) → is a school day, from the batch and the stored calendars; a date
    any of a school's calendars marks as a school day is one."""
    schools = batch.events.distinct("school")
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


def check_deletions(batch: Batch) -> None:
    """A deletion of an event the same import also sends is ignored (the source still has the
    event: it was deleted and entered again), and listed in the data-quality report."""
    deleted = batch.deleted_events
    if not deleted or not len(batch.events):
        return
    keys = pa.table(
        {
            "student": pa.array([k[0] for k in deleted], pa.string()),
            "school": pa.array([k[1] for k in deleted], pa.string()),
            "section": pa.array([k[2] for k in deleted], pa.string()),
            "date": pa.array([k[3] for k in deleted], pa.date32()),
            "category": pa.array([k[4] for k in deleted], pa.string()),
        }
    )
    with batch.events.registered(keys) as name:
        sent = batch.events.rows(
            f"SELECT DISTINCT student, school, section, date, category FROM {name} "
            "SEMI JOIN ev USING (student, school, section, date, category)"
        )
    if not sent:
        return
    resent = set(sent)
    batch.deleted_events = [k for k in deleted if k not in resent]
    for student, school, section, date, category in sorted(resent):
        where = f"section {section} " if section else ""
        batch.problems.note(
            f"studentUniqueId={student} schoolId={school} {where}eventDate={date} "
            f"category={category}: deletion ignored, the import also sends the event",
            "deletion_ignored",
        )


def check_replace(batch: Batch) -> None:
    """A complete export replaces the ledger's rows in its range only when every row of it
    was valid: a row refused (and skipped with --skip-invalid) must not read as a deletion."""
    if batch.replace is not None and len(batch.problems):
        batch.replace = None
        batch.problems.note(
            "replace-range not applied: the export has invalid rows, so it is not complete",
            "replace_skipped",
        )
