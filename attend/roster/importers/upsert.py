"""Roster upserts by natural key: compare with what is stored, create, update, or leave alone.

Roster tables are small beside the ledger (tens of thousands of rows for a large district):
they are compared in Python, new rows go in as plain multi-row INSERTs and changed rows through
the ORM's `bulk_update`; the ledger has its own SQL path in `writer.py`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from django.db import connection, models

from attend.roster.importers.common import Tally, chunked

BATCH = 2000
# Bound parameters per statement: under SQLite's 32,766 and PostgreSQL's 65,535.
PARAMETERS = 30_000
COPY_ROWS = 200_000


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
    fields = sorted({f for row in rows.values() for f in row})
    stored = _stored(queryset, key_fields, fields)
    tally = Tally()
    creates, updates = _plan(queryset.model, key_fields, rows, stored, tally)
    if creates:
        insert_rows(queryset.model, key_fields, creates)
        stored = _stored(queryset, key_fields, [])
    if updates and fields:
        queryset.model.objects.bulk_update(updates, fields, batch_size=500)
    return tally, {k: v["pk"] for k, v in stored.items()}


def insert_rows(
    model: type[models.Model],
    key_fields: tuple[str, ...],
    rows: list[tuple[Any, dict[str, Any]]],
    returning: bool = False,
) -> list[int]:
    """Plain multi-row INSERTs: the ORM's bulk_create builds a model instance and adapts every
    value one by one, which costs more than the database does for roster-sized tables.

    Columns the rows do not give get the field's default, as the ORM would. With `returning`,
    the new primary keys come back in row order (as the ORM's bulk_create relies on too)."""
    concrete = [f for f in model._meta.concrete_fields if not f.primary_key]
    given = {*key_fields, *(f for _, row in rows for f in row)}
    columns = [f for f in concrete if f.attname in given or f.name in given or not f.null]
    quote = connection.ops.quote_name
    defaults = [_db_value(f, f.get_default()) for f in columns]
    names = ", ".join(quote(str(f.column)) for f in columns)
    # Table and column names come from the model; every value is a bound parameter.
    sql = f"INSERT INTO {quote(model._meta.db_table)} ({names}) VALUES "  # noqa: S608
    tail = f" RETURNING {quote(str(model._meta.pk.column))}" if returning else ""
    shape = RowShape([f.attname for f in columns], defaults, key_fields, _json_columns(columns))
    ids: list[int] = []
    if connection.vendor == "postgresql" and not returning:
        values = [shape.values(*item) for item in rows]
        target = f"{quote(model._meta.db_table)} ({names})"
        with connection.cursor() as cursor:
            copy_columns(cursor, target, [list(c) for c in zip(*values, strict=True)])
        return ids
    with connection.cursor() as cursor:
        for chunk in chunked(rows, max(1, PARAMETERS // len(columns))):
            marks = ", ".join(["(" + ", ".join(["%s"] * len(columns)) + ")"] * len(chunk))
            cursor.execute(sql + marks + tail, [v for item in chunk for v in shape.values(*item)])
            if returning:
                ids += [row[0] for row in cursor.fetchall()]
    return ids


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


class RowShape:
    """Turns (key, row) into the INSERT's values, in column order, defaults filled in."""

    def __init__(
        self, names: list[str], defaults: list[Any], key_fields: tuple[str, ...], json: set[int]
    ) -> None:
        self.names, self.defaults, self.key_fields, self.json = names, defaults, key_fields, json

    def values(self, key: Any, row: dict[str, Any]) -> list[Any]:
        named = dict(zip(self.key_fields, key, strict=True)) | row if self.key_fields else row
        values = [named.get(n, d) for n, d in zip(self.names, self.defaults, strict=True)]
        for index in self.json:
            if not isinstance(values[index], str):
                values[index] = json.dumps(values[index])
        return values


def _json_columns(columns: list[Any]) -> set[int]:
    return {i for i, f in enumerate(columns) if isinstance(f, models.JSONField)}


def _db_value(field: Any, value: Any) -> Any:
    if isinstance(field, models.JSONField):
        return json.dumps(value)
    return value


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


def _plan(
    model: type[models.Model],
    key_fields: tuple[str, ...],
    rows: dict[tuple[Any, ...], dict[str, Any]],
    stored: dict[tuple[Any, ...], dict[str, Any]],
    tally: Tally,
) -> tuple[list[tuple[Any, dict[str, Any]]], list[models.Model]]:
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
