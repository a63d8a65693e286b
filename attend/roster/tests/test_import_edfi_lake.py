"""The Ed-Fi lake importer: what it writes, idempotency, all-or-nothing, corrections, bad bytes."""

from __future__ import annotations

import datetime as dt
import json
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command

from attend.attendance.models import AttendanceCorrection, AttendanceEvent
from attend.audit.models import ChangeLog
from attend.jobs.choices import JobStatus
from attend.jobs.models import Job
from attend.roster.actions import import_edfi
from attend.roster.importers import edfi_lake
from attend.roster.importers.batch import Batch, Events
from attend.roster.importers.common import ImportFailed
from attend.roster.importers.edfi_fast import read_events_fast
from attend.roster.importers.edfi_lake import read_lake
from attend.roster.models import (
    CalendarDate,
    District,
    Enrollment,
    Guardian,
    Household,
    School,
    Section,
    Student,
)
from attend.roster.tests.lake_fixture import event, resources, write_lake

pytestmark = pytest.mark.django_db


def lake(tmp_path: Path, data: dict[str, list[dict[str, Any]]] | None = None, **kw: Any) -> Path:
    return write_lake(tmp_path / "lake", data, **kw)


def events() -> list[tuple[str, str, dt.date, str]]:
    rows = AttendanceEvent.objects.values_list(
        "student__student_unique_id", "section_id", "event_date", "category"
    )
    return sorted(rows)


def test_it_imports_a_lake_folder(tmp_path: Path) -> None:
    result = import_edfi(path=lake(tmp_path), by=None)

    assert result.summary() == "created 90, updated 0, unchanged 0, errors 0"
    district = District.objects.get()
    assert (district.lea_id, district.current_school_year) == ("100", 2026)
    assert School.objects.get(school_id="100002").level == "high"
    assert Student.objects.count() == 4
    assert AttendanceEvent.objects.count() == 7
    assert ("S3", "100002-MATH-3-01", dt.date(2025, 9, 10), "unexcused") in events()
    assert Section.objects.get().enrollments.get().student.student_unique_id == "S3"


def test_it_marks_school_days_from_calendar_events(tmp_path: Path) -> None:
    import_edfi(path=lake(tmp_path), by=None)

    labour_day = CalendarDate.objects.filter(date="2025-09-01").first()
    assert labour_day is not None
    assert labour_day.events == ["holiday"] and not labour_day.is_school_day
    assert CalendarDate.objects.get(
        date="2025-09-02", calendar__school__school_id="100001"
    ).is_school_day


def test_it_stores_demographics_and_enrollment_details(tmp_path: Path) -> None:
    import_edfi(path=lake(tmp_path), by=None)

    cora = Student.objects.get(student_unique_id="S3")
    assert (cora.sex, cora.race, cora.hispanic) == ("female", "Hispanic", True)
    assert (cora.english_learner, cora.economic_disadvantage, cora.home_language) == (
        True,
        True,
        "spa",
    )
    dev = Enrollment.objects.get(student__student_unique_id="S4")
    assert (dev.exit_date, dev.exit_type, dev.grade) == (
        dt.date(2025, 9, 19),
        "Transferred",
        "Ninth grade",
    )


def test_it_puts_siblings_with_one_primary_contact_in_one_household(tmp_path: Path) -> None:
    import_edfi(path=lake(tmp_path), by=None)

    ada, ben = (
        Student.objects.get(student_unique_id="S1"),
        Student.objects.get(student_unique_id="S2"),
    )
    assert ada.household_id is not None and ada.household_id == ben.household_id
    assert Household.objects.get(pk=ada.household_id).address == "12 Elm St"
    assert Household.objects.count() == 2
    assert Guardian.objects.get(contact_unique_id="C1").household_id == ada.household_id
    assert set(ada.guardian_links.values_list("guardian__contact_unique_id", "primary")) == {
        ("C1", True),
        ("C3", False),
    }


def test_it_keeps_recorded_at_from_last_modified_date(tmp_path: Path) -> None:
    import_edfi(path=lake(tmp_path), by=None)

    row = AttendanceEvent.objects.get(student__student_unique_id="S1", event_date="2025-09-03")
    assert row.recorded_at == dt.datetime(2025, 9, 3, 16, 0, tzinfo=dt.UTC)


