"""The paths a large import takes: staged events read in place by DuckDB and moved into it
past a size; foreign keys checked in bulk on PostgreSQL."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pyarrow as pa
import pytest

from attend.attendance.models import AttendanceEvent
from attend.roster.actions import import_edfi
from attend.roster.importers import edfi_fast, staging, upsert
from attend.roster.importers.batch import Batch
from attend.roster.importers.edfi_lake import read_lake
from attend.roster.importers.staging import SCHEMA, Events
from attend.roster.models import Student
from attend.roster.tests.lake_fixture import resources, write_lake


def row(loc: int, student: str = "S1", date: str = "2025-09-03") -> tuple[object, ...]:
    return (student, "100001", "", date, "tardy", None, "", None, loc)


def table(*locs: int) -> pa.Table:
    rows = [row(loc, student=f"S{loc}") for loc in locs]
    columns = list(zip(*rows, strict=True))
    arrays = [
        pa.array(values, pa.string()).cast(pa.date32()) if name == "date" else pa.array(values)
        for name, values in zip(SCHEMA.names, columns, strict=True)
    ]
    return pa.table(arrays, names=SCHEMA.names)


@pytest.mark.parametrize("spill", [1_000_000, 2])
def test_it_keeps_rows_from_both_readers_in_reading_order(
    monkeypatch: pytest.MonkeyPatch, spill: int
) -> None:
    monkeypatch.setattr(staging, "SPILL_ROWS", spill)
    events = Events()
    events.append(*row(3))
    events.add(table(1, 2))
    events.append(*row(5, date="2025-09-04"))

    assert len(events) == 4
    assert events.column("loc") == [1, 2, 3, 5]
    assert events.column("date")[-1] == "2025-09-04"
    assert events.distinct("student") == {"S1", "S2"}
    assert events.rows("SELECT max(date) FROM ev") == [(dt.date(2025, 9, 4),)]
    events.close()


@pytest.mark.parametrize("spill", [1_000_000, 2])
def test_it_removes_rows_by_place_and_by_range(monkeypatch: pytest.MonkeyPatch, spill: int) -> None:
    monkeypatch.setattr(staging, "SPILL_ROWS", spill)
    events = Events()
    events.add(table(1, 2, 3))
    events.add(table(11, 12))
    events.append(*row(13))

    events.remove([2, 12])
    assert events.column("loc") == [1, 3, 11, 13]
    events.remove_range(10, 19)
    assert events.column("loc") == [1, 3]
    assert len(events) == 2
    events.close()


def test_it_cleans_up_its_spill_folder(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(staging, "SPILL_ROWS", 1)
    events = Events()
    events.add(table(1, 2))
    folder = events.rows("SELECT current_setting('temp_directory')")[0][0]

    events.close()

    assert not Path(folder).exists()


@pytest.mark.django_db
def test_it_imports_the_same_when_the_events_spill(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(staging, "SPILL_ROWS", 3)
    folder = write_lake(tmp_path / "lake")

    assert import_edfi(path=folder, by=None).summary() == (
        "created 90, updated 0, unchanged 0, errors 0"
    )
    assert AttendanceEvent.objects.count() == 7
    assert import_edfi(path=folder, by=None).changed_nothing


@pytest.mark.django_db
def test_it_imports_the_same_with_foreign_keys_checked_in_bulk(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """PostgreSQL drops a large new table's foreign keys for the COPY and adds them back."""
    monkeypatch.setattr(upsert, "BULK_ROWS", 1)
    folder = write_lake(tmp_path / "lake")

    assert import_edfi(path=folder, by=None).error_count == 0
    assert Student.objects.get(student_unique_id="S3").attendance_events.count() == 3
    assert import_edfi(path=folder, by=None).changed_nothing


def test_the_parsing_thread_moves_on_when_the_reader_gives_a_file_up(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A file the reader abandons part-way (here: staging its first block fails) is read the
    careful way, and the thread, not waiting for it any more, still parses the next file."""
    monkeypatch.setattr(edfi_fast, "BLOCK_BYTES", 400)  # a block or two per few lines
    monkeypatch.setattr(edfi_fast.Ahead, "QUEUED", 1)
    folder = write_lake(tmp_path / "lake", resources())
    add = Events.add
    failed: list[int] = []

    def add_once(events: Events, table: pa.Table) -> None:
        if not failed:
            failed.append(table.num_rows)
            raise ValueError("a block that cannot be staged")
        add(events, table)

    monkeypatch.setattr(Events, "add", add_once)
    batch = Batch()

    read_lake(folder, batch)

    assert failed and len(batch.events) == 7
    assert batch.events.column("section").count("100002-MATH-3-01") == 1
