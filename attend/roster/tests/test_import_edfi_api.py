"""The Ed-Fi API client against a small Ed-Fi-shaped server on 127.0.0.1."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from attend.attendance.models import AttendanceCorrection, AttendanceEvent
from attend.roster.actions import sync_edfi_api
from attend.roster.importers import edfi_api
from attend.roster.importers.common import ImportFailed
from attend.roster.models import Student
from attend.roster.tests.edfi_api_server import KEY, SECRET, Store, running
from attend.roster.tests.lake_fixture import event, resources, student

pytestmark = pytest.mark.django_db


@pytest.fixture
def store() -> Store:
    data = Store()
    for resource, records in resources().items():
        for record in records:
            data.put(resource, record)
    return data


def sync(base: str, **kw: object) -> object:
    return sync_edfi_api(base_url=base, key=KEY, secret=SECRET, by=None, **kw)  # type: ignore[arg-type]


def test_it_syncs_everything_the_first_time(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(edfi_api, "PAGE", 7)  # several pages per resource
    with running(store) as base:
        result = sync(base)

    assert result.summary() == "created 90, updated 0, unchanged 0, errors 0"  # type: ignore[attr-defined]
    assert AttendanceEvent.objects.count() == 7
    pages = [r for r in store.requests if "calendarDates?" in r]
    assert len(pages) == 9 and all("offset=" in r and "limit=7" in r for r in pages)


def test_it_reads_only_changes_and_deletes_the_next_time(store: Store) -> None:
    with running(store) as base:
        sync(base)
        store.put("students", student("S5", "Eve", "Nakamura"))
        store.put("studentSchoolAttendanceEvents", event("S5", 100001, "2025-09-12", "Tardy"))
        gone = event("S1", 100001, "2025-09-03", "Unexcused Absence")
        store.delete(
            "studentSchoolAttendanceEvents",
            {
                "studentUniqueId": "S1",
                "schoolId": 100001,
                "eventDate": "2025-09-03",
                "attendanceEventCategoryDescriptor": gone["attendanceEventCategoryDescriptor"],
            },
        )
        store.requests.clear()
        result = sync(base)

    assert result.summary() == "created 2, updated 1, unchanged 0, errors 0"  # type: ignore[attr-defined]
    assert any("minChangeVersion=" in r for r in store.requests)
    deleted = AttendanceEvent.objects.get(student__student_unique_id="S1", event_date="2025-09-03")
    assert deleted.deleted_at is not None and deleted.needs_review
    assert AttendanceCorrection.objects.get().deleted
    assert Student.objects.filter(student_unique_id="S5").exists()


def test_it_changes_nothing_when_nothing_changed(store: Store) -> None:
    with running(store) as base:
        sync(base)
        result = sync(base)

    assert result.changed_nothing  # type: ignore[attr-defined]


def test_it_refuses_wrong_credentials(store: Store) -> None:
    with running(store) as base, pytest.raises(ImportFailed) as failed:
        sync_edfi_api(base_url=base, key=KEY, secret="wrong", by=None)

    assert "HTTP 401" in failed.value.result.errors[0]
    assert Student.objects.count() == 0


def test_it_reports_an_unreachable_api() -> None:
    with pytest.raises(ImportFailed) as failed:
        sync_edfi_api(base_url="http://127.0.0.1:9", key=KEY, secret=SECRET, by=None)

    assert "oauth/token" in failed.value.result.errors[0]


def test_it_runs_from_the_command(store: Store) -> None:
    out = StringIO()
    with running(store) as base:
        call_command("import", "edfi", "--api", base, "--key", KEY, "--secret", SECRET, stdout=out)
        with pytest.raises(CommandError, match="needs --key and --secret"):
            call_command("import", "edfi", "--api", base, stdout=StringIO())

    assert [line for line in out.getvalue().splitlines() if line.startswith("created ")] == [
        "created 90, updated 0, unchanged 0, errors 0"
    ]
