"""Roster upserts by natural key: compare with what is stored, create, update, or leave alone.

Roster tables are small beside the ledger (tens of thousands of rows for a large district):
they are compared in Python, new rows go in by COPY (PostgreSQL) or one prepared INSERT
(SQLite), changed rows through the ORM's `bulk_update`; the ledger has its own SQL path in
`ledger.py`.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from django.db import connection, models

from attend.roster.importers.common import Tally

COPY_ROWS = 200_000
# A first load this large has its foreign keys checked in bulk (`_checked_once`).
BULK_ROWS = 5_000
ROWS_PER_STATEMENT = 32


def upsert(
    queryset: models.QuerySet[Any],
    key_fields: tuple[str, ...],
    rows: dict[tuple[Any, ...], dict[str, Any]],
) -> tuple[Tally, dict[tuple[Any, ...], int]]:
    """Write `rows` (natural key → field values) and return the tally and key → pk.

    1. Read the stored rows of the queryset (the caller scopes it) with the fields given.
    2. A key not stored is created; a stored row whose given fields differ is updated with
       those fields only; the rest are unchanged.
    3. Creates and updates go in batches; the scope is read again for the new rows' pks.
    """
    fields = sorted(_fields(rows.values()))
    stored = _stored(queryset, key_fields, fields)
    tally = Tally()
    creates, updates = _plan(queryset.model, key_fields, rows, stored, tally)
    pks = {key: row["pk"] for key, row in stored.items()}
    if creates:
        insert_rows(queryset.model, key_fields, creates)
        pks = _keys(queryset, key_fields)
    if updates and fields:
        queryset.model.objects.bulk_update(updates, fields, batch_size=500)
    return tally, pks


def insert_rows(
    model: type[models.Model],
    key_fields: tuple[str, ...],
    rows: list[tuple[Any, dict[str, Any]]],
    returning: bool = False,
) -> list[int]:
    """New rows, as fast as each backend takes them: COPY on PostgreSQL, one prepared INSERT
    run by `executemany` on SQLite. The ORM's bulk_create builds a model instance and adapts
    every value one by one, which costs more than the database does for roster-sized tables.

    Columns the rows do not give get the field's default, as the ORM would. With `returning`,
    the new primary keys come back in row order: they are reserved first and written with
    the rows."""
    if not rows:
        return []
    concrete = [f for f in model._meta.concrete_fields if not f.primary_key]
    given = {*key_fields, *_fields(row for _, row in rows)}
    columns = [f for f in concrete if f.attname in given or f.name in given or not f.null]
    values = [_column(f, key_fields, rows) for f in columns]
    names = [str(f.column) for f in columns]
    ids: list[int] = []
    if returning:
        ids = _reserve_ids(model, len(rows))
        names, values = [str(model._meta.pk.column), *names], [ids, *values]
    quote = connection.ops.quote_name
    # Table and column names come from the model; every value is bound or copied.
    table = quote(model._meta.db_table)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with _checked_once(cursor, model._meta.db_table, len(rows)):
                copy_columns(cursor, f"{table} ({', '.join(quote(n) for n in names)})", values)
        else:
            head = f"INSERT INTO {table} ({', '.join(quote(n) for n in names)}) VALUES "  # noqa: S608
            sqlite_insert(head, "(" + ", ".join(["?"] * len(names)) + ")", values)
    return ids


@contextmanager
def _checked_once(cursor: Any, table: str, rows: int) -> Iterator[None]:
    """PostgreSQL, a large first load of a table: its foreign keys are dropped for the COPY
    and added back after it, which checks every row in one join. Left in place, each row
    queues a trigger per key, run at commit: a second or two for a district's roster."""
    if rows < BULK_ROWS or _has_rows(cursor, table):
        yield
        return
    cursor.execute(
        "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
        "WHERE conrelid = %s::regclass AND contype = 'f'",
        [table],
    )
    keys = [(str(name), str(definition)) for name, definition in cursor.fetchall()]
    quote = connection.ops.quote_name
    # Neither this table nor those it refers to may be altered with checks pending: run the
    # few that are (small tables' rows) now; they would run at commit anyway.
    cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    cursor.execute("SET CONSTRAINTS ALL DEFERRED")
    for name, _definition in keys:
        cursor.execute(f"ALTER TABLE {quote(table)} DROP CONSTRAINT {quote(name)}")
    yield
    for name, definition in keys:
        cursor.execute(f"ALTER TABLE {quote(table)} ADD CONSTRAINT {quote(name)} {definition}")


