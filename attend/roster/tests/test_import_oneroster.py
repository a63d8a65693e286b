"""OneRoster 1.1/1.2 CSV: the shared samples, a small district of our own, strictness."""

# ruff: noqa: E501 — the CSV fixtures keep their real, long OneRoster header lines.

from __future__ import annotations

import datetime as dt
import zipfile
from pathlib import Path
from typing import Any

import pytest

from attend.roster.actions import import_oneroster
from attend.roster.importers.common import ImportFailed
from attend.roster.models import (
    District,
    Enrollment,
    Guardian,
    School,
    Section,
    SectionEnrollment,
    Staff,
    Student,
    StudentGuardian,
)

pytestmark = pytest.mark.django_db

MANIFEST = """propertyName,value
manifest.version,1.0
oneroster.version,1.1
file.academicSessions,bulk
file.classes,bulk
file.demographics,bulk
file.enrollments,bulk
file.orgs,bulk
file.users,bulk
file.courses,absent
"""
FILES = {
    "orgs.csv": """sourcedId,status,dateLastModified,name,type,identifier,parentSourcedId
d1,,,Riverside Unified,district,100,
s1,,,Lincoln Elementary,school,100001,d1
""",
    "academicSessions.csv": """sourcedId,status,dateLastModified,title,type,startDate,endDate,parentSourcedId,schoolYear
y26,,,2025-26,schoolYear,2025-08-20,2026-06-12,,2026
t1,,,Fall,term,08/20/2025,12/19/2025,y26,2026
""",
    "users.csv": """ SourcedId ,STATUS,dateLastModified,enabledUser,orgSourcedIds,role,username,userIds,givenName,familyName,middleName,identifier,email,sms,phone,agentSourcedIds,grades,password
u1,active,,true,s1,student,ada,,Ada,Lovelace,,1001,,,,g1,03,
u2,active,,true,s1,student,ben,,Ben,Lovelace,,1002,,,,g1,01,
g1,active,,true,s1,parent,mary,,Mary,Lovelace,,,mary@example.org,,555-0100,"u1,u2",,
t1,active,,true,s1,teacher,terry,,Terry,Teach,,,terry@example.org,,,,,
""",
    "classes.csv": """sourcedId,status,dateLastModified,title,grades,courseSourcedId,classCode,classType,location,schoolSourcedId,termSourcedIds,subjects,subjectCodes,periods
hr1,,,Room 12 homeroom,03,c1,HR12,homeroom,12,s1,t1,,,
""",
    "enrollments.csv": """sourcedId,status,dateLastModified,classSourcedId,schoolSourcedId,userSourcedId,role,primary,beginDate,endDate
e1,,,hr1,s1,u1,student,,2025-08-20,
e2,,,hr1,s1,t1,teacher,true,,
""",
    "demographics.csv": """sourcedId,status,dateLastModified,birthDate,sex,americanIndianOrAlaskaNative,asian,blackOrAfricanAmerican,nativeHawaiianOrOtherPacificIslander,white,demographicRaceTwoOrMoreRaces,hispanicOrLatinoEthnicity,countryOfBirthCode,stateOfBirthAbbreviation,cityOfBirth,publicSchoolResidenceStatus
u1,,,03/04/2015,female,false,false,false,false,true,false,false,,,,
""",
}


