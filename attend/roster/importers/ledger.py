# ruff: noqa: S608 — SQL here is assembled from model table names and module constants only;
# every value travels as a bound parameter, through COPY, or is one of our own constants.
"""Write the staged attendance events into the ledger, set-based.

Must run inside the caller's `transaction.atomic()`: an error anywhere rolls everything back.

- **An empty ledger** (a district's first import) has nothing to compare with: the rows go
  straight in from the staging database (binary COPY on PostgreSQL, multi-row INSERTs on
  SQLite), and the ledger's indexes (the unique one too, which is why it is declared as an
  index rather than inline in the table) and, on PostgreSQL, its foreign keys are dropped
  first and built once afterwards — one sort instead of a million B-tree insertions, as
  pg_restore does. DDL is transactional in both databases, so a failure restores them with
  everything else.
- **Otherwise** the rows go into a temporary table the same way, and a few statements do the
  rest: corrections (history first), new rows (`INSERT … WHERE NOT EXISTS`), changed rows
  (`UPDATE … FROM`), and, for a complete export (`Replace`), the rows it no longer has.
- **Deletions** (Ed-Fi `/deletes`, lake `*Deletes` files, `Replace`) keep the row, stamp
  `deleted_at`, write a correction with the old values and flag the row for review.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import pyarrow as pa
from django.db import connection
from django.utils import timezone

from attend.attendance.models import AttendanceCorrection, AttendanceEvent
from attend.roster.importers.batch import Batch, EventKey
from attend.roster.importers.common import Tally, stored_instant
from attend.roster.importers.pgcopy import EPOCH_MICROSECONDS, Column, copy_binary
from attend.roster.importers.upsert import sqlite_insert

LEDGER = AttendanceEvent._meta.db_table
CORRECTIONS = AttendanceCorrection._meta.db_table
STAGE = "attend_import_stage"
FIXES = "attend_import_fixes"
GONE = "attend_import_gone"
# The unique key, in the order of its index: rows sorted so go in at the index's right edge.
DAY = ("student_id", "event_date", "school_id", "section_id")
KEY = (*DAY, "category")
COLUMNS = (*KEY, "duration", "reason", "recorded_at")
BATCH_ROWS = 100_000
_SAFE = re.compile(r"^[\w :.+-]*$")


@dataclass(frozen=True)
class Replace:
    """A complete export: within these dates and schools, ledger rows it does not have were
    removed at the source. `sections` False leaves period (section) events alone."""

    start: dt.date
    end: dt.date
    schools: frozenset[str]
    sections: bool = False


def _on(left: str, right: str, columns: tuple[str, ...]) -> str:
    return " AND ".join(f"{left}.{c} = {right}.{c}" for c in columns)


class Ledger:
    """The ledger writes of one import; SQL written once for SQLite (3.33+) and PostgreSQL."""

    # SQLite's default page cache (2 MB) makes a million-row insert into its B-trees thrash.
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

    # -- writing the staged events ------------------------------------------------------------

    def upsert(
        self, batch: Batch, students: dict[str, int], schools: dict[str, int]
    ) -> tuple[Tally, int, int]:
        """Write the staged events: (tally, corrections, rows a `Replace` removed)."""
        total = len(batch.events)
        with connection.cursor() as cursor, self._tuned(cursor):
            if not self._has_rows(cursor):
                self._first_load(cursor, batch, students, schools)
                return Tally(created=total), 0, 0
            self._stage(cursor, batch, students, schools)
            fixes = self._corrections(cursor)
            self._fill_recorded_at(cursor)
            created = self._insert_new(cursor)
            updated = self._update_changed(cursor)
            gone = self._replace(cursor, batch.replace, schools) if batch.replace else 0
            cursor.execute(f"DROP TABLE {STAGE}")
        updated += fixes
        return Tally(created, updated, total - created - updated), fixes, gone

    @contextmanager
    def _tuned(self, cursor: Any) -> Iterator[None]:
        """Settings for a bulk write, undone afterwards: a large page cache (SQLite); memory
        for sorts, hashes and index builds (PostgreSQL, `SET LOCAL`: this transaction only)."""
        if self.postgres:
            cursor.execute("SET LOCAL work_mem = '64MB'")
            cursor.execute("SET LOCAL maintenance_work_mem = '256MB'")
            yield
            return
        cursor.execute("PRAGMA cache_size")
        previous = cursor.fetchone()[0]
        cursor.execute(f"PRAGMA cache_size = -{self.SQLITE_CACHE_KIB}")
        try:
            yield
        finally:
            cursor.execute(f"PRAGMA cache_size = {int(previous)}")

    def _has_rows(self, cursor: Any) -> bool:
        cursor.execute(f"SELECT 1 FROM {LEDGER} LIMIT 1")
        return cursor.fetchone() is not None

    # -- the first load -----------------------------------------------------------------------

    def _first_load(
        self, cursor: Any, batch: Batch, students: dict[str, int], schools: dict[str, int]
    ) -> None:
        indexes = self._indexes(cursor)
        keys = self._foreign_keys(cursor)
        if self.postgres:
            # Django's foreign keys are deferred, and PostgreSQL alters no table with checks
            # pending: run the roster's now (they would run at commit anyway).
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute("SET CONSTRAINTS ALL DEFERRED")
        quote = connection.ops.quote_name
        for name, _definition in indexes:
            cursor.execute(f"DROP INDEX {quote(name)}")
        for name, _definition in keys:
            cursor.execute(f"ALTER TABLE {LEDGER} DROP CONSTRAINT {quote(name)}")
        self._copy_in(cursor, batch, students, schools, target=None)
        for _name, definition in indexes:
            # The unique index first: it is the one that would find a duplicate.
            cursor.execute(definition)
        for name, definition in keys:
            # Re-adding a foreign key checks every row in one join instead of a million
            # queued trigger checks.
            cursor.execute(f"ALTER TABLE {LEDGER} ADD CONSTRAINT {quote(name)} {definition}")

    def _foreign_keys(self, cursor: Any) -> list[tuple[str, str]]:
        """(name, definition) of the ledger's foreign keys, on PostgreSQL (SQLite cannot drop
        a constraint; it checks them cheaply row by row)."""
        if not self.postgres:
            return []
        cursor.execute(
            "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE conrelid = %s::regclass AND contype = 'f'",
            [LEDGER],
        )
        return [(str(name), str(definition)) for name, definition in cursor.fetchall()]

    def _indexes(self, cursor: Any) -> list[tuple[str, str]]:
        """(name, CREATE INDEX statement) of the ledger's indexes but its primary key, the
        unique one first."""
        if self.postgres:
            cursor.execute(
                "SELECT c.relname, pg_get_indexdef(i.indexrelid) FROM pg_index i "
                "JOIN pg_class c ON c.oid = i.indexrelid WHERE i.indrelid = %s::regclass "
                "AND NOT i.indisprimary ORDER BY i.indisunique DESC, c.relname",
                [LEDGER],
            )
        else:
            cursor.execute(
                "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = %s "
                "AND sql IS NOT NULL ORDER BY sql LIKE 'CREATE UNIQUE%%' DESC, name",
                [LEDGER],
            )
        return [(str(name), str(sql)) for name, sql in cursor.fetchall()]

    # -- moving rows from the staging database ------------------------------------------------

    def _copy_in(
        self,
        cursor: Any,
        batch: Batch,
        students: dict[str, int],
        schools: dict[str, int],
        target: str | None,
    ) -> None:
        """The staged events, keyed by primary keys, into the ledger (`target` None: complete
        rows) or into the temporary table `target`. Unsorted: the indexes they meet are built
        afterwards, by a sort of their own."""
        events = batch.events
        ids = {
            name: pa.table(
                {
                    "uid": pa.array(list(keys), pa.string()),
                    "pk": pa.array(list(keys.values()), pa.int64()),
                }
            )
            for name, keys in (("student", students), ("school", schools))
        }
        with events.registered(ids["student"]) as s, events.registered(ids["school"]) as c:
            batches = events.batches(self._source_sql(s, c, complete=target is None), BATCH_ROWS)
            if self.postgres:
                self._copy_postgres(cursor, batches, target)
            else:
                self._insert_sqlite(batches, target)

    def _source_sql(self, students: str, schools: str, complete: bool) -> str:
        """DuckDB SQL for the rows: values already in the form each backend takes."""
        recorded = "e.recorded"
        if complete:
            recorded = f"coalesce(e.recorded, '{self._constant(stored_instant(self.now))}')"
        if self.postgres:
            date = "CAST(e.date - DATE '2000-01-01' AS INTEGER)"
            recorded = f"epoch_us(CAST({recorded} AS TIMESTAMP)) - {EPOCH_MICROSECONDS}"
        else:
            date = "CAST(e.date AS VARCHAR)"
        return (
            f"SELECT s.pk AS student_id, {date} AS event_date, c.pk AS school_id, "
            "e.section, e.category, e.duration, e.reason, "
            f"{recorded} AS recorded FROM ev e "
            f"JOIN {students} s ON s.uid = e.student JOIN {schools} c ON c.uid = e.school"
        )

    def _copy_postgres(
        self, cursor: Any, batches: Iterator[pa.RecordBatch], target: str | None
    ) -> None:
        kinds = ("int8", "date", "int8", "text", "text", "numeric", "text", "timestamptz")
        extra: list[Column] = []
        names = list(COLUMNS)
        if target is None:
            extra = [
                Column("timestamptz", constant=self.now),
                Column("text", constant=self.source),
                Column("bool", constant=False),
            ]
            names += ["imported_at", "source", "needs_review"]

        def columns() -> Iterator[list[Column]]:
            for part in batches:
                yield [
                    Column(kind, part.column(i), scale=4) for i, kind in enumerate(kinds)
                ] + extra

        copy_binary(cursor, f"{target or LEDGER} ({', '.join(names)})", columns())

    def _insert_sqlite(self, batches: Iterator[pa.RecordBatch], target: str | None) -> None:
        """Multi-row INSERTs on the driver's own cursor (`sqlite_insert`); the constants are
        written into the statement rather than bound for every row."""
        names, marks = list(COLUMNS), ["?"] * len(COLUMNS)
        if target is None:
            names += ["imported_at", "source", "needs_review"]
            now, source = self._constant(stored_instant(self.now)), self._constant(self.source)
            marks += [f"'{now}'", f"'{source}'", "0"]
        head = f"INSERT INTO {target or LEDGER} ({', '.join(names)}) VALUES "
        for part in batches:
            sqlite_insert(head, f"({', '.join(marks)})", [c.to_pylist() for c in part.columns])

    @staticmethod
    def _constant(value: str) -> str:
        if not _SAFE.match(value):
            raise ValueError(f"not a plain constant: {value!r}")
        return value

    # -- the merge ------------------------------------------------------------------------------

    def _stage(
        self, cursor: Any, batch: Batch, students: dict[str, int], schools: dict[str, int]
    ) -> None:
        cursor.execute(f"DROP TABLE IF EXISTS {STAGE}")
        cursor.execute(
            f"CREATE TEMPORARY TABLE {STAGE} (student_id bigint, event_date date, "
            "school_id bigint, section_id varchar(64), category varchar(16), "
            "duration numeric(5, 4), reason varchar(200), recorded_at timestamp with time zone)"
        )
        self._copy_in(cursor, batch, students, schools, target=STAGE)
        cursor.execute(f"CREATE INDEX {STAGE}_key ON {STAGE} ({', '.join(KEY)})")
        if self.postgres:
            cursor.execute(f"ANALYZE {STAGE}")

    def _fill_recorded_at(self, cursor: Any) -> None:
        """Without `_lastModifiedDate` a known row keeps its date and a new one gets now."""
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

    def _insert_new(self, cursor: Any) -> int:
        columns = ", ".join(COLUMNS)
        cursor.execute(
            f"INSERT INTO {LEDGER} ({columns}, imported_at, source, deleted_at, needs_review) "
            f"SELECT {columns}, %s, %s, NULL, FALSE FROM {STAGE} s "
            f"WHERE NOT EXISTS (SELECT 1 FROM {LEDGER} e WHERE {_on('e', 's', KEY)}) "
            f"ORDER BY {', '.join(KEY)} ON CONFLICT DO NOTHING",
            [self.value(self.now), self.source],
        )
        return int(cursor.rowcount)

    def _update_changed(self, cursor: Any) -> int:
        changed = (
            f"({LEDGER}.duration {self.distinct} s.duration OR {LEDGER}.reason <> s.reason "
            f"OR {LEDGER}.recorded_at <> s.recorded_at OR {LEDGER}.deleted_at IS NOT NULL)"
        )
        cursor.execute(
            f"UPDATE {LEDGER} SET duration = s.duration, reason = s.reason, "
            "recorded_at = s.recorded_at, imported_at = %s, deleted_at = NULL "
            f"FROM {STAGE} s WHERE {_on(LEDGER, 's', KEY)} AND {changed}",
            [self.value(self.now)],
        )
        return int(cursor.rowcount)

    # -- deletions --------------------------------------------------------------------------------

    def _replace(self, cursor: Any, replace: Replace, schools: dict[str, int]) -> int:
        """A complete export: rows within its dates and schools that it no longer has."""
        pks = sorted(schools[s] for s in replace.schools if s in schools)
        if not pks:
            return 0
        marks = ", ".join(["%s"] * len(pks))
        daily = "" if replace.sections else "AND e.section_id = '' "
        cursor.execute(f"DROP TABLE IF EXISTS {GONE}")
        cursor.execute(
            f"CREATE TEMPORARY TABLE {GONE} AS SELECT e.id FROM {LEDGER} e "
            f"WHERE e.school_id IN ({marks}) AND e.event_date BETWEEN %s AND %s {daily}"
            "AND e.deleted_at IS NULL "
            f"AND NOT EXISTS (SELECT 1 FROM {STAGE} s WHERE {_on('s', 'e', KEY)})",
            [*pks, replace.start, replace.end],
        )
        return self._mark_deleted(cursor)

    def delete(
        self, deleted: list[EventKey], students: dict[str, int], schools: dict[str, int]
    ) -> int:
        """Deletions the source sent (Ed-Fi `/deletes`, lake `*Deletes` files)."""
        rows = [
            (students[k[0]], k[3], schools[k[1]], k[2], k[4])
            for k in deleted
            if k[0] in students and k[1] in schools
        ]
        if not rows:
            return 0
        with connection.cursor() as cursor:
            cursor.execute(f"DROP TABLE IF EXISTS {GONE}_keys")
            cursor.execute(
                f"CREATE TEMPORARY TABLE {GONE}_keys (student_id bigint, event_date date, "
                "school_id bigint, section_id varchar(64), category varchar(16))"
            )
            cursor.executemany(
                f"INSERT INTO {GONE}_keys VALUES (%s, %s, %s, %s, %s)",
                [(a, d.isoformat(), c, s, k) for a, d, c, s, k in rows],
            )
            cursor.execute(f"DROP TABLE IF EXISTS {GONE}")
            cursor.execute(
                f"CREATE TEMPORARY TABLE {GONE} AS SELECT DISTINCT e.id FROM {LEDGER} e "
                f"JOIN {GONE}_keys k ON {_on('e', 'k', KEY)} WHERE e.deleted_at IS NULL"
            )
            cursor.execute(f"DROP TABLE {GONE}_keys")
            return self._mark_deleted(cursor)

    def _mark_deleted(self, cursor: Any) -> int:
        """The rows listed in GONE: a correction with their old values, then the stamp."""
        now = self.value(self.now)
        cursor.execute(
            f"INSERT INTO {CORRECTIONS} (event_id, changed_at, old_category, new_category, "
            "old_duration, new_duration, old_recorded_at, deleted, source) "
            f"SELECT e.id, %s, e.category, '', e.duration, NULL, e.recorded_at, TRUE, %s "
            f"FROM {LEDGER} e WHERE e.id IN (SELECT id FROM {GONE})",
            [now, self.source],
        )
        count = int(cursor.rowcount)
        cursor.execute(
            f"UPDATE {LEDGER} SET deleted_at = %s, needs_review = TRUE "
            f"WHERE id IN (SELECT id FROM {GONE})",
            [now],
        )
        cursor.execute(f"DROP TABLE {GONE}")
        return count