def _has_rows(cursor: Any, table: str) -> bool:
    cursor.execute(f"SELECT 1 FROM {connection.ops.quote_name(table)} LIMIT 1")  # noqa: S608
    return cursor.fetchone() is not None


def sqlite_insert(head: str, marks: str, columns: list[list[Any]]) -> None:
    """`head` + `marks` for every row of the columns, on SQLite's own cursor (Django's wrapper
    rewrites the SQL on every call), `ROWS_PER_STATEMENT` rows to a statement: each statement
    run costs a step, a reset and, for AUTOINCREMENT tables, a write to sqlite_sequence, so a
    few dozen rows a statement take half the time of one. The parameters are laid out in one
    flat list by slice assignment (C speed) and handed over a statement's worth at a time."""
    if not columns or not columns[0]:
        return
    rows, width = len(columns[0]), len(columns)
    flat: list[Any] = [None] * (rows * width)
    for index, column in enumerate(columns):
        flat[index::width] = column
    raw = connection.connection.cursor()  # type: ignore[union-attr]
    step = ROWS_PER_STATEMENT * width
    whole = rows - rows % ROWS_PER_STATEMENT
    several = head + ", ".join([marks] * ROWS_PER_STATEMENT)
    raw.executemany(several, (flat[i : i + step] for i in range(0, whole * width, step)))
    raw.executemany(
        head + marks, (flat[i : i + width] for i in range(whole * width, rows * width, width))
    )


def _fields(rows: Iterable[dict[str, Any]]) -> set[str]:
    """Every field any row gives. Rows share a handful of shapes: one tuple of keys per row
    (built in C) and a union of the distinct shapes beats a set insert per field per row."""
    return set().union(*{tuple(row) for row in rows})


def _column(
    field: Any, key_fields: tuple[str, ...], rows: list[tuple[Any, dict[str, Any]]]
) -> list[Any]:
    """One column's values for every row: from the key, the row, or the field's default."""
    name = field.attname
    if name in key_fields:
        index = key_fields.index(name)
        return [key[index] for key, _ in rows]
    default = field.get_default()
    values = [row.get(name, default) for _, row in rows]
    if isinstance(field, models.JSONField):
        values = [v if isinstance(v, str) else json.dumps(v) for v in values]
    elif isinstance(field, models.DateField) and not isinstance(field, models.DateTimeField):
        # As Django stores them on SQLite; PostgreSQL reads the same text.
        values = [v.isoformat() if isinstance(v, dt.date) else v for v in values]
    return values


def _reserve_ids(model: type[models.Model], count: int) -> list[int]:
    """Primary keys for `count` new rows, taken before the rows are written.

    PostgreSQL: from the table's sequence (other writers never get them). SQLite: after the
    largest key used so far (`sqlite_sequence` remembers deleted ones); the import's
    transaction holds the database's write lock, so no one else takes them meanwhile."""
    table, pk = model._meta.db_table, str(model._meta.pk.column)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
                [table, pk, count],
            )
            return [int(row[0]) for row in cursor.fetchall()]
        quote = connection.ops.quote_name
        cursor.execute(f"SELECT coalesce(max({quote(pk)}), 0) FROM {quote(table)}")  # noqa: S608
        largest = int(cursor.fetchone()[0])
        cursor.execute("SELECT coalesce(max(seq), 0) FROM sqlite_sequence WHERE name = %s", [table])
        largest = max(largest, int(cursor.fetchone()[0]))
    return list(range(largest + 1, largest + count + 1))


