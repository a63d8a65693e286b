# ruff: noqa: S608 — SQL here names this module's tables and registered Arrow tables only.
"""Where staged attendance events wait between reading and writing: Arrow tables and an
embedded DuckDB database, not Python lists.

A district sends a million events a year and a state many more. Held as Python objects they
cost about a kilobyte each; as Arrow columns they cost a few dozen bytes, DuckDB spills them
to a temporary folder past `MEMORY_LIMIT` (so memory stays bounded whatever the file size),
and the checks that look across all of them (duplicates, unknown students, non-school days)
and the joins the database write wants run as SQL in C++ instead of Python loops.

Readers add rows one at a time (`append`, buffered) or a whole Arrow table at a time (`add`,
the fast path). Up to `SPILL_ROWS` rows stay Arrow tables that DuckDB reads in place (copying
a million rows into DuckDB costs about a second); more move into DuckDB's own table.

Columns: `student`, `school` (natural keys as text), `section` ("" for a daily event),
`date`, `category`, `duration` (null = the category's default), `reason`, `recorded` (the
source's naive-UTC `YYYY-MM-DD HH:MM:SS` text, or null) and `loc`, where the row was read
(`Batch.at`), which orders the rows and names them in problems.
"""

from __future__ import annotations

import itertools
import shutil
import tempfile
import weakref
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, Any, ClassVar

import pyarrow as pa
import pyarrow.compute as pc

if TYPE_CHECKING:
    import duckdb

MEMORY_LIMIT = "256MB"
FLUSH_ROWS = 50_000
# Rows kept as Arrow tables in this process (DuckDB reads them in place, ~80 bytes a row); past
# this many they move into DuckDB's own table, which spills to disk past MEMORY_LIMIT.
SPILL_ROWS = 1_000_000
SCHEMA = pa.schema(
    [
        ("student", pa.string()),
        ("school", pa.string()),
        ("section", pa.string()),
        ("date", pa.date32()),
        ("category", pa.string()),
        ("duration", pa.float64()),
        ("reason", pa.string()),
        ("recorded", pa.string()),
        ("loc", pa.int64()),
    ]
)
_SPILL = (
    "CREATE TABLE spilled (student VARCHAR, school VARCHAR, section VARCHAR, date DATE, "
    "category VARCHAR, duration DOUBLE, reason VARCHAR, recorded VARCHAR, loc BIGINT)"
)
_names = itertools.count()


