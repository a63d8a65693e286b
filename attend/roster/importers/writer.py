"""Write a validated `Batch`: the roster by natural-key upserts (`upsert.py`), then the ledger
(`ledger.py`).

Must run inside the caller's `transaction.atomic()`: an error anywhere rolls everything back.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from attend.roster.importers.batch import Batch, SectionKey
from attend.roster.importers.common import Tally
from attend.roster.importers.ledger import Ledger
from attend.roster.importers.upsert import insert_rows, link_many, scoped, upsert
from attend.roster.models import (
    Calendar,
    CalendarDate,
    District,
    Enrollment,
    Guardian,
    Household,
    School,
    Section,
    SectionEnrollment,
    Staff,
    Student,
    StudentGuardian,
)

HOUSEHOLD_FIELDS = ("address", "city", "postal_code", "language")
Progress = Callable[[str], None]


@dataclass
class Written:
    """Tallies by kind of record, and the ledger's corrections."""

    kinds: dict[str, Tally] = field(default_factory=dict)
    corrections: int = 0
    deleted: int = 0

    @property
    def total(self) -> Tally:
        total = Tally()
        for tally in self.kinds.values():
            total.add(tally)
        return total


@dataclass
class Keys:
    """Natural key → primary key, filled as each table is written."""

    district: District | None = None
    schools: dict[str, int] = field(default_factory=dict)
    students: dict[str, int] = field(default_factory=dict)
    contacts: dict[str, int] = field(default_factory=dict)
    staff: dict[str, int] = field(default_factory=dict)
    sections: dict[SectionKey, int] = field(default_factory=dict)


def write_batch(batch: Batch, *, district: District, progress: Progress | None = None) -> Written:
    """Write every table of the batch in dependency order (inside the caller's transaction)."""
    say = progress or (lambda _line: None)
    written, keys = Written(), Keys(district=district)
    _update_district(batch, district)
    steps = (_schools, _calendars, _people, _enrollments, _sections, _events)
    for step in steps:
        step(batch, keys, written)
        say(f"wrote {step.__name__.strip('_')}")
    return written


def _update_district(batch: Batch, district: District) -> None:
    newest = batch.newest_year
    fields = []
    if newest and (district._state.adding or newest > district.current_school_year):
        district.current_school_year, fields = newest, ["current_school_year"]
    name = batch.district.get("name")
    if name and name != district.name:
        district.name = name
        fields.append("name")
    if district._state.adding:
        district.save()
    elif fields:
        district.save(update_fields=fields)


# ---------------------------------------------------------------------------------------------
# Roster


def _schools(batch: Batch, keys: Keys, written: Written) -> None:
    assert keys.district is not None
    stored = dict(School.objects.values_list("school_id", "pk"))
    rows = {(k,): dict(v) for k, v in batch.schools.rows.items()}
    for key, row in rows.items():
        if key[0] not in stored:
            row["district_id"] = keys.district.pk
    written.kinds["schools"], pks = upsert(School.objects.all(), ("school_id",), rows)
    keys.schools = stored | {k[0]: pk for k, pk in pks.items()}


def _calendars(batch: Batch, keys: Keys, written: Written) -> None:
    school = keys.schools
    rows: dict[tuple[Any, ...], dict[str, Any]] = {
        (school[s], y, c): {} for s, y, c in batch.calendars.rows
    }
    scope = Calendar.objects.filter(school_id__in={k[0] for k in rows})
    written.kinds["calendars"], pks = upsert(scope, ("school_id", "school_year", "code"), rows)
    dates = {
        (pks[(school[s], y, c)], day): dict(v)
        for (s, y, c, day), v in batch.calendar_dates.rows.items()
    }
    scope_dates = CalendarDate.objects.filter(calendar_id__in={k[0] for k in dates})
    written.kinds["calendar_dates"], _ = upsert(scope_dates, ("calendar_id", "date"), dates)


def _people(batch: Batch, keys: Keys, written: Written) -> None:
    households = _households(batch, keys, written)
    _guardians(batch, keys, written, households)
    _students(batch, keys, written, households)
    links = {
        (keys.students[s], keys.contacts[c]): dict(v)
        for (s, c), v in batch.student_guardians.rows.items()
    }
    scope = scoped(StudentGuardian.objects.all(), "student_id", (k[0] for k in links))
    written.kinds["student_guardians"], _ = upsert(scope, ("student_id", "guardian_id"), links)


def primary_contacts(batch: Batch) -> dict[str, str]:
    """Each student's primary contact: flagged primary, else the first by priority."""
    best: dict[str, tuple[int, str]] = {}
    for (student, contact), row in batch.student_guardians.rows.items():
        rank = (0 if row.get("primary") else 1) * 1000 + int(row.get("priority") or 999)
        if student not in best or rank < best[student][0]:
            best[student] = (rank, contact)
    return {student: contact for student, (_, contact) in best.items()}


def _households(batch: Batch, keys: Keys, written: Written) -> dict[str, int]:
    """One household per primary contact, so siblings sharing that contact share it.

    1. A contact who already heads a household keeps it (its address is refreshed).
    2. Otherwise a household is created from the contact's address and language.
    """
    assert keys.district is not None
    heads = set(primary_contacts(batch).values())
    linked = scoped(Guardian.objects.filter(household__isnull=False), "contact_unique_id", heads)
    stored = {
        c: h for c, h in linked.values_list("contact_unique_id", "household_id") if c in heads
    }
    rows: dict[tuple[Any, ...], dict[str, Any]] = {}
    for contact in heads:
        home = _home_of(batch.guardians.rows.get(contact, {}))
        if contact in stored:
            rows[(stored[contact],)] = home
    tally, _ = upsert(Household.objects.all(), ("pk",), rows)
    new = [c for c in sorted(heads) if c not in stored]
    homes = [
        ((), {"district_id": keys.district.pk, **_home_of(batch.guardians.rows.get(c, {}))})
        for c in new
    ]
    made = insert_rows(Household, (), homes, returning=True)
    tally.created += len(made)
    written.kinds["households"] = tally
    return stored | dict(zip(new, made, strict=True))


