"""Ed-Fi XML interchanges: the DS 5.2 sample (conformance), a DS 2.2 calendar, damaged XML."""

from __future__ import annotations

import csv
import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest

from attend.attendance.models import AttendanceEvent
from attend.roster.actions import import_edfi
from attend.roster.importers.common import ImportFailed
from attend.roster.importers.edfi_records import EDFI_CODES, code_value
from attend.roster.models import CalendarDate, District, School, Student

pytestmark = pytest.mark.django_db


@pytest.fixture
def ds52(shared_data: Path) -> Path:
    return shared_data / "attendance" / "edfi-ds52-sample"


@pytest.fixture
def ds22(shared_data: Path) -> Path:
    return shared_data / "attendance" / "edfi-ds22-calendar-2010-11"


def test_it_imports_the_ds52_sample(ds52: Path) -> None:
    result = import_edfi(path=ds52, by=None)

    daily = AttendanceEvent.objects.filter(section_id="")
    sections = AttendanceEvent.objects.exclude(section_id="")
    assert result.error_count == 0
    assert daily.count() == 1917
    assert sections.filter(category="tardy").count() == sections.count() == 66
    assert AttendanceEvent.objects.values("student").distinct().count() == 227
    assert AttendanceEvent.objects.values("school").distinct().count() == 3
    assert School.objects.count() == 3 and Student.objects.count() == 960
    assert District.objects.get().current_school_year == 2022


def test_it_reports_the_three_sunday_events_of_the_ds52_sample(ds52: Path) -> None:
    result = import_edfi(path=ds52, by=None)

    sundays = [q for q in result.quality if "(Sunday)" in q and q.startswith("StudentSchool")]
    assert len(sundays) == 3
    assert all("eventDate=2022-05-15" in q for q in sundays)


def test_it_keeps_both_events_of_student_604822_on_2021_12_15(ds52: Path) -> None:
    import_edfi(path=ds52, by=None)

    day = AttendanceEvent.objects.filter(
        student__student_unique_id="604822", event_date=dt.date(2021, 12, 15)
    )
    assert sorted(day.values_list("category", "duration")) == [
        ("excused", Decimal("1.0000")),
        ("partial", None),
    ]


def test_it_is_idempotent_on_the_ds52_sample(ds52: Path) -> None:
    import_edfi(path=ds52, by=None)

    again = import_edfi(path=ds52, by=None)

    assert again.changed_nothing and again.error_count == 0


def test_it_agrees_with_the_derived_csvs(ds52: Path) -> None:
    import_edfi(path=ds52, by=None)

    assert stored_daily() == derived_daily(ds52 / "derived_student_school_attendance_events.csv")
    assert stored_sections() == derived_sections(
        ds52 / "derived_student_section_attendance_events.csv"
    )


def derived_daily(path: Path) -> list[tuple[str, ...]]:
    with path.open(newline="") as handle:
        return sorted(
            (
                r["studentUniqueId"],
                r["schoolId"],
                r["eventDate"],
                EDFI_CODES[code_value(r["attendanceEventCategory"])],
                r["attendanceEventReason"],
                f"{Decimal(r['eventDuration']):.4f}" if r["eventDuration"] else "",
            )
            for r in csv.DictReader(handle)
        )


def stored_daily() -> list[tuple[str, ...]]:
    rows = AttendanceEvent.objects.filter(section_id="").values_list(
        "student__student_unique_id",
        "school__school_id",
        "event_date",
        "category",
        "reason",
        "duration",
    )
    return sorted(
        (s, sc, d.isoformat(), c, r, "" if du is None else f"{du:.4f}")
        for s, sc, d, c, r, du in rows
    )


def derived_sections(path: Path) -> list[tuple[str, ...]]:
    with path.open(newline="") as handle:
        return sorted(
            (
                r["studentUniqueId"],
                r["schoolId"],
                r["sectionIdentifier"],
                r["eventDate"],
                EDFI_CODES[code_value(r["attendanceEventCategory"])],
            )
            for r in csv.DictReader(handle)
        )


def stored_sections() -> list[tuple[str, ...]]:
    rows = AttendanceEvent.objects.exclude(section_id="").values_list(
        "student__student_unique_id", "school__school_id", "section_id", "event_date", "category"
    )
    return sorted((s, sc, sec, d.isoformat(), c) for s, sc, sec, d, c in rows)


def test_it_imports_a_ds22_calendar(ds22: Path) -> None:
    result = import_edfi(path=ds22 / "EducationOrgCalendar.xml", by=None)

    assert result.kinds["calendar_dates"]["created"] == 834
    dates = CalendarDate.objects.filter(calendar__school_year=2011)
    assert dates.count() == 834
    assert dates.filter(is_school_day=True).count() == expected_school_days(ds22)
    first = dates.get(date=dt.date(2010, 8, 23), calendar__school__school_id="255901001")
    assert first.events == ["instructional day"] and first.is_school_day


def expected_school_days(folder: Path) -> int:
    days = {"instructional day", "make-up day", "student late arrival/early dismissal"}
    with (folder / "derived_calendar_dates_2010-11.csv").open(newline="") as handle:
        rows = {
            (r["schoolId"], r["date"])
            for r in csv.DictReader(handle)
            if r["calendarEvent"].lower() in days
        }
    return len(rows)


def test_it_imports_ds22_section_tardies_with_unique_section_codes(ds52: Path, ds22: Path) -> None:
    import_edfi(path=ds52, by=None)  # the students the 2010-11 tardies name

    import_edfi(path=ds22 / "StudentAttendance-Tardy.xml", by=None)

    tardies = AttendanceEvent.objects.filter(event_date__year__in=(2010, 2011))
    assert tardies.count() == 66
    assert tardies.filter(section_id="25590110707Trad201SS0322011").exists()


def test_it_reports_truncated_xml_at_its_line(tmp_path: Path, ds52: Path) -> None:
    text = (ds52 / "StudentSchoolAttendance.xml").read_text()
    cut = tmp_path / "StudentSchoolAttendance.xml"
    cut.write_text(text[: len(text) // 2])

    with pytest.raises(ImportFailed) as failed:
        import_edfi(path=cut, by=None)

    assert any("XML is not well-formed" in e for e in failed.value.result.errors)
    assert AttendanceEvent.objects.count() == 0


def test_it_survives_a_stray_control_character_in_xml(shared_data: Path) -> None:
    nyc = shared_data / "attendance" / "nyc-doe-daily-school-attendance" / "raw-xml"

    with pytest.raises(ImportFailed) as failed:
        import_edfi(path=nyc / "20130315_contains_ascii26.xml", by=None)

    result = failed.value.result
    assert any("control character" in q for q in result.quality)
    assert (
        result.errors[0]
        == "20130315_contains_ascii26.xml: no Ed-Fi records found (lake files or XML)"
    )
