# ruff: noqa: S608 — SQL here is assembled from model table names and module constants only;
# every value travels as a bound parameter or through COPY.
"""Write a validated `Batch`: the roster through ORM upserts, the ledger through one SQL path.

Must run inside the caller's `transaction.atomic()`: an error anywhere rolls everything back.
The ledger path stages events in a temporary table (executemany on SQLite, COPY on
PostgreSQL), finds corrections with one join, then upserts with `INSERT … ON CONFLICT DO UPDATE
… WHERE <changed>` so unchanged rows are not even rewritten.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from django.db import connection
from django.utils import timezone

from attend.attendance.models import AttendanceCorrection, AttendanceEvent
from attend.roster.importers.batch import Batch, EventKey, SectionKey
from attend.roster.importers.common import Tally, stored_instant
from attend.roster.importers.upsert import copy_columns, insert_rows, link_many, scoped, upsert
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

LEDGER = AttendanceEvent._meta.db_table
CORRECTIONS = AttendanceCorrection._meta.db_table
STAGE = "attend_import_stage"
FIXES = "attend_import_fixes"
DAY = ("student_id", "school_id", "section_id", "event_date")
KEY = (*DAY, "category")


def _events(batch: Batch, keys: Keys, written: Written) -> None:
    """Stage, correct, upsert, delete: see the module docstring."""
    ledger = Ledger(batch.source)
    if len(batch.events):
        written.kinds["attendance_events"], written.corrections = ledger.upsert(batch, keys)
    if batch.deleted_events:
        written.deleted = ledger.delete(batch.deleted_events, keys)
        tally = written.kinds.setdefault("attendance_events", Tally())
        tally.updated += written.deleted


def _on(left: str, right: str, columns: tuple[str, ...]) -> str:
    return " AND ".join(f"{left}.{c} = {right}.{c}" for c in columns)


class Ledger:
    """The fast ledger path; SQL written once for SQLite (3.33+) and PostgreSQL."""

    # SQLite's default page cache (2 MB) makes a million-row insert into four B-trees thrash.
    SQLITE_CACHE_KIB = 196_608

    def __init__(self, source: str) -> None:
        self.source = source
        self.postgres = connection.vendor == "postgresql"
        self.now = timezone.now()
        self.distinct = "IS DISTINCT FROM" if self.postgres else "IS NOT"

    def value(self, moment: dt.datetime | None) -> Any:
        """Datetimes as each backend stores them (SQLite: naive UTC text, as Django writes)."""
        if moment is None or self.postgres:
            return moment
        return stored_instant(moment)

    def upsert(self, batch: Batch, keys: Keys) -> tuple[Tally, int]:
        """1. stage  2. corrections (only when the ledger has rows)  3. upsert  4. tally."""
        total = len(batch.events)
        with connection.cursor() as cursor, self._tuned(cursor):
            before = self._count(cursor)
            if not before:
                self._insert_all(cursor, batch, keys)
                return Tally(created=total), 0
            self._stage(cursor, batch, keys)
            fixes = self._corrections(cursor) if before else 0
            self._fill_recorded_at(cursor, known=bool(before))
            cursor.execute(self._upsert_sql(), [self.value(self.now), self.source])
            changed = cursor.rowcount
            created = self._count(cursor) - before
            cursor.execute(f"DROP TABLE {STAGE}")
        updated = changed - created + fixes
        return Tally(created, updated, total - created - updated), fixes

    @contextmanager
    def _tuned(self, cursor: Any) -> Iterator[None]:
        if self.postgres:
            yield
            return
        cursor.execute("PRAGMA cache_size")
        previous = cursor.fetchone()[0]
        cursor.execute(f"PRAGMA cache_size = -{self.SQLITE_CACHE_KIB}")
        try:
            yield
        finally:
            cursor.execute(f"PRAGMA cache_size = {int(previous)}")

    def _count(self, cursor: Any) -> int:
        cursor.execute(f"SELECT count(*) FROM {LEDGER}")
        return int(cursor.fetchone()[0])

    def _stage(self, cursor: Any, batch: Batch, keys: Keys) -> None:
        cursor.execute(f"DROP TABLE IF EXISTS {STAGE}")
        cursor.execute(
            f"CREATE TEMPORARY TABLE {STAGE} (student_id bigint, school_id bigint, "
            "section_id varchar(64), event_date date, category varchar(16), "
            "duration numeric(5, 4), reason varchar(200), recorded_at timestamp with time zone)"
        )
        columns = [*self._columns(batch, keys), batch.events.recorded]
        if self.postgres:
            self._copy(cursor, STAGE, columns)
        else:
            raw = connection.connection.cursor()  # type: ignore[union-attr]
            marks = ", ".join(["?"] * len(columns))
            raw.executemany(f"INSERT INTO {STAGE} VALUES ({marks})", zip(*columns, strict=True))

    def _insert_all(self, cursor: Any, batch: Batch, keys: Keys) -> None:
        """An empty ledger has nothing to compare with: the rows go straight in, and its
        non-unique indexes (and, on PostgreSQL, foreign keys) are built once afterwards rather
        than row by row — a sort and one join instead of a million B-tree insertions and
        trigger checks, as pg_restore does. DDL is transactional in both databases, so a
        failure restores them with everything else."""
        indexes = self._secondary_indexes(cursor)
        keys_sql = self._foreign_keys(cursor)
        if self.postgres:
            # Django's foreign keys are deferred, and PostgreSQL alters no table with checks
            # pending: run the roster's now (they would run at commit anyway).
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute("SET CONSTRAINTS ALL DEFERRED")
        for name, _definition in indexes:
            cursor.execute(f"DROP INDEX {connection.ops.quote_name(name)}")
        for name, _definition in keys_sql:
            cursor.execute(
                f"ALTER TABLE {LEDGER} DROP CONSTRAINT {connection.ops.quote_name(name)}"
            )
        self._insert_rows(cursor, batch, keys)
        for name, definition in keys_sql:
            # Re-adding a foreign key checks every row in one join instead of a million
            # queued per-row trigger checks.
            quoted = connection.ops.quote_name(name)
            cursor.execute(f"ALTER TABLE {LEDGER} ADD CONSTRAINT {quoted} {definition}")
        for _name, definition in indexes:
            cursor.execute(definition)

    def _foreign_keys(self, cursor: Any) -> list[tuple[str, str]]:
        """(name, definition) of the ledger's foreign keys, on PostgreSQL (SQLite checks them
        cheaply row by row and cannot drop a constraint)."""
        if not self.postgres:
            return []
        cursor.execute(
            "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE conrelid = %s::regclass AND contype = 'f'",
            [LEDGER],
        )
        return [(str(name), str(definition)) for name, definition in cursor.fetchall()]

    def _secondary_indexes(self, cursor: Any) -> list[tuple[str, str]]:
        """(name, CREATE INDEX statement) of the ledger's non-unique indexes."""
        if self.postgres:
            cursor.execute(
                "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = current_schema() "
                "AND tablename = %s AND indexdef NOT LIKE 'CREATE UNIQUE%%'",
                [LEDGER],
            )
        else:
            cursor.execute(
                "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = %s "
                "AND sql IS NOT NULL AND sql NOT LIKE 'CREATE UNIQUE%%'",
                [LEDGER],
            )
        return [(str(name), str(sql)) for name, sql in cursor.fetchall()]

    def _insert_rows(self, cursor: Any, batch: Batch, keys: Keys) -> None:
        now = stored_instant(self.now)
        count = len(batch.events)
        recorded = [r or now for r in batch.events.recorded]
        extra: list[list[Any]] = [recorded, [now] * count, [self.source] * count, [False] * count]
        columns = [*self._columns(batch, keys), *extra]
        names = ", ".join((*KEY, "duration", "reason", "recorded_at", "imported_at", "source"))
        names += ", needs_review"
        if self.postgres:
            self._copy(cursor, f"{LEDGER} ({names})", columns)
        else:
            raw = connection.connection.cursor()  # type: ignore[union-attr]
            marks = ", ".join(["?"] * len(columns))
            sql = f"INSERT INTO {LEDGER} ({names}) VALUES ({marks})"
            raw.executemany(sql, zip(*columns, strict=True))

    def _copy(self, cursor: Any, target: str, columns: list[list[Any]]) -> None:
        copy_columns(cursor, target, columns)

    def _columns(self, batch: Batch, keys: Keys) -> list[list[Any]]:
        events = batch.events
        students = [keys.students[s] for s in events.student]
        schools = [keys.schools[s] for s in events.school]
        return [
            students,
            schools,
            events.section,
            events.date,
            events.category,
            events.duration,
            events.reason,
        ]

    def _fill_recorded_at(self, cursor: Any, known: bool) -> None:
        """Without `_lastModifiedDate` a known row keeps its date and a new one gets now."""
        if known:
            cursor.execute(
                f"UPDATE {STAGE} SET recorded_at = (SELECT e.recorded_at FROM {LEDGER} e "
                f"WHERE {_on('e', STAGE, KEY)}) WHERE recorded_at IS NULL"
            )
        cursor.execute(
            f"UPDATE {STAGE} SET recorded_at = %s WHERE recorded_at IS NULL",
            [self.value(self.now)],
        )

    def _corrections(self, cursor: Any) -> int:
        """Rows the source changed in substance: history first, then the row itself.

        A day the source now gives a single, different category is a re-categorisation of the
        day's single stored row (Ed-Fi's identity includes the category, so a lake or CSV
        export cannot say "this row changed"); a changed duration or a row deleted earlier
        and now sent again is a correction of the same row.
        """
        cursor.execute(f"CREATE INDEX {STAGE}_day ON {STAGE} ({', '.join(DAY)})")
        cursor.execute(f"DROP TABLE IF EXISTS {FIXES}")
        cursor.execute(self._fixes_sql())
        cursor.execute(
            f"INSERT INTO {CORRECTIONS} (event_id, changed_at, old_category, new_category, "
            "old_duration, new_duration, old_recorded_at, deleted, source) "
            f"SELECT event_id, %s, old_category, category, old_duration, duration, "
            f"old_recorded_at, FALSE, %s FROM {FIXES}",
            [self.value(self.now), self.source],
        )
        count = cursor.rowcount
        cursor.execute(
            f"UPDATE {LEDGER} SET category = f.category, duration = f.duration, "
            "reason = f.reason, recorded_at = COALESCE(f.recorded_at, %s), "
            f"deleted_at = NULL, needs_review = TRUE, imported_at = %s FROM {FIXES} f "
            f"WHERE {LEDGER}.id = f.event_id",
            [self.value(self.now), self.value(self.now)],
        )
        cursor.execute(f"DROP TABLE {FIXES}")
        return int(count)

    def _fixes_sql(self) -> str:
        stored = f"SELECT 1 FROM {LEDGER} o WHERE {_on('o', 'e', DAY)} AND o.id <> e.id"
        staged = f"SELECT 1 FROM {STAGE} t WHERE {_on('t', 's', DAY)} AND t.category <> s.category"
        return (
            f"CREATE TEMPORARY TABLE {FIXES} AS SELECT e.id AS event_id, "
            "e.category AS old_category, e.duration AS old_duration, "
            "e.recorded_at AS old_recorded_at, s.category, s.duration, s.reason, s.recorded_at "
            f"FROM {STAGE} s JOIN {LEDGER} e ON {_on('e', 's', DAY)} WHERE "
            f"(e.category = s.category AND (e.duration {self.distinct} s.duration "
            "OR e.deleted_at IS NOT NULL)) OR "
            f"(e.category <> s.category AND NOT EXISTS ({staged}) AND NOT EXISTS ({stored}))"
        )

    def _upsert_sql(self) -> str:
        columns = ", ".join(KEY)
        changed = (
            f"{LEDGER}.duration {self.distinct} excluded.duration OR "
            f"{LEDGER}.reason <> excluded.reason OR {LEDGER}.recorded_at <> excluded.recorded_at "
            f"OR {LEDGER}.deleted_at IS NOT NULL"
        )
        return (
            f"INSERT INTO {LEDGER} ({columns}, duration, reason, recorded_at, imported_at, "
            "source, deleted_at, needs_review) "
            f"SELECT {columns}, duration, reason, recorded_at, %s, %s, NULL, FALSE "
            f"FROM {STAGE} WHERE TRUE ORDER BY {columns} "
            f"ON CONFLICT ({columns}) DO UPDATE SET duration = excluded.duration, "
            "reason = excluded.reason, recorded_at = excluded.recorded_at, "
            f"imported_at = excluded.imported_at, deleted_at = NULL WHERE {changed}"
        )

    def delete(self, deleted: list[EventKey], keys: Keys) -> int:
        """Deletions from the source: kept for history, flagged, ignored by counts."""
        count = 0
        for key in deleted:
            row = self._find(key, keys)
            if row is None or row.deleted_at is not None:
                continue
            AttendanceCorrection.objects.create(
                event=row,
                changed_at=self.now,
                old_category=row.category,
                old_duration=row.duration,
                old_recorded_at=row.recorded_at,
                deleted=True,
                source=self.source,
            )
            row.deleted_at, row.needs_review = self.now, True
            row.save(update_fields=["deleted_at", "needs_review"])
            count += 1
        return count

    def _find(self, key: EventKey, keys: Keys) -> AttendanceEvent | None:
        student, school = keys.students.get(key[0]), keys.schools.get(key[1])
        if student is None or school is None:
            return None
        return (
            AttendanceEvent.objects.filter(
                student_id=student, school_id=school, section_id=key[2], event_date=key[3]
            )
            .filter(category=key[4])
            .first()
        )
