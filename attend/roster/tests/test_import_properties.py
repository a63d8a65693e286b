"""Property-based: malformed input gives a clear error and writes nothing — it never crashes."""

from __future__ import annotations

import re
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from attend.attendance.models import AttendanceEvent
from attend.roster.actions import import_edfi, import_oneroster, import_sis_csv
from attend.roster.importers.common import ImportFailed
from attend.roster.models import Enrollment, Guardian, School, Student
from attend.roster.tests.lake_fixture import event, resources, write_lake
from attend.roster.tests.test_import_oneroster import FILES, MANIFEST

pytestmark = pytest.mark.django_db
SETTINGS = settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
# file:line field=value: reason — or, for a whole file, file: reason.
PROBLEM = re.compile(r"^[^\s:]+(?:\.\w+)?(?: \(API\))?(?::\d+)?(?: [\w.]+=.*)?: .+$")
JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3)
    ),
    max_leaves=8,
)


def counts() -> tuple[int, ...]:
    models = (AttendanceEvent, Student, School, Guardian, Enrollment)
    return tuple(m.objects.count() for m in models)


@contextmanager
def folder() -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix="attend-prop-"))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def outcome(run: Any) -> None:
    """The property: success, or ImportFailed with well-formed problems and nothing written."""
    before = counts()
    try:
        run()
    except ImportFailed as failed:
        assert counts() == before
        assert failed.result.errors
        for line in failed.result.errors:
            assert PROBLEM.match(line) or line.startswith("…"), line


@SETTINGS
@given(garbage=st.lists(st.binary(min_size=1, max_size=80), min_size=1, max_size=4))
def test_it_never_crashes_on_garbage_lines(garbage: list[bytes]) -> None:
    with folder() as path:
        lake = write_lake(path / "lake")
        with (lake / "studentSchoolAttendanceEvents.ndjson").open("ab") as handle:
            handle.write(b"\n".join(garbage) + b"\n")
        outcome(lambda: import_edfi(path=lake, by=None))


@SETTINGS
@given(field=st.sampled_from(list(event("S1", 100001, "2025-09-03", "Tardy"))), value=JSON)
def test_it_names_the_field_of_a_mangled_event(field: str, value: Any) -> None:
    data = resources()
    record = event("S1", 100001, "2025-09-22", "Tardy")
    record[field] = value
    data["studentSchoolAttendanceEvents"].append(record)
    with folder() as path:
        outcome(lambda: import_edfi(path=write_lake(path / "lake", data), by=None))


@SETTINGS
@given(
    resource=st.sampled_from(["students", "schools", "studentSchoolAssociations", "contacts"]),
    cut=st.floats(min_value=0.05, max_value=0.95),
    fmt=st.sampled_from(["ndjson", "json", "parquet"]),
)
def test_it_writes_nothing_from_a_truncated_file(resource: str, cut: float, fmt: str) -> None:
    with folder() as path:
        lake = write_lake(path / "lake", fmt=fmt)
        file = next(lake.glob(f"{resource}.*"))
        data = file.read_bytes()
        file.write_bytes(data[: int(len(data) * cut)])
        outcome(lambda: import_edfi(path=lake, by=None))


@SETTINGS
@given(
    name=st.sampled_from(sorted(FILES)),
    header=st.lists(
        st.text(alphabet='abcdefghijklmnopqrstuvwxyzIDS ,"', max_size=15), min_size=1, max_size=6
    ),
)
def test_it_rejects_mangled_oneroster_headers_cleanly(name: str, header: list[str]) -> None:
    body = FILES[name].split("\n", 1)[1]
    with folder() as path:
        for file, text in {"manifest.csv": MANIFEST, **FILES}.items():
            (path / file).write_text(text)
        (path / name).write_text(",".join(header) + "\n" + body)
        outcome(lambda: import_oneroster(path=path, by=None))


@SETTINGS
@given(data=st.binary(max_size=300))
def test_it_survives_any_bytes_as_a_sis_export(data: bytes) -> None:
    with folder() as path:
        import_edfi(path=write_lake(path / "lake"), by=None)
        export = path / "export.csv"
        export.write_bytes(
            b"Student_Number,SchoolID,Att_Date,Att_Code,Att_Comment,Att_Mode_Code\n" + data
        )
        outcome(lambda: import_sis_csv(path=export, profile="powerschool", by=None))


def test_problem_pattern_matches_the_house_format() -> None:
    assert PROBLEM.match(
        "studentSchoolAttendanceEvents.ndjson:7 studentUniqueId=S9: unknown student"
    )
    assert PROBLEM.match("manifest.csv: missing (OneRoster requires a manifest)")
