"""SIS attendance exports through profiles: PowerSchool, Infinite Campus, XLSX, bad rows."""

from __future__ import annotations

import datetime as dt
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command

from attend.attendance.models import AttendanceCorrection, AttendanceEvent
from attend.roster.actions import import_edfi, import_sis_csv
from attend.roster.importers.common import ImportFailed
from attend.roster.importers.sis_csv import load_profile
from attend.roster.tests.lake_fixture import write_lake

pytestmark = pytest.mark.django_db

POWERSCHOOL = """Student_Number,SchoolID,Att_Date,Att_Code,Att_Comment,Att_Mode_Code
S1,100001,09/15/2025,A,,ATT_ModeDaily
S1,100001,09/16/2025,AE,Doctor,ATT_ModeDaily
S2,100001,09/15/2025,T,,ATT_ModeDaily
S2,100001,09/15/2025,A,,ATT_ModeMeeting
S3,100002,09/16/2025,,,ATT_ModeDaily
"""
CAMPUS = """studentNumber,date,status,excuse,comments
S1,2025-09-17,A,U,
S3,2025-09-17,A,E,Sick
S4,2025-09-11,T,,
S2,2025-09-18,P,,
"""


@pytest.fixture
def roster(tmp_path: Path) -> None:
    import_edfi(path=write_lake(tmp_path / "lake"), by=None)


def export(tmp_path: Path, text: str, name: str = "export.csv") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def new_events() -> list[tuple[str, str, dt.date, str]]:
    rows = AttendanceEvent.objects.filter(source="sis_csv").values_list(
        "student__student_unique_id", "school__school_id", "event_date", "category"
    )
    return sorted(rows)


def test_it_imports_a_powerschool_export(tmp_path: Path, roster: None) -> None:
    result = import_sis_csv(path=export(tmp_path, POWERSCHOOL), profile="powerschool", by=None)

    assert result.summary() == "created 3, updated 0, unchanged 0, errors 0"
    assert new_events() == [
        ("S1", "100001", dt.date(2025, 9, 15), "unexcused"),
        ("S1", "100001", dt.date(2025, 9, 16), "excused"),
        ("S2", "100001", dt.date(2025, 9, 15), "tardy"),
    ]
    assert (
        AttendanceEvent.objects.get(event_date="2025-09-16", student__student_unique_id="S1").reason
        == "Doctor"
    )


def test_it_imports_an_infinite_campus_export_taking_schools_from_enrollments(
    tmp_path: Path, roster: None
) -> None:
    result = import_sis_csv(path=export(tmp_path, CAMPUS), profile="infinite_campus", by=None)

    assert result.error_count == 0
    assert new_events() == [
        ("S1", "100001", dt.date(2025, 9, 17), "unexcused"),
        ("S3", "100002", dt.date(2025, 9, 17), "excused"),
        ("S4", "100002", dt.date(2025, 9, 11), "tardy"),
    ]


def test_it_reads_xlsx(tmp_path: Path, roster: None) -> None:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    for line in POWERSCHOOL.splitlines():
        sheet.append(line.split(","))
    sheet["C2"] = dt.datetime(2025, 9, 15)
    path = tmp_path / "export.xlsx"
    book.save(path)

    result = import_sis_csv(path=path, profile="powerschool", by=None)

    assert result.summary() == "created 3, updated 0, unchanged 0, errors 0"


def test_it_is_idempotent_and_corrects_a_later_excuse(tmp_path: Path, roster: None) -> None:
    first = export(tmp_path, POWERSCHOOL)
    import_sis_csv(path=first, profile="powerschool", by=None)
    assert import_sis_csv(path=first, profile="powerschool", by=None).changed_nothing

    excused = export(
        tmp_path,
        POWERSCHOOL.replace("09/15/2025,A,,ATT_ModeDaily", "09/15/2025,AE,,ATT_ModeDaily", 1),
        "v2.csv",
    )
    result = import_sis_csv(path=excused, profile="powerschool", by=None)

    assert result.corrections == 1
    fix = AttendanceCorrection.objects.get()
    assert (fix.old_category, fix.new_category, fix.source) == ("unexcused", "excused", "sis_csv")


def test_it_refuses_unknown_codes_students_and_dates(tmp_path: Path, roster: None) -> None:
    bad = POWERSCHOOL + (
        "S1,100001,09/19/2025,ZZ,,ATT_ModeDaily\n"
        "S99,100001,09/19/2025,A,,ATT_ModeDaily\n"
        "S1,100001,19/19/2025,A,,ATT_ModeDaily\n"
    )

    with pytest.raises(ImportFailed) as failed:
        import_sis_csv(path=export(tmp_path, bad), profile="powerschool", by=None)

    assert failed.value.result.errors == [
        "export.csv:7 code=ZZ: code not in profile powerschool",
        "export.csv:9 date=19/19/2025: not a date",
        "export.csv:8 studentUniqueId=S99: unknown student",
    ]
    assert new_events() == []


def test_it_names_the_columns_a_file_lacks(tmp_path: Path, roster: None) -> None:
    with pytest.raises(ImportFailed) as failed:
        import_sis_csv(path=export(tmp_path, CAMPUS), profile="powerschool", by=None)

    assert "export.csv:1 column=SchoolID: not in this file (profile powerschool)" in (
        failed.value.result.errors
    )


def test_it_reports_a_truncated_row(tmp_path: Path, roster: None) -> None:
    with pytest.raises(ImportFailed) as failed:
        import_sis_csv(
            path=export(tmp_path, POWERSCHOOL + "S1,100001,09/2"), profile="powerschool", by=None
        )

    assert failed.value.result.errors == [
        "export.csv:7: row has 3 fields, the header 6 (truncated?)"
    ]


def test_it_loads_a_profile_from_a_path_and_refuses_bad_ones(tmp_path: Path) -> None:
    good = tmp_path / "ours.toml"
    good.write_text(
        '[columns]\nstudent = "id"\ndate = "day"\ncode = "mark"\n[codes]\nX = "unexcused"\n'
    )
    bad = tmp_path / "bad.toml"
    bad.write_text('[columns]\nstudent = "id"\n[codes]\nX = "truant"\n')

    assert load_profile(good).codes == {"X": "unexcused"}
    with pytest.raises(ValueError, match="columns needs student, date, code"):
        load_profile(bad)


def test_it_runs_from_the_command(tmp_path: Path, roster: None) -> None:
    out = StringIO()

    call_command(
        "import", "csv", str(export(tmp_path, POWERSCHOOL)), "--profile", "powerschool", stdout=out
    )

    assert [line for line in out.getvalue().splitlines() if line.startswith("created ")] == [
        "created 3, updated 0, unchanged 0, errors 0"
    ]