def bundle(folder: Path, **changes: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in {"manifest.csv": MANIFEST, **FILES, **changes}.items():
        (folder / name).write_text(text)
    return folder


@pytest.fixture
def samples(shared_data: Path) -> Path:
    return shared_data / "attendance" / "oneroster-samples"


def test_it_imports_a_small_oneroster_district(tmp_path: Path) -> None:
    result = import_oneroster(path=bundle(tmp_path / "or"), by=None)

    assert result.error_count == 0
    assert District.objects.get().name == "Riverside Unified"
    assert School.objects.get().school_id == "s1"
    ada = Student.objects.get(student_unique_id="u1")
    assert (ada.first_name, ada.birth_date, ada.sex, ada.race) == (
        "Ada",
        dt.date(2015, 3, 4),
        "female",
        "White",
    )
    assert Enrollment.objects.get(student=ada).entry_date == dt.date(2025, 8, 20)
    homeroom = Section.objects.get()
    assert homeroom.homeroom and homeroom.school_year == 2026
    assert list(homeroom.teachers.values_list("staff_unique_id", flat=True)) == ["t1"]
    assert SectionEnrollment.objects.get().student == ada
    assert Staff.objects.get().email == "terry@example.org"


def test_it_links_guardians_and_gives_siblings_one_household(tmp_path: Path) -> None:
    import_oneroster(path=bundle(tmp_path / "or"), by=None)

    mary = Guardian.objects.get(contact_unique_id="g1")
    assert (mary.phone, mary.email) == ("555-0100", "mary@example.org")
    links = StudentGuardian.objects.filter(guardian=mary)
    assert links.count() == 2 and all(link.primary for link in links)
    ada, ben = (
        Student.objects.get(student_unique_id="u1"),
        Student.objects.get(student_unique_id="u2"),
    )
    assert ada.household_id is not None and ada.household_id == ben.household_id


def test_it_is_idempotent(tmp_path: Path) -> None:
    folder = bundle(tmp_path / "or")
    import_oneroster(path=folder, by=None)

    assert import_oneroster(path=folder, by=None).changed_nothing


def test_it_reads_a_zip(tmp_path: Path) -> None:
    folder = bundle(tmp_path / "or")
    archive = tmp_path / "roster.zip"
    with zipfile.ZipFile(archive, "w") as out:
        for file in folder.iterdir():
            out.write(file, f"export/{file.name}")

    assert import_oneroster(path=archive, by=None).error_count == 0
    assert Student.objects.count() == 2


def test_it_refuses_a_missing_manifest(tmp_path: Path) -> None:
    folder = bundle(tmp_path / "or")
    (folder / "manifest.csv").unlink()

    with pytest.raises(ImportFailed) as failed:
        import_oneroster(path=folder, by=None)

    assert failed.value.result.errors == ["manifest.csv: missing (OneRoster requires a manifest)"]


def test_it_refuses_a_listed_file_that_is_missing_and_an_unknown_version(tmp_path: Path) -> None:
    folder = bundle(tmp_path / "or", **{"manifest.csv": MANIFEST.replace("1.1", "1.3")})
    (folder / "demographics.csv").unlink()

    with pytest.raises(ImportFailed) as failed:
        import_oneroster(path=folder, by=None)

    errors = failed.value.result.errors
    assert "manifest.csv:6 file.demographics=bulk: demographics.csv is listed but missing" in errors
    assert "manifest.csv oneroster.version=1.3: must be 1.1 or 1.2" in errors


def test_it_refuses_unknown_references(tmp_path: Path) -> None:
    enrollments = (
        FILES["enrollments.csv"] + "e3,,,hr9,s1,u1,student,,,\ne4,,,hr1,s1,u9,student,,,\n"
    )
    folder = bundle(tmp_path / "or", **{"enrollments.csv": enrollments})

    with pytest.raises(ImportFailed) as failed:
        import_oneroster(path=folder, by=None)

    assert failed.value.result.errors == [
        "enrollments.csv:4 classSourcedId=hr9: unknown class",
        "enrollments.csv:5 userSourcedId=u9: unknown user",
    ]
    assert Student.objects.count() == 0


def test_it_accepts_day_first_dates_when_month_first_cannot_be(tmp_path: Path) -> None:
    demographics = FILES["demographics.csv"].replace("03/04/2015", "15/06/2015")

    import_oneroster(path=bundle(tmp_path / "or", **{"demographics.csv": demographics}), by=None)

    assert Student.objects.get(student_unique_id="u1").birth_date == dt.date(2015, 6, 15)


def test_it_imports_the_catalyst_samples(samples: Path) -> None:
    first = import_oneroster(path=samples / "catalyst-v1p1-full", by=None)
    second = import_oneroster(path=samples / "catalyst-v1p2", by=None)

    assert first.error_count == second.error_count == 0
    assert sorted(Student.objects.values_list("student_unique_id", flat=True)) == [
        "usr-222-1234561232",
        "usr-222-567891",
        "usr-222-66778899",
    ]
    assert Staff.objects.filter(staff_unique_id="usr-222-987654").exists()
    assert Section.objects.get().section_id == "cls-222-123456"
    assert any("prefferedGivenName" in q for q in second.quality)


def test_it_rejects_the_non_conformant_sample_naming_each_header_problem(samples: Path) -> None:
    with pytest.raises(ImportFailed) as failed:
        import_oneroster(path=samples / "oat-sa-v1p1-base", by=None)

    result = failed.value.result
    assert result.errors == [
        "academicSessions.csv:1 column=schoolYear: required OneRoster 1.1 column is missing",
        "demographics.csv:1 column=sourcedId: required OneRoster 1.1 column is missing",
    ]
    report = "\n".join(result.quality)
    for written in ("userId", "agents", "grade", "schoolYearId", "userSourcedId"):
        assert f"column {written} is not a OneRoster 1.1 column" in report
    assert School.objects.count() == 0


def test_a_crash_while_writing_fails_the_job_and_writes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from attend.jobs.models import Job
    from attend.roster.importers import run

    def fail(*args: Any, **kwargs: Any) -> None:
        raise OSError("disk full")  # inside the write transaction, after every row was written

    monkeypatch.setattr(run, "_fill", fail)
    with pytest.raises(OSError, match="disk full"):
        import_oneroster(path=bundle(tmp_path / "or"), by=None)
    job = Job.objects.get()
    assert job.status == "failed"
    assert job.errors == ["import stopped: OSError: disk full"]
    assert not Student.objects.exists() and not District.objects.exists()