def test_it_changes_nothing_when_the_same_data_is_imported_again(tmp_path: Path) -> None:
    folder = lake(tmp_path)
    import_edfi(path=folder, by=None)

    again = import_edfi(path=folder, by=None)

    assert again.summary() == "created 0, updated 0, unchanged 90, errors 0"
    assert again.changed_nothing


@pytest.mark.parametrize("fmt", ["json", "parquet"])
def test_it_reads_json_arrays_and_parquet_the_same_as_ndjson(tmp_path: Path, fmt: str) -> None:
    import_edfi(path=lake(tmp_path), by=None)

    other = write_lake(tmp_path / fmt, fmt=fmt)

    assert (
        import_edfi(path=other, by=None).summary() == "created 0, updated 0, unchanged 90, errors 0"
    )


def test_it_records_a_run_as_a_job_with_one_change_log_row(tmp_path: Path) -> None:
    result = import_edfi(path=lake(tmp_path), by=None)

    job = Job.objects.get(pk=result.job.pk)
    assert job.status == JobStatus.SUCCEEDED
    assert (
        job.counts["created"] == 90 and job.counts["by_kind"]["attendance_events"]["created"] == 7
    )
    assert ChangeLog.objects.filter(target_id=str(job.pk), action="import.edfi.run").count() == 1


# ---------------------------------------------------------------------------------------------
# Corrections


def recategorised(tmp_path: Path, name: str, **changes: Any) -> Path:
    data = resources()
    rows = data["studentSchoolAttendanceEvents"]
    rows[1] = event("S1", 100001, "2025-09-04", changes.get("category", "Excused Absence"))
    if "duration" in changes:
        rows[3]["eventDuration"] = changes["duration"]
    return write_lake(tmp_path / name, data)


def test_it_treats_a_new_category_for_the_same_day_as_a_correction(tmp_path: Path) -> None:
    import_edfi(path=lake(tmp_path), by=None)

    result = import_edfi(path=recategorised(tmp_path, "v2", category="Unexcused Absence"), by=None)

    assert result.corrections == 1
    assert result.kinds["attendance_events"] == {"created": 0, "updated": 1, "unchanged": 6}
    row = AttendanceEvent.objects.get(student__student_unique_id="S1", event_date="2025-09-04")
    assert (row.category, row.needs_review) == ("unexcused", True)
    fix = AttendanceCorrection.objects.get()
    assert (fix.event_id, fix.old_category, fix.new_category) == (row.pk, "excused", "unexcused")
    assert fix.old_recorded_at == dt.datetime(2025, 9, 4, 16, 0, tzinfo=dt.UTC)


def test_it_keeps_the_old_duration_when_a_duration_changes(tmp_path: Path) -> None:
    import_edfi(path=lake(tmp_path), by=None)

    import_edfi(path=recategorised(tmp_path, "v2", duration=0.25), by=None)

    fix = AttendanceCorrection.objects.get()
    assert (float(fix.old_duration or 0), float(fix.new_duration or 0)) == (0.5, 0.25)
    assert fix.event.needs_review


def test_it_keeps_both_categories_when_the_source_sends_both(tmp_path: Path) -> None:
    import_edfi(path=lake(tmp_path), by=None)
    data = resources()
    data["studentSchoolAttendanceEvents"].append(event("S1", 100001, "2025-09-04", "Partial"))

    result = import_edfi(path=write_lake(tmp_path / "v2", data), by=None)

    assert result.corrections == 0
    day = AttendanceEvent.objects.filter(student__student_unique_id="S1", event_date="2025-09-04")
    assert sorted(day.values_list("category", flat=True)) == ["excused", "partial"]


def test_it_counts_a_correction_once_and_is_stable_afterwards(tmp_path: Path) -> None:
    import_edfi(path=lake(tmp_path), by=None)
    changed = recategorised(tmp_path, "v2", category="Unexcused Absence")
    import_edfi(path=changed, by=None)

    assert import_edfi(path=changed, by=None).changed_nothing
    assert AttendanceCorrection.objects.count() == 1


# ---------------------------------------------------------------------------------------------
# All or nothing


def broken(tmp_path: Path, *lines: str) -> Path:
    folder = lake(tmp_path)
    with (folder / "studentSchoolAttendanceEvents.ndjson").open("a") as handle:
        handle.write("\n".join(lines))
    return folder


