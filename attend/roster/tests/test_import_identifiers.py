"""Natural keys as sources spell them: OneRoster sourcedIds are often GUIDs (36 characters),
and Ed-Fi ids may be as long; Attend keeps up to 64 characters and names anything longer."""

from __future__ import annotations

import re
import uuid
from pathlib import Path

import pytest

from attend.roster.actions import import_edfi, import_oneroster
from attend.roster.importers.common import ImportFailed
from attend.roster.models import ID_LENGTH, District, Guardian, School, Section, Staff, Student
from attend.roster.tests.lake_fixture import resources, write_lake
from attend.roster.tests.test_import_oneroster import FILES, MANIFEST

pytestmark = pytest.mark.django_db

SHORT_IDS = re.compile(r"\b(d1|s1|y26|t1|u1|u2|g1|hr1|c1|e1|e2)\b")


def guid(short: str) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"https://example.org/oneroster/{short}"))


def guid_bundle(folder: Path) -> Path:
    """The small OneRoster district with every sourcedId (and reference to one) a GUID."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "manifest.csv").write_text(MANIFEST)
    for name, text in FILES.items():
        (folder / name).write_text(SHORT_IDS.sub(lambda m: guid(m.group(1)), text))
    return folder


def test_it_imports_oneroster_guid_sourced_ids(tmp_path: Path) -> None:
    folder = guid_bundle(tmp_path / "or")

    result = import_oneroster(path=folder, by=None)

    assert result.error_count == 0, result.errors
    assert len(guid("u1")) == 36
    assert District.objects.get().lea_id == guid("d1")
    assert School.objects.get().school_id == guid("s1")
    assert set(Student.objects.values_list("student_unique_id", flat=True)) == {
        guid("u1"),
        guid("u2"),
    }
    assert Guardian.objects.get().contact_unique_id == guid("g1")
    assert Staff.objects.get().staff_unique_id == guid("t1")
    assert Section.objects.get().section_id == guid("hr1")
    assert import_oneroster(path=folder, by=None).changed_nothing


def test_it_takes_ed_fi_ids_up_to_the_limit_and_names_longer_ones(tmp_path: Path) -> None:
    data = resources()
    longest = "S" * ID_LENGTH
    data["students"][0]["studentUniqueId"] = longest
    for resource in (
        "studentEducationOrganizationAssociations",
        "studentContactAssociations",
        "studentSchoolAssociations",
        "studentSchoolAttendanceEvents",
    ):
        for record in data[resource]:
            if record["studentReference"]["studentUniqueId"] == "S1":
                record["studentReference"]["studentUniqueId"] = longest

    import_edfi(path=write_lake(tmp_path / "ok", data), by=None)

    assert Student.objects.get(student_unique_id=longest).attendance_events.count() == 2
    data["students"][1]["studentUniqueId"] = "S" * (ID_LENGTH + 1)
    with pytest.raises(ImportFailed) as failed:
        import_edfi(path=write_lake(tmp_path / "long", data), by=None)
    assert "students.ndjson:2 studentUniqueId=" in failed.value.result.errors[0]
    assert failed.value.result.errors[0].endswith(f"identifier must be 1–{ID_LENGTH} characters")
