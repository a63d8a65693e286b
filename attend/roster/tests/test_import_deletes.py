"""Deletions from files: Ed-Fi `*Deletes` lake files and complete SIS exports (--replace-range).

A deleted event keeps its row (stamped `deleted_at`, flagged for review) and gains a correction
holding its old values, as the Ed-Fi API sync already does.
"""

from __future__ import annotations

import datetime as dt
import json
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command

from attend.attendance.models import AttendanceCorrection, AttendanceEvent
from attend.roster.actions import import_edfi, import_sis_csv
from attend.roster.tests.lake_fixture import event, resources, section_event, uri, write_lake

pytestmark = pytest.mark.django_db


def keys(record: dict[str, Any], **wrap: Any) -> dict[str, Any]:
    """An Ed-Fi `/deletes` entry for an attendance event record."""
    values = {
        "studentUniqueId": record["studentReference"]["studentUniqueId"],
        "eventDate": record["eventDate"],
        "attendanceEventCategoryDescriptor": record["attendanceEventCategoryDescriptor"],
    }
    reference = record.get("sectionReference") or record["schoolReference"]
    values["schoolId"] = reference["schoolId"]
    if "sectionIdentifier" in reference:
        values["sectionIdentifier"] = reference["sectionIdentifier"]
        values["schoolYear"] = reference["schoolYear"]
    return {"id": "0f3c", "changeVersion": 1207, "keyValues": values, **wrap}


def write(path: Path, records: list[dict[str, Any]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r) + "\n" for r in records))


def deleted() -> list[tuple[str, dt.date, str]]:
    rows = AttendanceEvent.objects.filter(deleted_at__isnull=False).values_list(
        "student__student_unique_id", "event_date", "category"
    )
    return sorted(rows)


GONE = event("S1", 100001, "2025-09-03", "Unexcused Absence")


def without_gone(tmp_path: Path, name: str) -> Path:
    data = resources()
    data["studentSchoolAttendanceEvents"] = [
        e for e in data["studentSchoolAttendanceEvents"] if e != GONE
    ]
    return write_lake(tmp_path / name, data)


def test_it_reads_deletions_from_a_lake_deletes_file(tmp_path: Path) -> None:
    import_edfi(path=write_lake(tmp_path / "v1"), by=None)
    lake = without_gone(tmp_path, "v2")
    write(lake / "studentSchoolAttendanceEventsDeletes.ndjson", [keys(GONE)])

    result = import_edfi(path=lake, by=None)

    assert result.deleted == 1
    assert result.kinds["attendance_events"]["updated"] == 1
    assert deleted() == [("S1", dt.date(2025, 9, 3), "unexcused")]
    row = AttendanceEvent.objects.get(deleted_at__isnull=False)
    assert row.needs_review
    fix = AttendanceCorrection.objects.get()
    assert (fix.event_id, fix.deleted, fix.old_category, fix.source) == (
        row.pk,
        True,
        "unexcused",
        "edfi",
    )
    assert fix.old_recorded_at == dt.datetime(2025, 9, 3, 16, 0, tzinfo=dt.UTC)


def test_it_deletes_once_and_then_changes_nothing(tmp_path: Path) -> None:
    import_edfi(path=write_lake(tmp_path / "v1"), by=None)
    lake = without_gone(tmp_path, "v2")
    write(lake / "studentSchoolAttendanceEventsDeletes.ndjson", [keys(GONE)])
    import_edfi(path=lake, by=None)

    again = import_edfi(path=lake, by=None)

    assert again.changed_nothing and again.deleted == 0
    assert AttendanceCorrection.objects.count() == 1


def test_it_reads_a_deletes_folder_and_plain_key_values(tmp_path: Path) -> None:
    data = resources()
    period = section_event("S3", 100002, "2025-09-10", "Unexcused Absence")
    assert period in data["studentSectionAttendanceEvents"]
    import_edfi(path=write_lake(tmp_path / "v1", data), by=None)
    data["studentSectionAttendanceEvents"].remove(period)
    lake = write_lake(tmp_path / "v2", data)
    write(lake / "_deletes" / "studentSectionAttendanceEvents.ndjson", [keys(period)["keyValues"]])

    result = import_edfi(path=lake, by=None)

    assert result.deleted == 1
    row = AttendanceEvent.objects.get(deleted_at__isnull=False)
    assert (row.section_id, row.category) == ("100002-MATH-3-01", "unexcused")


def test_it_ignores_a_deletion_of_an_event_the_import_still_sends(tmp_path: Path) -> None:
    import_edfi(path=write_lake(tmp_path / "v1"), by=None)
    lake = write_lake(tmp_path / "v2")
    write(lake / "studentSchoolAttendanceEventsDeletes.ndjson", [keys(GONE)])

    result = import_edfi(path=lake, by=None)

    assert result.deleted == 0 and deleted() == []
    assert result.quality_kinds["deletion_ignored"] == 1


def test_it_names_the_line_of_a_bad_deletion(tmp_path: Path) -> None:
    lake = write_lake(tmp_path / "lake")
    bad = keys(GONE)
    bad["keyValues"]["attendanceEventCategoryDescriptor"] = uri("AttendanceEventCategory", "X")
    write(lake / "_deletes" / "studentSchoolAttendanceEvents.ndjson", [keys(GONE), bad])

    result = import_edfi(path=lake, by=None, skip_invalid=True)

    assert result.errors == [
        "_deletes/studentSchoolAttendanceEvents.ndjson:2 "
        "attendanceEventCategoryDescriptor=uri://ed-fi.org/AttendanceEventCategoryDescriptor#X: "
        "unknown descriptor"
    ]