BAD_EVENTS = (
    json.dumps(event("S9", 100001, "2025-09-03", "Unexcused Absence")),
    json.dumps(event("S1", 100001, "2025-09-05", "Truant")),
    json.dumps(event("S1", 100001, "2024-09-05", "Tardy")),
    '{"studentReference": {"studentUniqueId": "S1"}, "eventDa',
)


def test_it_writes_nothing_when_any_record_is_invalid(tmp_path: Path) -> None:
    with pytest.raises(ImportFailed) as failed:
        import_edfi(path=broken(tmp_path, *BAD_EVENTS), by=None)

    assert Student.objects.count() == 0 and AttendanceEvent.objects.count() == 0
    assert failed.value.result.error_count == 4
    job = Job.objects.get()
    assert job.status == JobStatus.FAILED and len(job.errors) == 4


def test_it_names_file_line_field_and_value_in_each_problem(tmp_path: Path) -> None:
    with pytest.raises(ImportFailed) as failed:
        import_edfi(path=broken(tmp_path, *BAD_EVENTS), by=None)

    errors = failed.value.result.errors
    assert "studentSchoolAttendanceEvents.ndjson:7 studentUniqueId=S9: unknown student" in errors
    assert any(
        e.startswith("studentSchoolAttendanceEvents.ndjson:8 attendanceEventCategory")
        for e in errors
    )
    assert (
        "studentSchoolAttendanceEvents.ndjson:9 eventDate=2024-09-05: outside school year 2025–26"
        in errors
    )
    assert any(
        e.startswith("studentSchoolAttendanceEvents.ndjson:10") and "truncated" in e for e in errors
    )
    assert failed.value.result.summary() == "created 0, updated 0, unchanged 0, errors 4"


def test_it_writes_the_valid_records_when_asked_to_skip_invalid(tmp_path: Path) -> None:
    result = import_edfi(path=broken(tmp_path, *BAD_EVENTS), by=None, skip_invalid=True)

    assert result.summary() == "created 90, updated 0, unchanged 0, errors 4"
    assert AttendanceEvent.objects.count() == 7
    assert Job.objects.get().status == JobStatus.SUCCEEDED and len(Job.objects.get().errors) == 4


def test_it_caps_the_problem_list_with_a_count(tmp_path: Path) -> None:
    bad = [
        json.dumps(event("S9", 100001, "2025-09-03", "Tardy", eventDuration=i))
        for i in range(2, 302)
    ]

    with pytest.raises(ImportFailed) as failed:
        import_edfi(path=broken(tmp_path, *bad), by=None)

    errors = failed.value.result.errors
    assert len(errors) == 201 and errors[-1] == "… and 100 more"


def test_it_refuses_conflicting_duplicates(tmp_path: Path) -> None:
    first = event("S1", 100001, "2025-09-03", "Unexcused Absence")
    conflicting = event("S1", 100001, "2025-09-03", "Unexcused Absence", eventDuration=0.5)

    with pytest.raises(ImportFailed) as failed:
        import_edfi(path=broken(tmp_path, json.dumps(first), json.dumps(conflicting)), by=None)

    assert failed.value.result.error_count == 1
    assert (
        "duplicate attendance event (first at studentSchoolAttendanceEvents.ndjson:1)"
        in (failed.value.result.errors[0])
    )


def test_it_lists_events_on_non_school_days_in_the_quality_report(tmp_path: Path) -> None:
    saturday = json.dumps(event("S1", 100001, "2025-09-06", "Tardy"))
    holiday = json.dumps(event("S2", 100001, "2025-09-01", "Tardy"))

    result = import_edfi(path=broken(tmp_path, saturday, holiday), by=None)

    assert result.quality_kinds["event_on_non_school_day"] == 2
    assert any(
        "eventDate=2025-09-06: event on a non-school day (Saturday)" in q for q in result.quality
    )
    assert AttendanceEvent.objects.count() == 9  # kept, only reported
    assert Job.objects.get().counts["quality"]["kinds"]["event_on_non_school_day"] == 2


# ---------------------------------------------------------------------------------------------
# Bad bytes


