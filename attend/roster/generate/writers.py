"""Streaming writers: one open file per resource, fed chunk by chunk.

Every chunk can render itself as JSON lines or as an Arrow table; the sink picks whichever
its format needs. Files are written under a temporary name and renamed only when the whole
run succeeds, so a failed run never leaves a half-written lake behind.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import IO, Any, Protocol

import pyarrow as pa
import pyarrow.parquet as pq

FORMATS = ("json", "ndjson", "parquet")
ROW_GROUP = 100_000
PARTIAL = ".partial"


class Chunk(Protocol):
    def __len__(self) -> int: ...

    def lines(self) -> list[str]: ...

    def table(self, schema: pa.Schema) -> pa.Table: ...


class RowChunk:
    """Plain dict records (the low-volume resources)."""

    def __init__(self, rows: list[dict[str, Any]]) -> None:
        self.rows = rows

    def __len__(self) -> int:
        return len(self.rows)

    def lines(self) -> list[str]:
        dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
        return [dumps(row) for row in self.rows]

    def table(self, schema: pa.Schema) -> pa.Table:
        return pa.Table.from_pylist(self.rows, schema=schema)


class Sink:
    """One resource file in one format."""

    def __init__(self, path: Path, fmt: str, schema: pa.Schema) -> None:
        self.path, self.fmt, self.schema = path, fmt, schema
        self.temp = path.with_name(path.name + PARTIAL)
        self.count = 0
        self._text: IO[str] | None = None
        self._parquet: pq.ParquetWriter | None = None
        self._pending: list[pa.Table] = []
        self._open()

    def _open(self) -> None:
        if self.fmt == "parquet":
            self._parquet = pq.ParquetWriter(self.temp, self.schema, compression="zstd")
        else:
            self._text = self.temp.open("w", encoding="utf-8", buffering=1 << 20)
            if self.fmt == "json":
                self._text.write("[")

    def write(self, chunk: Chunk) -> None:
        if not len(chunk):
            return
        if self._parquet is not None:
            self._buffer(chunk.table(self.schema))
        else:
            self._write_lines(chunk.lines())
        self.count += len(chunk)

    def _write_lines(self, lines: list[str]) -> None:
        assert self._text is not None
        if self.fmt == "ndjson":
            self._text.write("\n".join(lines) + "\n")
        else:  # a JSON array, one record per line after the opening bracket
            lead = "\n" if self.count == 0 else ",\n"
            self._text.write(lead + ",\n".join(lines))

    def _buffer(self, table: pa.Table) -> None:
        """Collect tables into row groups of about ROW_GROUP rows, whatever the batch size."""
        self._pending.append(table)
        if sum(t.num_rows for t in self._pending) >= ROW_GROUP:
            self._flush()

    def _flush(self) -> None:
        if self._pending and self._parquet is not None:
            self._parquet.write_table(pa.concat_tables(self._pending), row_group_size=ROW_GROUP)
        self._pending = []

    def close(self) -> None:
        if self._parquet is not None:
            self._flush()
            self._parquet.close()
        if self._text is not None:
            if self.fmt == "json":
                self._text.write("\n]\n" if self.count else "]\n")
            self._text.close()

    def commit(self) -> None:
        self.temp.replace(self.path)

    def discard(self) -> None:
        self.temp.unlink(missing_ok=True)


class Sinks:
    """All resource files of a run, opened together and committed together."""

    def __init__(self, out: Path, fmt: str, schemas: dict[str, pa.Schema]) -> None:
        if fmt not in FORMATS:
            raise ValueError(f"format must be one of {', '.join(FORMATS)}, not {fmt!r}")
        self.out, self.fmt = out, fmt
        self.sinks = {name: Sink(out / f"{name}.{fmt}", fmt, s) for name, s in schemas.items()}

    def __getitem__(self, name: str) -> Sink:
        return self.sinks[name]

    def finish(self) -> dict[str, Path]:
        """Close and publish every file; drop stale copies of them in the other formats."""
        for sink in self.sinks.values():
            sink.close()
        for name, sink in self.sinks.items():
            for other in FORMATS:
                if other != self.fmt:
                    (self.out / f"{name}.{other}").unlink(missing_ok=True)
            sink.commit()
        return {name: sink.path for name, sink in self.sinks.items()}

    def abort(self) -> None:
        for sink in self.sinks.values():
            sink.close()
            sink.discard()

    def counts(self) -> dict[str, int]:
        return {name: sink.count for name, sink in self.sinks.items()}
