"""A small lake-mode folder in the generator's format (docs/lake-format.md), for import tests.

Two schools, four students (two of them siblings sharing a primary contact), a September
calendar with a holiday, and a handful of absences, tardies and one section event.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

LEA = 100
SCHOOLS = (100001, 100002)
YEAR = 2026
ED = "uri://ed-fi.org/"


def uri(kind: str, code: str) -> str:
    return f"{ED}{kind}Descriptor#{code}"


def school(school_id: int, name: str, grade: str) -> dict[str, Any]:
    return {
        "schoolId": school_id,
        "nameOfInstitution": name,
        "localEducationAgencyReference": {"localEducationAgencyId": LEA},
        "gradeLevels": [{"gradeLevelDescriptor": uri("GradeLevel", grade)}],
        "addresses": [
            {"streetNumberName": "1 Main St", "city": "Riverside", "postalCode": "92501"}
        ],
    }


def calendar_dates(school_id: int) -> list[dict[str, Any]]:
    rows = []
    day = dt.date(2025, 9, 1)
    while day < dt.date(2025, 10, 1):
        if day == dt.date(2025, 9, 1):
            event = "Holiday"
        elif day.weekday() >= 5:
            event = "Non-instructional day"
        else:
            event = "Instructional day"
        rows.append(
            {
                "calendarReference": {
                    "calendarCode": f"{school_id}-{YEAR}",
                    "schoolId": school_id,
                    "schoolYear": YEAR,
                },
                "date": day.isoformat(),
                "calendarEvents": [{"calendarEventDescriptor": uri("CalendarEvent", event)}],
            }
        )
        day += dt.timedelta(days=1)
    return rows


def student(uid: str, first: str, last: str) -> dict[str, Any]:
    return {
        "studentUniqueId": uid,
        "firstName": first,
        "lastSurname": last,
        "birthDate": "2015-03-04",
    }


def demographics(uid: str, sex: str, race: str, el: bool) -> dict[str, Any]:
    return {
        "studentReference": {"studentUniqueId": uid},
        "educationOrganizationReference": {"educationOrganizationId": LEA},
        "sexDescriptor": uri("Sex", sex),
        "hispanicLatinoEthnicity": race == "Hispanic",
        "races": [{"raceDescriptor": uri("Race", race)}],
        "limitedEnglishProficiencyDescriptor": uri(
            "LimitedEnglishProficiency", "Limited" if el else "NotLimited"
        ),
        "disabilities": [],
        "studentCharacteristics": [
            {
                "studentCharacteristicDescriptor": uri(
                    "StudentCharacteristic", "Economic Disadvantaged"
                )
            }
        ]
        if el
        else [],
        "languages": [
            {
                "languageDescriptor": uri("Language", "spa" if el else "eng"),
                "uses": [{"languageUseDescriptor": uri("LanguageUse", "Home language")}],
            }
        ],
    }


def enrollment(uid: str, school_id: int, grade: str, **extra: Any) -> dict[str, Any]:
    return {
        "studentReference": {"studentUniqueId": uid},
        "schoolReference": {"schoolId": school_id},
        "entryDate": "2025-09-02",
        "entryGradeLevelDescriptor": uri("GradeLevel", grade),
        "schoolYear": YEAR,
        **extra,
    }


def event(uid: str, school_id: int, date: str, category: str, **extra: Any) -> dict[str, Any]:
    return {
        "studentReference": {"studentUniqueId": uid},
        "schoolReference": {"schoolId": school_id},
        "sessionReference": {"schoolId": school_id, "schoolYear": YEAR, "sessionName": "Fall"},
        "eventDate": date,
        "attendanceEventCategoryDescriptor": uri("AttendanceEventCategory", category),
        "_lastModifiedDate": f"{date}T16:00:00Z",
        **extra,
    }


def section_event(uid: str, school_id: int, date: str, category: str) -> dict[str, Any]:
    return {
        "studentReference": {"studentUniqueId": uid},
        "sectionReference": {
            "localCourseCode": "MATH-3",
            "schoolId": school_id,
            "schoolYear": YEAR,
            "sectionIdentifier": f"{school_id}-MATH-3-01",
            "sessionName": "Fall",
        },
        "eventDate": date,
        "attendanceEventCategoryDescriptor": uri("AttendanceEventCategory", category),
        "_lastModifiedDate": f"{date}T16:00:00Z",
    }


def contact(cid: str, first: str, last: str, street: str) -> dict[str, Any]:
    return {
        "contactUniqueId": cid,
        "firstName": first,
        "lastSurname": last,
        "electronicMails": [{"electronicMailAddress": f"{first.lower()}@example.org"}],
        "telephones": [{"telephoneNumber": "555-0100"}],
        "addresses": [{"streetNumberName": street, "city": "Riverside", "postalCode": "92501"}],
        "languages": [],
    }


def link(uid: str, cid: str, relation: str, primary: bool, priority: int) -> dict[str, Any]:
    return {
        "studentReference": {"studentUniqueId": uid},
        "contactReference": {"contactUniqueId": cid},
        "relationDescriptor": uri("Relation", relation),
        "primaryContactStatus": primary,
        "livesWithIndicator": True,
        "contactPriority": priority,
    }


def resources() -> dict[str, list[dict[str, Any]]]:
    """The records of the small district, by resource."""
    return {
        "schools": [
            school(100001, "Lincoln Elementary", "Third grade"),
            school(100002, "Roosevelt High", "Ninth grade"),
        ],
        "calendarDates": calendar_dates(100001) + calendar_dates(100002),
        "students": [
            student("S1", "Ada", "Lovelace"),
            student("S2", "Ben", "Lovelace"),
            student("S3", "Cora", "Diaz"),
            student("S4", "Dev", "Patel"),
        ],
        "studentEducationOrganizationAssociations": [
            demographics("S1", "Female", "White", False),
            demographics("S2", "Male", "White", False),
            demographics("S3", "Female", "Hispanic", True),
        ],
        "contacts": [
            contact("C1", "Mary", "Lovelace", "12 Elm St"),
            contact("C2", "Raj", "Patel", "9 Oak Ave"),
            contact("C3", "Pat", "Lovelace", "12 Elm St"),
        ],
        "studentContactAssociations": [
            link("S1", "C1", "Mother", True, 1),
            link("S2", "C1", "Mother", True, 1),
            link("S1", "C3", "Father", False, 2),
            link("S4", "C2", "Father", True, 1),
        ],
        "studentSchoolAssociations": [
            enrollment("S1", 100001, "Third grade"),
            enrollment("S2", 100001, "First grade"),
            enrollment("S3", 100002, "Ninth grade"),
            enrollment(
                "S4",
                100002,
                "Ninth grade",
                exitWithdrawDate="2025-09-19",
                exitWithdrawTypeDescriptor=uri("ExitWithdrawType", "Transferred"),
            ),
        ],
        "studentSchoolAttendanceEvents": [
            event("S1", 100001, "2025-09-03", "Unexcused Absence"),
            event("S1", 100001, "2025-09-04", "Excused Absence", attendanceEventReason="Sick"),
            event("S2", 100001, "2025-09-05", "Tardy"),
            event("S3", 100002, "2025-09-08", "Unexcused Absence", eventDuration=0.5),
            event("S3", 100002, "2025-09-09", "Unexcused Absence"),
            event("S4", 100002, "2025-09-10", "Excused Absence"),
        ],
        "studentSectionAttendanceEvents": [
            section_event("S3", 100002, "2025-09-10", "Unexcused Absence"),
        ],
    }


def write_lake(
    folder: Path, data: dict[str, list[dict[str, Any]]] | None = None, fmt: str = "ndjson"
) -> Path:
    """Write the resources as `<resource>.ndjson` (or `.json` arrays, or `.parquet`)."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, records in (data or resources()).items():
        if fmt == "json":
            (folder / f"{name}.json").write_text(json.dumps(records, indent=1))
        elif fmt == "parquet":
            import pyarrow as pa
            import pyarrow.parquet as pq

            # pa.array infers one struct type over all rows (from_pylist looks at the first only)
            table = pa.Table.from_struct_array(pa.array(records))
            pq.write_table(table, folder / f"{name}.parquet")
        else:
            lines = "".join(json.dumps(r) + "\n" for r in records)
            (folder / f"{name}.ndjson").write_text(lines)
    return folder