class Events:
    """Attendance events staged for one import (see the module docstring); SQL reads them
    as the table `ev`."""

    COLUMNS: ClassVar[tuple[str, ...]] = tuple(SCHEMA.names)

    def __init__(self) -> None:
        self._buffer: list[list[Any]] = [[] for _ in self.COLUMNS]
        self._chunks: list[pa.Table] = []
        self._in_memory = 0
        self._spilled = 0
        self._stale = True  # the view over the chunks must be registered again
        self._db: duckdb.DuckDBPyConnection | None = None
        self._closer: weakref.finalize | None = None

    # -- adding rows ------------------------------------------------------------------------

    def append(self, *values: Any) -> None:
        """One row, in `COLUMNS` order (the date as ISO text or a date)."""
        for column, value in zip(self._buffer, values, strict=True):
            column.append(value)
        if len(self._buffer[0]) >= FLUSH_ROWS:
            self._flush()

    def add(self, table: pa.Table) -> None:
        """Many rows at once: an Arrow table with (at least) the `COLUMNS`."""
        self._flush()
        self._keep(table.select(list(self.COLUMNS)).cast(SCHEMA))

    def _flush(self) -> None:
        if not self._buffer[0]:
            return
        arrays = [
            pa.array(values, pa.string() if name == "date" else SCHEMA.field(name).type)
            for name, values in zip(self.COLUMNS, self._buffer, strict=True)
        ]
        self._buffer = [[] for _ in self.COLUMNS]
        table = pa.table(arrays, names=list(self.COLUMNS))
        self._keep(table.set_column(3, "date", table["date"].cast(pa.date32())))

    def _keep(self, table: pa.Table) -> None:
        if not table.num_rows:
            return
        self._chunks.append(table)
        self._in_memory += table.num_rows
        self._stale = True
        if self._in_memory > SPILL_ROWS:
            self._spill()

    def _spill(self) -> None:
        db = self.db
        db.execute("INSERT INTO spilled SELECT * FROM in_memory")
        self._spilled += self._in_memory
        self._chunks, self._in_memory, self._stale = [], 0, True

    def __len__(self) -> int:
        return self._spilled + self._in_memory + len(self._buffer[0])

    # -- reading them -----------------------------------------------------------------------

    @property
    def db(self) -> duckdb.DuckDBPyConnection:
        """The staging database (created on first use), with `ev` showing every row."""
        if self._db is None:
            folder = tempfile.mkdtemp(prefix="attend-import-")
            self._db = _open(folder)
            self._db.execute(_SPILL)
            self._closer = weakref.finalize(self, _close, self._db, folder)
        if self._buffer[0]:
            self._flush()
        if self._stale:
            self._register()
        return self._db

    def _register(self) -> None:
        assert self._db is not None
        chunks = self._chunks or [SCHEMA.empty_table()]
        self._db.register("in_memory", pa.concat_tables(chunks))
        self._db.execute(
            "CREATE OR REPLACE TEMPORARY VIEW ev AS "
            "SELECT * FROM spilled UNION ALL SELECT * FROM in_memory"
        )
        self._stale = False

    def rows(self, sql: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
        if not len(self):
            return []
        return self.db.execute(sql, params or []).fetchall()

    def batches(self, sql: str, size: int = 100_000) -> Iterator[pa.RecordBatch]:
        yield from self.db.execute(sql).to_arrow_reader(size)

    def distinct(self, column: str) -> set[Any]:
        assert column in self.COLUMNS
        return {row[0] for row in self.rows(f"SELECT DISTINCT {column} FROM ev")}

    def column(self, name: str) -> list[Any]:
        """One column in reading order (tests and small imports; dates as ISO text)."""
        assert name in self.COLUMNS
        expression = "CAST(date AS VARCHAR)" if name == "date" else name
        return [r[0] for r in self.rows(f"SELECT {expression} FROM ev ORDER BY loc")]

    def remove(self, locs: Iterable[int]) -> None:
        """Drop the rows read at these places (invalid or duplicate)."""
        wanted = pa.array(sorted(set(locs)), pa.int64())
        if not len(wanted):
            return
        self._drop_in_memory(lambda loc: pc.is_in(loc, value_set=wanted))
        if self._spilled:
            with self.registered(pa.table({"loc": wanted})) as name:
                self._drop_spilled(f"loc IN (SELECT loc FROM {name})")

    def remove_range(self, first: int, last: int) -> None:
        """Drop every row read between two places (a file the fast path gave up on)."""
        self._drop_in_memory(
            lambda loc: pc.and_(pc.greater_equal(loc, first), pc.less_equal(loc, last))
        )
        if self._spilled:
            self._drop_spilled(f"loc BETWEEN {int(first)} AND {int(last)}")

    def _drop_in_memory(self, matches: Callable[[pa.ChunkedArray], Any]) -> None:
        self._flush()
        kept = [chunk.filter(pc.invert(matches(chunk["loc"]))) for chunk in self._chunks]
        self._chunks = [chunk for chunk in kept if chunk.num_rows]
        self._in_memory, self._stale = sum(c.num_rows for c in self._chunks), True

    def _drop_spilled(self, where: str) -> None:
        found = self.db.execute(f"DELETE FROM spilled WHERE {where}").fetchone()
        self._spilled -= int(found[0]) if found else 0

    def registered(self, table: pa.Table) -> _Registered:
        """`with events.registered(table) as name:` — an Arrow table queryable by name."""
        return _Registered(self.db, table)

    def close(self) -> None:
        if self._closer is not None:
            self._closer()
        self._db, self._closer, self._chunks = None, None, []


class _Registered:
    def __init__(self, db: duckdb.DuckDBPyConnection, table: pa.Table) -> None:
        self.db, self.table, self.name = db, table, f"arrow_{next(_names)}"

    def __enter__(self) -> str:
        self.db.register(self.name, self.table)
        return self.name

    def __exit__(self, *exc: object) -> None:
        self.db.unregister(self.name)


def _open(folder: str) -> duckdb.DuckDBPyConnection:
    """An in-memory database that spills to `folder` past the memory limit."""
    import duckdb

    config: dict[str, str | bool | int | float | list[str]] = {
        "memory_limit": MEMORY_LIMIT,
        "temp_directory": folder,
    }
    return duckdb.connect(config=config)


def _close(db: duckdb.DuckDBPyConnection, folder: str) -> None:
    db.close()
    shutil.rmtree(folder, ignore_errors=True)
