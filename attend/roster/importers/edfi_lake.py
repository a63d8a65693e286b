"""Read a lake-mode folder (docs/lake-format.md): one file per Ed-Fi resource.

Each resource is `<name>.ndjson` (one object a line), `<name>.json` (an array, or NDJSON under
a .json name) or `<name>.parquet`. Large files are streamed: NDJSON line by line, Parquet in
record batches, so memory holds the staged rows, not the files.

Deletions of attendance events, as Ed-Fi's `/deletes` endpoints return them (objects with
`keyValues`, or the key values alone), are read from `<resource>Deletes.<ext>` or
`_deletes/<resource>.<ext>` (docs/import-profiles.md, "Deletions").
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from attend.roster.importers.batch import Batch
from attend.roster.importers.common import decode, decode_line, strip_control
from attend.roster.importers.edfi_fast import EVENT_FILES, Ahead, read_events_fast
from attend.roster.importers.edfi_records import DELETE_HANDLERS, HANDLERS, stage

SUFFIXES = (".ndjson", ".jsonl", ".json", ".parquet")
Record = tuple[int, Any]  # (line or record number, parsed object or a parse error)
Progress = Callable[[str], None]


class Unreadable:
    """Stands in for a record that could not be parsed, carrying the reason."""

    def __init__(self, reason: str, value: str = "") -> None:
        self.reason, self.value = reason, value


def resource_files(folder: Path) -> list[tuple[str, Path]]:
    """(resource, file) pairs present in the folder, in the order they must be read: parents
    before children, deletions (`<resource>/deletes`) last."""
    found = []
    for resource in HANDLERS:
        path = _first(folder, resource)
        if path is not None:
            found.append((resource, path))
    for resource in DELETE_HANDLERS:
        for path in (_first(folder, f"{resource}Deletes"), _first(folder / "_deletes", resource)):
            if path is not None:
                found.append((f"{resource}/deletes", path))
    return found


def _first(folder: Path, name: str) -> Path | None:
    for suffix in SUFFIXES:
        path = folder / f"{name}{suffix}"
        if path.is_file():
            return path
    return None


def read_lake(folder: Path, batch: Batch, progress: Progress | None = None) -> None:
    """Stage every resource file of the folder on the batch; the event files are parsed in
    a thread meanwhile (`edfi_fast.Ahead`)."""
    files = resource_files(folder)
    if not files:
        batch.problems.add(folder.name, "", "", "", "no Ed-Fi resource files found")
    events = [
        (resource, path, batch.at(batch.file_number(path.name), 1))
        for resource, path in files
        if resource in EVENT_FILES
    ]
    ahead = Ahead(events) if events else None
    try:
        for resource, path in files:
            count = read_resource(path, resource, batch, ahead)
            if progress:
                progress(f"read {_shown(path)}: {count:,} records")
    finally:
        if ahead:
            ahead.close()


def read_resource(path: Path, resource: str, batch: Batch, ahead: Ahead | None = None) -> int:
    """Stage one file: events by the fast path when it can vouch for the whole file, else
    record by record (naming each problem)."""
    if resource in EVENT_FILES:
        count = read_events_fast(path, resource, batch, ahead)
        if count is not None:
            return count
    file_no = batch.file_number(_shown(path))
    handler = HANDLERS.get(resource) or DELETE_HANDLERS[resource.removesuffix("/deletes")]
    count = 0
    for line, record in records(path, batch):
        where = batch.at(file_no, line)
        if isinstance(record, Unreadable):
            batch.problem(where, "", record.value, record.reason)
        else:
            count += stage(batch, handler, record, where)
    return count


def _shown(path: Path) -> str:
    """A file's name in messages: `_deletes/` files keep their folder, to tell them apart."""
    return f"_deletes/{path.name}" if path.parent.name == "_deletes" else path.name


def records(path: Path, batch: Batch) -> Iterator[Record]:
    if path.suffix == ".parquet":
        return parquet_records(path)
    with path.open("rb") as handle:
        head = handle.read(64).lstrip(b"\xef\xbb\xbf \t\r\n")
    if path.suffix == ".json" and head.startswith(b"["):
        return json_array_records(path, batch)
    return ndjson_records(path, batch)


def ndjson_records(path: Path, batch: Batch) -> Iterator[Record]:
    """One object a line; a bad line is reported and the rest still read.

    A clean line (UTF-8, valid JSON) is parsed straight from its bytes; anything else (a
    blank line, another encoding, a control character, broken JSON) takes the careful way."""
    decode = json.JSONDecoder().raw_decode
    with path.open("rb") as handle:
        for number, raw in enumerate(handle, start=1):
            if number == 1 and raw.startswith(b"\xef\xbb\xbf"):
                raw = raw[3:]
                batch.problems.note(f"{path.name}: UTF-8 byte-order mark removed")
            try:
                text = raw.decode()
                record, end = decode(text)
                if end != len(text) and not text[end:].isspace():
                    raise ValueError("more after the object")
            except ValueError:  # JSONDecodeError and UnicodeDecodeError both
                if raw.strip():
                    yield number, _parse_line(path.name, number, decode_line(raw), batch)
                continue
            yield number, record


def _parse_line(name: str, number: int, line: str, batch: Batch) -> Any:
    try:
        return json.loads(line)
    except json.JSONDecodeError as bad:
        cleaned = strip_control(line)
        if cleaned != line:
            try:
                parsed = json.loads(cleaned)
            except json.JSONDecodeError:
                pass
            else:
                batch.problems.note(f"{name}:{number}: stray control character removed")
                return parsed
        return Unreadable(_json_reason(bad, line), line.strip()[:40])


def _json_reason(bad: json.JSONDecodeError, text: str) -> str:
    if not text.rstrip().endswith(("}", "]")):
        return f"invalid JSON (truncated?): {bad.msg}"
    return f"invalid JSON: {bad.msg} at column {bad.colno}"


def json_array_records(path: Path, batch: Batch) -> Iterator[Record]:
    """A JSON array, element by element, so one broken element (or a cut-off tail) costs
    only itself and the elements after it, and each element keeps its line number."""
    text, notes = decode(path.read_bytes())
    for note in notes:
        batch.problems.note(f"{path.name}: {note}")
    decoder = json.JSONDecoder()
    position, line = text.index("[") + 1, 1 + text.count("\n", 0, text.index("["))
    while True:
        start = _skip(text, position)
        if start >= len(text):
            yield line, Unreadable("invalid JSON (truncated?): array not closed")
            return
        if text[start] == "]":
            return
        line += text.count("\n", position, start)
        try:
            value, end = decoder.raw_decode(text, start)
        except json.JSONDecodeError as bad:
            yield line, Unreadable(_json_reason(bad, text), text[start : start + 40])
            return
        yield line, value
        line += text.count("\n", start, end)
        position = end


def _skip(text: str, position: int) -> int:
    """Past whitespace and the comma between elements."""
    while position < len(text) and text[position] in " \t\r\n,":
        position += 1
    return position


def parquet_records(path: Path) -> Iterator[Record]:
    import pyarrow.parquet as pq

    try:
        table = pq.ParquetFile(path)
    except Exception as bad:  # pyarrow raises several types for a damaged file
        yield 0, Unreadable(f"not a readable Parquet file: {bad}")
        return
    number = 0
    for chunk in table.iter_batches(batch_size=65_536):
        for row in chunk.to_pylist():
            number += 1
            yield number, row