def test_it_reads_a_bom_latin1_and_stray_control_characters(tmp_path: Path) -> None:
    folder = lake(tmp_path)
    students = folder / "students.ndjson"
    lines = students.read_text().splitlines()
    lines[0] = lines[0].replace("Ada", "Adélaïde")
    lines[1] = lines[1].replace("Ben", "Ben\x1a")
    students.write_bytes(b"\xef\xbb\xbf" + "\n".join(lines).encode("latin-1"))

    result = import_edfi(path=folder, by=None)

    assert result.error_count == 0
    assert Student.objects.get(student_unique_id="S1").first_name == "Adélaïde"
    assert Student.objects.get(student_unique_id="S2").first_name == "Ben"
    assert any("byte-order mark" in q for q in result.quality)


def test_it_reports_a_truncated_json_array(tmp_path: Path) -> None:
    folder = write_lake(tmp_path / "lake", fmt="json")
    path = folder / "students.json"
    path.write_text(path.read_text()[:-60])

    with pytest.raises(ImportFailed) as failed:
        import_edfi(path=folder, by=None)

    assert any(
        e.startswith("students.json:") and "truncated" in e for e in failed.value.result.errors
    )
    assert Student.objects.count() == 0


def test_it_reports_a_damaged_parquet_file(tmp_path: Path) -> None:
    folder = write_lake(tmp_path / "lake", fmt="parquet")
    path = folder / "schools.parquet"
    path.write_bytes(path.read_bytes()[:100])

    with pytest.raises(ImportFailed) as failed:
        import_edfi(path=folder, by=None)

    assert any("schools.parquet" in e and "Parquet" in e for e in failed.value.result.errors)


# ---------------------------------------------------------------------------------------------
# The command


def test_it_prints_one_summary_line_from_the_command(tmp_path: Path) -> None:
    out = StringIO()

    call_command("import", "edfi", str(lake(tmp_path)), stdout=out)

    assert [line for line in out.getvalue().splitlines() if line.startswith("created ")] == [
        "created 90, updated 0, unchanged 0, errors 0"
    ]


def test_it_says_so_when_nothing_changed(tmp_path: Path) -> None:
    folder = lake(tmp_path)
    call_command("import", "edfi", str(folder), stdout=StringIO())
    out = StringIO()

    call_command("import", "edfi", str(folder), stdout=out)

    assert "nothing changed" in out.getvalue()


def test_it_exits_non_zero_and_prints_every_problem(tmp_path: Path) -> None:
    out, err = StringIO(), StringIO()

    with pytest.raises(CommandError, match="nothing was written"):
        call_command("import", "edfi", str(broken(tmp_path, *BAD_EVENTS)), stdout=out, stderr=err)

    assert len(err.getvalue().splitlines()) == 4
    assert [line for line in out.getvalue().splitlines() if line.startswith("created ")] == [
        "created 0, updated 0, unchanged 0, errors 4"
    ]


def test_it_notes_exact_duplicates_and_imports_them_once(tmp_path: Path) -> None:
    same = json.dumps(event("S1", 100001, "2025-09-03", "Unexcused Absence"))

    result = import_edfi(path=broken(tmp_path, same), by=None)

    assert result.error_count == 0 and AttendanceEvent.objects.count() == 7
    assert any("duplicate attendance event" in q for q in result.quality)


@pytest.mark.parametrize("fmt", ["ndjson", "parquet"])
def test_it_stages_the_same_events_on_the_fast_and_careful_paths(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fmt: str
) -> None:
    folder = write_lake(tmp_path / "lake", fmt=fmt)
    events_file = next(folder.glob("studentSchoolAttendanceEvents.*"))
    assert read_events_fast(events_file, "studentSchoolAttendanceEvents", Batch()) == 6
    fast = Batch()
    read_lake(folder, fast)

    monkeypatch.setattr(edfi_lake, "read_events_fast", lambda *args: None)
    careful = Batch()
    read_lake(folder, careful)

    for column in Events.COLUMNS:
        assert fast.events.column(column) == careful.events.column(column), column
    assert fast.sections.rows == careful.sections.rows
    assert fast.section_enrollments.rows == careful.section_enrollments.rows


def test_it_shows_control_characters_in_a_value_escaped(tmp_path: Path) -> None:
    bad = json.dumps(event("S1", 100001, "\n", "Tardy"))

    with pytest.raises(ImportFailed) as failed:
        import_edfi(path=broken(tmp_path, bad), by=None)

    assert failed.value.result.errors == [
        "studentSchoolAttendanceEvents.ndjson:7 eventDate=\\n: not a date"
    ]