def _home_of(contact: dict[str, Any]) -> dict[str, Any]:
    home = {f: contact.get(f"household_{f}") for f in HOUSEHOLD_FIELDS}
    return {f: v for f, v in home.items() if v}


def _guardians(batch: Batch, keys: Keys, written: Written, households: dict[str, int]) -> None:
    rows: dict[tuple[Any, ...], dict[str, Any]] = {}
    for contact, row in batch.guardians.rows.items():
        clean = {f: v for f, v in row.items() if not f.startswith("household_")}
        if contact in households:
            clean["household_id"] = households[contact]
        rows[(contact,)] = clean
    scope = scoped(Guardian.objects.all(), "contact_unique_id", (k[0] for k in rows))
    written.kinds["guardians"], pks = upsert(scope, ("contact_unique_id",), rows)
    keys.contacts = {k[0]: pk for k, pk in pks.items()}
    missing = {c for _, c in batch.student_guardians.rows} - keys.contacts.keys()
    keys.contacts |= dict(
        scoped(Guardian.objects.all(), "contact_unique_id", missing).values_list(
            "contact_unique_id", "pk"
        )
    )


def _students(batch: Batch, keys: Keys, written: Written, households: dict[str, int]) -> None:
    assert keys.district is not None
    primary = primary_contacts(batch)
    stored = dict(Student.objects.values_list("student_unique_id", "pk"))
    rows: dict[tuple[Any, ...], dict[str, Any]] = {}
    for uid, row in batch.students.rows.items():
        clean = dict(row)
        if uid not in stored:
            clean["district_id"] = keys.district.pk
        if primary.get(uid) in households:
            clean["household_id"] = households[primary[uid]]
        rows[(uid,)] = clean
    written.kinds["students"], pks = upsert(Student.objects.all(), ("student_unique_id",), rows)
    keys.students = stored | {k[0]: pk for k, pk in pks.items()}


def _enrollments(batch: Batch, keys: Keys, written: Written) -> None:
    rows = {
        (keys.students[s], keys.schools[sc], entry): dict(v)
        for (s, sc, entry), v in batch.enrollments.rows.items()
    }
    scope = Enrollment.objects.filter(school_id__in={k[1] for k in rows})
    key_fields = ("student_id", "school_id", "entry_date")
    written.kinds["enrollments"], _ = upsert(scope, key_fields, rows)


def _sections(batch: Batch, keys: Keys, written: Written) -> None:
    _staff(batch, keys, written)
    rows = {(keys.schools[s], y, c): dict(v) for (s, y, c), v in batch.sections.rows.items()}
    scope = Section.objects.filter(school_id__in={k[0] for k in rows})
    key_fields = ("school_id", "school_year", "section_id")
    written.kinds["sections"], pks = upsert(scope, key_fields, rows)
    school_code = {pk: code for code, pk in keys.schools.items()}
    keys.sections = {(school_code[s], y, c): pk for (s, y, c), pk in pks.items()}
    _section_links(batch, keys, written)


def _staff(batch: Batch, keys: Keys, written: Written) -> None:
    rows = {(k,): dict(v) for k, v in batch.staff.rows.items()}
    scope = scoped(Staff.objects.all(), "staff_unique_id", (k[0] for k in rows))
    written.kinds["staff"], pks = upsert(scope, ("staff_unique_id",), rows)
    keys.staff = {k[0]: pk for k, pk in pks.items()}
    wanted = {s for _, s in batch.section_staff.rows} - keys.staff.keys()
    keys.staff |= dict(
        scoped(Staff.objects.all(), "staff_unique_id", wanted).values_list("staff_unique_id", "pk")
    )


def _section_links(batch: Batch, keys: Keys, written: Written) -> None:
    rows = {
        (keys.sections[sec], keys.students[s]): dict(v)
        for (sec, s), v in batch.section_enrollments.rows.items()
    }
    scope = scoped(SectionEnrollment.objects.all(), "section_id", (k[0] for k in rows))
    written.kinds["section_enrollments"], _ = upsert(scope, ("section_id", "student_id"), rows)
    pairs = ((keys.sections[sec], keys.staff[s]) for sec, s in batch.section_staff.rows)
    written.kinds["section_teachers"] = link_many(
        Section.teachers.through, "section_id", "staff_id", pairs
    )


# ---------------------------------------------------------------------------------------------
# Ledger


def _events(batch: Batch, keys: Keys, written: Written) -> None:
    """Events, deletions the source sent, and rows a complete export no longer has."""
    ledger = Ledger(batch.source)
    tally = Tally()
    if len(batch.events):
        tally, written.corrections, gone = ledger.upsert(batch, keys.students, keys.schools)
        written.deleted += gone
    if batch.deleted_events:
        written.deleted += ledger.delete(batch.deleted_events, keys.students, keys.schools)
    tally.updated += written.deleted
    if len(batch.events) or batch.deleted_events:
        written.kinds["attendance_events"] = tally