def copy_columns(cursor: Any, target: str, columns: list[list[Any]]) -> None:
    """PostgreSQL COPY of column lists, as CSV that Arrow writes in C++: psycopg's per-row
    `write_row` and multi-row INSERTs both spend microseconds a row in Python or the parser.
    Every non-null value is quoted, which keeps empty strings apart from NULLs."""
    import pyarrow as pa
    import pyarrow.csv as pa_csv

    options = pa_csv.WriteOptions(include_header=False, quoting_style="all_valid")
    with cursor.copy(f"COPY {target} FROM STDIN WITH (FORMAT csv)") as copy:
        for start in range(0, len(columns[0]) if columns else 0, COPY_ROWS):
            part = [pa.array(c[start : start + COPY_ROWS]) for c in columns]
            names = [f"c{i}" for i in range(len(part))]
            sink = pa.BufferOutputStream()
            pa_csv.write_csv(pa.table(part, names=names), sink, options)
            copy.write(sink.getvalue().to_pybytes())


def scoped(queryset: models.QuerySet[Any], field: str, values: Iterable[Any]) -> Any:
    """The queryset narrowed to `values` — unless they are many: a long IN list costs more to
    build and run than reading the table, and the caller matches rows by key anyway."""
    wanted = set(values)
    return queryset.filter(**{f"{field}__in": wanted}) if len(wanted) <= 2000 else queryset


def _stored(
    queryset: models.QuerySet[Any], key_fields: tuple[str, ...], fields: list[str]
) -> dict[tuple[Any, ...], dict[str, Any]]:
    columns = dict.fromkeys(["pk", *key_fields, *fields])
    return {tuple(v[f] for f in key_fields): v for v in queryset.values(*columns)}


def _keys(
    queryset: models.QuerySet[Any], key_fields: tuple[str, ...]
) -> dict[tuple[Any, ...], int]:
    """Natural key → pk of every row in the scope."""
    width = len(key_fields)
    return {tuple(row[1 : width + 1]): row[0] for row in queryset.values_list("pk", *key_fields)}


def _plan(
    model: type[models.Model],
    key_fields: tuple[str, ...],
    rows: dict[tuple[Any, ...], dict[str, Any]],
    stored: dict[tuple[Any, ...], dict[str, Any]],
    tally: Tally,
) -> tuple[list[tuple[Any, dict[str, Any]]], list[models.Model]]:
    if not stored:  # a first import: every row is new
        tally.created += len(rows)
        return list(rows.items()), []
    creates: list[tuple[Any, dict[str, Any]]] = []
    updates: list[models.Model] = []
    for key, row in rows.items():
        old = stored.get(key)
        if old is None:
            creates.append((key, row))
            tally.created += 1
        elif any(old[f] != v for f, v in row.items()):
            merged = {f: old[f] for f in old if f != "pk"} | row
            updates.append(model(pk=old["pk"], **merged))
            tally.updated += 1
        else:
            tally.unchanged += 1
    return creates, updates


def link_many(
    through: type[models.Model], left: str, right: str, pairs: Iterable[tuple[int, int]]
) -> Tally:
    """Add missing rows to a many-to-many table (never removes: a partial file is not a purge)."""
    wanted = set(pairs)
    tally = Tally()
    if not wanted:
        return tally
    lefts = {a for a, _ in wanted}
    stored = set(scoped(through._default_manager.all(), left, lefts).values_list(left, right))
    new = wanted - stored
    tally.unchanged = len(wanted) - len(new)
    tally.created = len(new)
    insert_rows(through, (left, right), [((a, b), {}) for a, b in new])
    return tally