# ---------------------------------------------------------------------------------------------
# A complete daily export replaces what the ledger holds for its dates


HEADER = "Student_Number,SchoolID,Att_Date,Att_Code,Att_Comment,Att_Mode_Code\n"
WEEK = HEADER + (
    "S1,100001,09/15/2025,A,,ATT_ModeDaily\n"
    "S2,100001,09/16/2025,T,,ATT_ModeDaily\n"
    "S1,100001,09/17/2025,A,,ATT_ModeDaily\n"
)


@pytest.fixture
def roster(tmp_path: Path) -> None:
    import_edfi(path=write_lake(tmp_path / "lake"), by=None)


def export(tmp_path: Path, text: str, name: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_it_deletes_events_a_complete_export_no_longer_has(tmp_path: Path, roster: None) -> None:
    import_sis_csv(path=export(tmp_path, WEEK, "monday.csv"), profile="powerschool", by=None)
    fixed = WEEK.replace("S1,100001,09/15/2025,A,,ATT_ModeDaily\n", "")

    # Bare: the export is complete from its first date to its last (the 16th to the 17th).
    unchanged = import_sis_csv(
        path=export(tmp_path, fixed, "tuesday.csv"),
        profile="powerschool",
        by=None,
        replace_range="",
    )
    result = import_sis_csv(
        path=export(tmp_path, fixed, "wednesday.csv"),
        profile="powerschool",
        by=None,
        replace_range="2025-09-15:2025-09-17",
    )

    assert unchanged.deleted == 0 and unchanged.changed_nothing
    assert result.deleted == 1
    assert result.summary() == "created 0, updated 1, unchanged 2, errors 0"
    assert deleted() == [("S1", dt.date(2025, 9, 15), "unexcused")]
    fix = AttendanceCorrection.objects.get()
    assert fix.deleted and fix.old_category == "unexcused" and fix.source == "sis_csv"


def test_it_keeps_what_lies_outside_the_range_and_the_schools(tmp_path: Path, roster: None) -> None:
    import_sis_csv(path=export(tmp_path, WEEK, "monday.csv"), profile="powerschool", by=None)
    only_monday = HEADER + "S1,100001,09/15/2025,A,,ATT_ModeDaily\n"

    result = import_sis_csv(
        path=export(tmp_path, only_monday, "again.csv"),
        profile="powerschool",
        by=None,
        replace_range="2025-09-15:2025-09-16",
    )

    # The 16th is in range and gone; the 17th is outside the range; the Ed-Fi events of
    # school 100002 are at a school this export does not name.
    assert deleted() == [("S2", dt.date(2025, 9, 16), "tardy")]
    assert result.deleted == 1
    assert AttendanceEvent.objects.filter(school__school_id="100002", deleted_at=None).exists()


def test_it_leaves_period_events_alone_when_the_export_is_daily(
    tmp_path: Path, roster: None
) -> None:
    september = HEADER + "S3,100002,09/01/2025,T,,ATT_ModeDaily\n"

    import_sis_csv(
        path=export(tmp_path, september, "sept.csv"),
        profile="powerschool",
        by=None,
        replace_range="2025-09-01:2025-09-30",
    )

    # The daily Ed-Fi events at 100002 in September are gone but the new one; the period
    # event stays.
    daily = AttendanceEvent.objects.filter(section_id="", school__school_id="100002")
    assert list(daily.filter(deleted_at=None).values_list("event_date", flat=True)) == [
        dt.date(2025, 9, 1)
    ]
    assert AttendanceEvent.objects.get(section_id="100002-MATH-3-01").deleted_at is None


def test_it_does_not_replace_when_rows_were_skipped_as_invalid(
    tmp_path: Path, roster: None
) -> None:
    import_sis_csv(path=export(tmp_path, WEEK, "monday.csv"), profile="powerschool", by=None)
    broken = WEEK.replace("09/17/2025,A", "09/77/2025,A")

    result = import_sis_csv(
        path=export(tmp_path, broken, "broken.csv"),
        profile="powerschool",
        by=None,
        skip_invalid=True,
        replace_range="",
    )

    assert result.error_count == 1 and result.deleted == 0 and deleted() == []
    assert result.quality_kinds["replace_skipped"] == 1


def test_it_takes_the_range_from_the_command(tmp_path: Path, roster: None) -> None:
    import_sis_csv(path=export(tmp_path, WEEK, "monday.csv"), profile="powerschool", by=None)
    fixed = export(tmp_path, WEEK.replace("S2,100001,09/16/2025,T,,ATT_ModeDaily\n", ""), "b.csv")
    out = StringIO()

    call_command(
        "import", "csv", str(fixed), "--profile", "powerschool", "--replace-range", stdout=out
    )

    assert "deleted: 1 (kept as history, flagged for review)" in out.getvalue()
    assert deleted() == [("S2", dt.date(2025, 9, 16), "tardy")]


def test_it_refuses_a_malformed_range(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="FROM:TO"):
        import_sis_csv(
            path=export(tmp_path, WEEK, "a.csv"),
            profile="powerschool",
            by=None,
            replace_range="last week",
        )
