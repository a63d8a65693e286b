"""Ed-Fi XML interchanges (Data Standard 2.x and 5.x shapes) → the API-shaped records the lake
handlers already understand.

Parsed with expat so every record keeps the line it starts on. The two standards differ in
small ways handled here: DS 2 wraps descriptors in `<CodeValue>` and calls a section
`UniqueSectionCode`; DS 5 writes descriptors as URIs and names the section `SectionIdentifier`;
a DS 2 `CalendarDate` names its school directly, a DS 5 one through its calendar.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from xml.parsers import expat

from attend.roster.importers.batch import Batch
from attend.roster.importers.common import decode
from attend.roster.importers.edfi_records import HANDLERS, stage

Progress = Callable[[str], None]
Converter = Callable[[ET.Element], dict[str, Any]]

STUDENT = ("StudentReference/StudentIdentity/StudentUniqueId", "StudentReference/StudentUniqueId")
SCHOOL = ("SchoolReference/SchoolIdentity/SchoolId", "SchoolReference/SchoolId")


# ---------------------------------------------------------------------------------------------
# Reading


def read_xml(path: Path, batch: Batch, progress: Progress | None = None) -> None:
    """Stage every record of an XML file, or of every `*.xml` file in a folder."""
    files = sorted(path.glob("*.xml")) if path.is_dir() else [path]
    total = 0
    for file in files:
        count = read_file(file, batch)
        total += count
        if progress:
            progress(f"read {file.name}: {count:,} records")
    if total == 0:
        batch.problems.add(path.name, "", "", "", "no Ed-Fi records found (lake files or XML)")


def read_file(path: Path, batch: Batch) -> int:
    file_no = batch.file_number(path.name)
    text, notes = decode(path.read_bytes())
    for note in notes:
        batch.problems.note(f"{path.name}: {note}")
    count = skipped = 0
    for line, element in elements(text, path.name, batch):
        where = batch.at(file_no, line)
        kind = CONVERTERS.get(element.tag)
        if kind is None:
            skipped += 1
            continue
        resource, convert = kind
        count += stage(batch, HANDLERS[resource], convert(element), where)
    if count == 0 and skipped:
        batch.problems.note(f"{path.name}: no records Attend reads (skipped)", "skipped_file")
    return count


def elements(text: str, name: str, batch: Batch) -> Iterator[tuple[int, ET.Element]]:
    """Each child of the interchange root, with the line it starts on, namespaces dropped.

    1. expat parses the (already decoded and cleaned) text in slices.
    2. Each element at depth 2 (a record) gets its own TreeBuilder and remembers its line,
       so a large file never becomes one large tree.
    3. A syntax error (a truncated file, say) ends the file with a problem at its line.
    """
    parser = expat.ParserCreate("utf-8", " ")
    done: list[tuple[int, ET.Element]] = []
    state: dict[str, Any] = {"depth": 0, "line": 0, "builder": None}

    def opened(tag: str, attrs: dict[str, str]) -> None:
        state["depth"] += 1
        if state["depth"] == 2:
            state["line"], state["builder"] = parser.CurrentLineNumber, ET.TreeBuilder()
        if state["depth"] >= 2:
            state["builder"].start(tag.rsplit(" ", 1)[-1], attrs)

    def closed(tag: str) -> None:
        if state["depth"] >= 2:
            element = state["builder"].end(tag.rsplit(" ", 1)[-1])
            if state["depth"] == 2:
                done.append((state["line"], element))
        state["depth"] -= 1

    def data(chunk: str) -> None:
        if state["depth"] >= 2:
            state["builder"].data(chunk)

    parser.StartElementHandler, parser.EndElementHandler = opened, closed
    parser.CharacterDataHandler = data
    yield from _feed(parser, text.encode("utf-8"), done, name, batch)


def _feed(
    parser: Any, data: bytes, done: list[tuple[int, ET.Element]], name: str, batch: Batch
) -> Iterator[tuple[int, ET.Element]]:
    step = 1 << 20
    for offset in range(0, max(len(data), 1), step):
        try:
            parser.Parse(data[offset : offset + step], offset + step >= len(data))
        except expat.ExpatError as bad:
            yield from done
            reason = expat.errors.messages[bad.code]
            batch.problems.add(name, bad.lineno, "", "", f"XML is not well-formed: {reason}")
            return
        yield from done
        done.clear()


# ---------------------------------------------------------------------------------------------
# Element access


def first(element: ET.Element, *paths: str) -> str | None:
    for path in paths:
        node = element.find(path)
        if node is not None:
            return code_or_text(node)
    return None


def code_or_text(node: ET.Element) -> str | None:
    """A DS 2 descriptor is `<X><CodeValue>…</CodeValue></X>`; DS 5 writes the URI as text."""
    code = node.find("CodeValue")
    value = code.text if code is not None else node.text
    return value.strip() if value and value.strip() else None


def all_of(element: ET.Element, path: str) -> list[str]:
    values = (code_or_text(node) for node in element.findall(path))
    return [v for v in values if v]


def anywhere(element: ET.Element | None, tag: str) -> str | None:
    if element is None:
        return None
    node = element.find(f".//{tag}")
    return code_or_text(node) if node is not None else None


# ---------------------------------------------------------------------------------------------
# Converters: XML element → Ed-Fi API resource object


def school_event(e: ET.Element) -> dict[str, Any]:
    return {
        **_attendance(e),
        "schoolReference": {"schoolId": first(e, *SCHOOL)},
        "sessionReference": {
            "schoolYear": anywhere(e.find("SessionReference"), "SchoolYear"),
            "sessionName": anywhere(e.find("SessionReference"), "SessionName"),
        },
    }


def section_event(e: ET.Element) -> dict[str, Any]:
    return {**_attendance(e), "sectionReference": _section_ref(e.find("SectionReference"))}


def _attendance(e: ET.Element) -> dict[str, Any]:
    return {
        "studentReference": {"studentUniqueId": first(e, *STUDENT)},
        "eventDate": first(e, "AttendanceEvent/EventDate", "EventDate"),
        "attendanceEventCategoryDescriptor": first(
            e, "AttendanceEvent/AttendanceEventCategory", "AttendanceEventCategory"
        ),
        "attendanceEventReason": first(
            e, "AttendanceEvent/AttendanceEventReason", "AttendanceEventReason"
        ),
        "eventDuration": first(e, "AttendanceEvent/EventDuration", "EventDuration"),
    }


def _section_ref(ref: ET.Element | None) -> dict[str, Any]:
    identity = ref.find("SectionIdentity") if ref is not None else None
    identity = identity if identity is not None else ref
    return {
        "sectionIdentifier": first(identity, "SectionIdentifier", "UniqueSectionCode")
        if identity is not None
        else None,
        "schoolId": anywhere(identity, "SchoolId"),
        "schoolYear": anywhere(identity, "SchoolYear"),
        "localCourseCode": anywhere(identity, "LocalCourseCode"),
        "sessionName": anywhere(identity, "SessionName"),
    }


def calendar_date(e: ET.Element) -> dict[str, Any]:
    ref = e.find("CalendarReference")
    events = all_of(e, "CalendarEvent/CalendarEvent") or all_of(e, "CalendarEvent")
    return {
        "date": first(e, "Date"),
        "calendarReference": {
            "calendarCode": anywhere(ref, "CalendarCode"),
            "schoolId": anywhere(ref, "SchoolId") or first(e, *SCHOOL),
            "schoolYear": anywhere(ref, "SchoolYear"),
        },
        "calendarEvents": [{"calendarEventDescriptor": v} for v in events],
    }


def calendar(e: ET.Element) -> dict[str, Any]:
    return {
        "calendarCode": first(e, "CalendarCode"),
        "schoolReference": {"schoolId": first(e, *SCHOOL)},
        "schoolYear": first(e, "SchoolYear"),
    }


def student(e: ET.Element) -> dict[str, Any]:
    return {
        "studentUniqueId": first(e, "StudentUniqueId"),
        "firstName": first(e, "Name/FirstName", "FirstName"),
        "lastSurname": first(e, "Name/LastSurname", "LastSurname"),
        "birthDate": first(e, "BirthData/BirthDate", "BirthDate"),
    }


def demographics(e: ET.Element) -> dict[str, Any]:
    return {
        "studentReference": {"studentUniqueId": first(e, *STUDENT)},
        "sexDescriptor": first(e, "Sex", "BirthSex"),
        "hispanicLatinoEthnicity": first(e, "HispanicLatinoEthnicity") == "true",
        "races": [{"raceDescriptor": r} for r in all_of(e, "Race")],
        "limitedEnglishProficiencyDescriptor": first(e, "LimitedEnglishProficiency"),
        "studentCharacteristics": [
            {"studentCharacteristicDescriptor": c}
            for c in all_of(e, "StudentCharacteristic/StudentCharacteristic")
        ],
    }


def school(e: ET.Element) -> dict[str, Any]:
    lea = anywhere(e.find("LocalEducationAgencyReference"), "LocalEducationAgencyId")
    return {
        "schoolId": first(e, "SchoolId"),
        "nameOfInstitution": first(e, "NameOfInstitution"),
        "localEducationAgencyReference": {"localEducationAgencyId": lea},
        "gradeLevels": [{"gradeLevelDescriptor": g} for g in all_of(e, "GradeLevel")],
    }


def lea(e: ET.Element) -> dict[str, Any]:
    return {
        "localEducationAgencyId": first(e, "LocalEducationAgencyId"),
        "nameOfInstitution": first(e, "NameOfInstitution"),
    }


def enrollment(e: ET.Element) -> dict[str, Any]:
    return {
        "studentReference": {"studentUniqueId": first(e, *STUDENT)},
        "schoolReference": {"schoolId": first(e, *SCHOOL)},
        "entryDate": first(e, "EntryDate"),
        "exitWithdrawDate": first(e, "ExitWithdrawDate"),
        "exitWithdrawTypeDescriptor": first(e, "ExitWithdrawType"),
        "entryGradeLevelDescriptor": first(e, "EntryGradeLevel"),
        "schoolYear": first(e, "SchoolYear", "SchoolYearType"),
    }


def contact(e: ET.Element) -> dict[str, Any]:
    return {
        "contactUniqueId": first(e, "ContactUniqueId", "ParentUniqueId"),
        "firstName": first(e, "Name/FirstName", "FirstName"),
        "lastSurname": first(e, "Name/LastSurname", "LastSurname"),
        "telephones": [{"telephoneNumber": first(e, "Telephone/TelephoneNumber")}],
        "electronicMails": [
            {"electronicMailAddress": first(e, "ElectronicMail/ElectronicMailAddress")}
        ],
        "addresses": [
            {
                "streetNumberName": first(e, "Address/StreetNumberName"),
                "city": first(e, "Address/City"),
                "postalCode": first(e, "Address/PostalCode"),
            }
        ],
    }


def student_contact(e: ET.Element) -> dict[str, Any]:
    ref = e.find("ContactReference")
    ref = ref if ref is not None else e.find("ParentReference")
    return {
        "studentReference": {"studentUniqueId": first(e, *STUDENT)},
        "contactReference": {
            "contactUniqueId": anywhere(ref, "ContactUniqueId") or anywhere(ref, "ParentUniqueId")
        },
        "relationDescriptor": first(e, "Relation"),
        "primaryContactStatus": first(e, "PrimaryContactStatus") == "true",
        "livesWithIndicator": first(e, "LivesWith") != "false",
        "contactPriority": first(e, "ContactPriority"),
    }


def section(e: ET.Element) -> dict[str, Any]:
    offering = e.find("CourseOfferingReference")
    return {
        "sectionIdentifier": first(e, "SectionIdentifier", "UniqueSectionCode"),
        "sectionName": first(e, "SectionName"),
        "courseOfferingReference": {
            "localCourseCode": anywhere(offering, "LocalCourseCode"),
            "schoolId": anywhere(offering, "SchoolId") or first(e, *SCHOOL),
            "schoolYear": anywhere(offering, "SchoolYear"),
        },
    }


def student_section(e: ET.Element) -> dict[str, Any]:
    return {
        "studentReference": {"studentUniqueId": first(e, *STUDENT)},
        "sectionReference": _section_ref(e.find("SectionReference")),
        "beginDate": first(e, "BeginDate"),
        "endDate": first(e, "EndDate"),
        "homeroomIndicator": first(e, "HomeroomIndicator") == "true",
    }


def staff(e: ET.Element) -> dict[str, Any]:
    return {
        "staffUniqueId": first(e, "StaffUniqueId"),
        "firstName": first(e, "Name/FirstName", "FirstName"),
        "lastSurname": first(e, "Name/LastSurname", "LastSurname"),
        "electronicMails": [
            {"electronicMailAddress": first(e, "ElectronicMail/ElectronicMailAddress")}
        ],
    }


def staff_section(e: ET.Element) -> dict[str, Any]:
    return {
        "staffReference": {"staffUniqueId": anywhere(e.find("StaffReference"), "StaffUniqueId")},
        "sectionReference": _section_ref(e.find("SectionReference")),
        "beginDate": first(e, "BeginDate"),
    }


# XML element → (Ed-Fi resource whose handler stages it, converter)
CONVERTERS: dict[str, tuple[str, Converter]] = {
    "LocalEducationAgency": ("localEducationAgencies", lea),
    "School": ("schools", school),
    "Calendar": ("calendars", calendar),
    "CalendarDate": ("calendarDates", calendar_date),
    "Student": ("students", student),
    "StudentEducationOrganizationAssociation": (
        "studentEducationOrganizationAssociations",
        demographics,
    ),
    "Contact": ("contacts", contact),
    "Parent": ("contacts", contact),
    "StudentContactAssociation": ("studentContactAssociations", student_contact),
    "StudentParentAssociation": ("studentContactAssociations", student_contact),
    "StudentSchoolAssociation": ("studentSchoolAssociations", enrollment),
    "Staff": ("staffs", staff),
    "Section": ("sections", section),
    "StaffSectionAssociation": ("staffSectionAssociations", staff_section),
    "StudentSectionAssociation": ("studentSectionAssociations", student_section),
    "StudentSchoolAttendanceEvent": ("studentSchoolAttendanceEvents", school_event),
    "StudentSectionAttendanceEvent": ("studentSectionAttendanceEvents", section_event),
}
