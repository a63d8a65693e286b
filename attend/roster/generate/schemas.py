"""Explicit Arrow schemas of the lake-mode resources (parquet format).

Dates and timestamps stay ISO strings, exactly as in the JSON files, so every format holds
the same records; integers are int64, fractions float64, nested objects structs.
"""

from __future__ import annotations

import pyarrow as pa

STR = pa.string()
INT = pa.int64()


def _struct(*names: str, types: dict[str, pa.DataType] | None = None) -> pa.StructType:
    types = types or {}
    return pa.struct([(name, types.get(name, STR)) for name in names])


def _list_of(*names: str) -> pa.ListType:
    return pa.list_(_struct(*names))


STUDENT_REF = _struct("studentUniqueId")
SCHOOL_REF = _struct("schoolId", types={"schoolId": INT})
ADDRESS = _list_of(
    "addressTypeDescriptor", "streetNumberName", "city", "stateAbbreviationDescriptor", "postalCode"
)
LANGUAGES = pa.list_(
    pa.struct([("languageDescriptor", STR), ("uses", _list_of("languageUseDescriptor"))])
)

SCHEMAS: dict[str, pa.Schema] = {
    "schools": pa.schema(
        [
            ("schoolId", INT),
            ("nameOfInstitution", STR),
            (
                "localEducationAgencyReference",
                _struct("localEducationAgencyId", types={"localEducationAgencyId": INT}),
            ),
            ("gradeLevels", _list_of("gradeLevelDescriptor")),
            ("addresses", ADDRESS),
        ]
    ),
    "students": pa.schema(
        [
            ("studentUniqueId", STR),
            ("firstName", STR),
            ("lastSurname", STR),
            ("birthDate", STR),
        ]
    ),
    "studentEducationOrganizationAssociations": pa.schema(
        [
            ("studentReference", STUDENT_REF),
            (
                "educationOrganizationReference",
                _struct("educationOrganizationId", types={"educationOrganizationId": INT}),
            ),
            ("sexDescriptor", STR),
            ("hispanicLatinoEthnicity", pa.bool_()),
            ("races", _list_of("raceDescriptor")),
            ("limitedEnglishProficiencyDescriptor", STR),
            ("disabilities", _list_of("disabilityDescriptor")),
            ("studentCharacteristics", _list_of("studentCharacteristicDescriptor")),
            ("languages", LANGUAGES),
        ]
    ),
    "calendarDates": pa.schema(
        [
            (
                "calendarReference",
                _struct(
                    "calendarCode",
                    "schoolId",
                    "schoolYear",
                    types={"schoolId": INT, "schoolYear": INT},
                ),
            ),
            ("date", STR),
            ("calendarEvents", _list_of("calendarEventDescriptor")),
        ]
    ),
    "studentSchoolAssociations": pa.schema(
        [
            ("studentReference", STUDENT_REF),
            ("schoolReference", SCHOOL_REF),
            ("entryDate", STR),
            ("exitWithdrawDate", STR),
            ("exitWithdrawTypeDescriptor", STR),
            ("entryGradeLevelDescriptor", STR),
            ("schoolYear", INT),
        ]
    ),
    "studentSchoolAttendanceEvents": pa.schema(
        [
            ("studentReference", STUDENT_REF),
            ("schoolReference", SCHOOL_REF),
            (
                "sessionReference",
                _struct(
                    "schoolId",
                    "schoolYear",
                    "sessionName",
                    types={"schoolId": INT, "schoolYear": INT},
                ),
            ),
            ("eventDate", STR),
            ("attendanceEventCategoryDescriptor", STR),
            ("eventDuration", pa.float64()),
            ("attendanceEventReason", STR),
            ("_lastModifiedDate", STR),
        ]
    ),
    "studentSectionAttendanceEvents": pa.schema(
        [
            ("studentReference", STUDENT_REF),
            (
                "sectionReference",
                _struct(
                    "localCourseCode",
                    "schoolId",
                    "schoolYear",
                    "sectionIdentifier",
                    "sessionName",
                    types={"schoolId": INT, "schoolYear": INT},
                ),
            ),
            ("eventDate", STR),
            ("attendanceEventCategoryDescriptor", STR),
            ("_lastModifiedDate", STR),
        ]
    ),
    "contacts": pa.schema(
        [
            ("contactUniqueId", STR),
            ("firstName", STR),
            ("lastSurname", STR),
            ("electronicMails", _list_of("electronicMailAddress", "electronicMailTypeDescriptor")),
            ("telephones", _list_of("telephoneNumber", "telephoneNumberTypeDescriptor")),
            ("addresses", ADDRESS),
            ("languages", LANGUAGES),
        ]
    ),
    "studentContactAssociations": pa.schema(
        [
            ("studentReference", STUDENT_REF),
            ("contactReference", _struct("contactUniqueId")),
            ("relationDescriptor", STR),
            ("primaryContactStatus", pa.bool_()),
            ("livesWithIndicator", pa.bool_()),
            ("contactPriority", INT),
        ]
    ),
}

RESOURCES = tuple(SCHEMAS)
