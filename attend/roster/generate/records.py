"""Ed-Fi records (the lake-format shapes) built from the simulation's arrays."""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from attend.roster.generate import descriptors as d
from attend.roster.generate import names
from attend.roster.generate.calendar import SchoolCalendar
from attend.roster.generate.district import LEA_ID, LEVELS, District, School
from attend.roster.generate.enrollment import EXIT_TYPES, Associations
from attend.roster.generate.events import DURATIONS, REASONS, SchoolEvents, SectionEvents
from attend.roster.generate.people import GROUPS, GUARDIAN_SETS, LANGUAGES, Households, Students
from attend.roster.generate.people import first_name as student_first_name

Row = dict[str, Any]
STATE = d.uri("StateAbbreviationDescriptor", "NY")
COURSES = {
    1: ("ELA", "MATH", "SCI", "SOC", "PE", "ART"),
    2: ("ENG", "MATH", "SCI", "HIST", "PE", "LANG", "ELEC"),
}


@dataclass(frozen=True)
class Lookup:
    """Strings shared by every batch, indexed by date ordinal − base, school index, minute."""

    school_year: int
    base: int
    dates: list[str]
    sessions: list[str]
    school_ids: list[int]
    cohorts: np.ndarray
    minutes: list[str]


def build_lookup(calendar: SchoolCalendar, district: District) -> Lookup:
    year = calendar.school_year
    start = dt.date(year - 1, 7, 1)
    days = [start + dt.timedelta(days=i) for i in range(366 + 31)]
    spring = dt.date(year, 2, 1)
    semester = [("Spring" if day >= spring else "Fall") for day in days]
    return Lookup(
        school_year=year,
        base=start.toordinal(),
        dates=[day.isoformat() for day in days],
        sessions=[f"{year - 1}-{year} {s} Semester" for s in semester],
        school_ids=[s.school_id for s in district.schools],
        cohorts=district.cohorts,
        minutes=[f"{m // 60:02d}:{m % 60:02d}:00Z" for m in range(1440)],
    )


# --- schools and calendars ----------------------------------------------------------------


def school_rows(district: District) -> list[Row]:
    return [_school_row(s) for s in district.schools]


def _school_row(school: School) -> Row:
    grades = [
        {"gradeLevelDescriptor": d.uri("GradeLevelDescriptor", d.GRADE_NAMES[g])}
        for g in school.grades
    ]
    city, postal = names.NEIGHBOURHOODS[school.neighbourhood]
    address = _address("Physical", f"{school.street_number} {school.street}", city, postal)
    return {
        "schoolId": school.school_id,
        "nameOfInstitution": school.name,
        "localEducationAgencyReference": {"localEducationAgencyId": LEA_ID},
        "gradeLevels": grades,
        "addresses": [address],
    }


def _address(kind: str, street: str, city: str, postal: str) -> Row:
    return {
        "addressTypeDescriptor": d.uri("AddressTypeDescriptor", kind),
        "streetNumberName": street,
        "city": city,
        "stateAbbreviationDescriptor": STATE,
        "postalCode": postal,
    }


def calendar_rows(calendar: SchoolCalendar, school: School) -> list[Row]:
    year = calendar.school_year
    ref = {
        "calendarCode": f"{school.school_id}-{year}",
        "schoolId": school.school_id,
        "schoolYear": year,
    }
    return [
        {
            "calendarReference": ref,
            "date": day.isoformat(),
            "calendarEvents": [
                {
                    "calendarEventDescriptor": d.uri(
                        "CalendarEventDescriptor", calendar.event_for(day, school.level)
                    )
                }
            ],
        }
        for day in calendar.dates
    ]


# --- students -------------------------------------------------------------------------------


def student_rows(
    students: Students, households: Households, ids: list[str], keep: np.ndarray
) -> list[Row]:
    surnames = households.surname[students.household]
    return [
        {
            "studentUniqueId": ids[i],
            "firstName": student_first_name(int(students.first_name[i])),
            "lastSurname": names.SURNAMES[surnames[i]],
            "birthDate": dt.date.fromordinal(int(students.birth[i])).isoformat(),
        }
        for i in np.flatnonzero(keep).tolist()
    ]


def demographic_rows(
    students: Students, households: Households, ids: list[str], keep: np.ndarray
) -> list[Row]:
    return [_demographics(students, households, ids, i) for i in np.flatnonzero(keep).tolist()]


def _demographics(students: Students, households: Households, ids: list[str], i: int) -> Row:
    h = int(students.household[i])
    hispanic, races = GROUPS[households.group[h]]
    disability = int(students.disability[i])
    econ = bool(households.econ[h])
    return {
        "studentReference": {"studentUniqueId": ids[i]},
        "educationOrganizationReference": {"educationOrganizationId": LEA_ID},
        "sexDescriptor": d.uri("SexDescriptor", d.SEXES[students.sex[i]]),
        "hispanicLatinoEthnicity": hispanic,
        "races": [{"raceDescriptor": d.uri("RaceDescriptor", d.RACES[r])} for r in races],
        "limitedEnglishProficiencyDescriptor": d.uri(
            "LimitedEnglishProficiencyDescriptor",
            "Limited" if students.english_learner[i] else "NotLimited",
        ),
        "disabilities": []
        if disability < 0
        else [{"disabilityDescriptor": d.uri("DisabilityDescriptor", d.DISABILITIES[disability])}],
        "studentCharacteristics": [
            {
                "studentCharacteristicDescriptor": d.uri(
                    "StudentCharacteristicDescriptor", "Economic Disadvantaged"
                )
            }
        ]
        if econ
        else [],
        "languages": [_language(int(households.language[h]), correspondence=False)],
    }


@functools.cache
def _language(index: int, correspondence: bool) -> Row:
    """One `languages` entry; cached and shared between rows (rows are never mutated)."""
    uses = ["Home language"] + (["Correspondence language"] if correspondence else [])
    return {
        "languageDescriptor": d.uri("LanguageDescriptor", LANGUAGES[index]),
        "uses": [{"languageUseDescriptor": d.uri("LanguageUseDescriptor", u)} for u in uses],
    }


def association_rows(
    assoc: Associations,
    students: Students,
    ids: list[str],
    lk: Lookup,
    day_ordinals: np.ndarray,
    limits: tuple[int, int],
) -> list[Row]:
    """Associations entered by `limits[0]`; exits shown only once they happened (`limits[1]`)."""
    entry_limit, as_of = limits
    entries = day_ordinals[assoc.entry]
    exits = np.where(assoc.exit >= 0, day_ordinals[np.maximum(assoc.exit, 0)], -1)
    known = np.flatnonzero(entries <= entry_limit).tolist()
    return [
        _association(
            assoc,
            students,
            ids,
            lk,
            i,
            int(entries[i]),
            int(exits[i]) if 0 <= exits[i] <= as_of else -1,
        )
        for i in known
    ]


def _association(
    assoc: Associations,
    students: Students,
    ids: list[str],
    lk: Lookup,
    i: int,
    entry: int,
    exit_day: int,
) -> Row:
    row = int(assoc.student[i])
    record: Row = {
        "studentReference": {"studentUniqueId": ids[row]},
        "schoolReference": {"schoolId": lk.school_ids[assoc.school[i]]},
        "entryDate": lk.dates[entry - lk.base],
    }
    if exit_day >= 0:
        record["exitWithdrawDate"] = lk.dates[exit_day - lk.base]
        record["exitWithdrawTypeDescriptor"] = d.uri(
            "ExitWithdrawTypeDescriptor", EXIT_TYPES[assoc.exit_type[i]]
        )
    record["entryGradeLevelDescriptor"] = d.uri(
        "GradeLevelDescriptor", d.GRADE_NAMES[students.grade[row]]
    )
    record["schoolYear"] = lk.school_year
    return record


# --- guardians --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Guardians:
    """Per household, per guardian slot (0, 1): the draws that make a contact."""

    first_number: int  # contact number of the batch's first household's first guardian
    offset: np.ndarray  # household → number of contacts before it in the batch
    name: np.ndarray  # households × 2 random floats
    other_surname: np.ndarray  # households × 2, -1 = the household's surname
    email: np.ndarray  # households × 2: -1 none, else a 1..99 suffix
    domain: np.ndarray
    mobile: np.ndarray  # households × 2: last two digits of a 555-01xx number
    area: np.ndarray
    home_phone: np.ndarray  # households: -1 none
    away: np.ndarray  # households × 2: does not live with the children
    correspond: np.ndarray  # households: letters in the home language


def draw_guardians(
    households: Households, first_number: int, rng: np.random.Generator
) -> Guardians:
    n = len(households)
    sizes = np.array([len(GUARDIAN_SETS[g]) for g in households.guardian_set])
    away = rng.random((n, 2)) < np.array([0.0, 0.08])
    return Guardians(
        first_number=first_number,
        offset=np.cumsum(sizes) - sizes,
        name=rng.random((n, 2)),
        other_surname=np.where(
            rng.random((n, 2)) < np.array([0.0, 0.2]),
            rng.integers(len(names.SURNAMES), size=(n, 2)),
            -1,
        ),
        email=np.where(rng.random((n, 2)) < 0.75, rng.integers(1, 100, size=(n, 2)), -1),
        domain=rng.integers(len(names.EMAIL_DOMAINS), size=(n, 2)),
        mobile=rng.integers(0, 100, size=(n, 2)),
        area=rng.integers(len(names.AREA_CODES), size=(n, 2)),
        home_phone=np.where(rng.random(n) < 0.3, rng.integers(0, 100, size=n), -1),
        away=away,
        correspond=rng.random(n) < 0.7,
    )


def contact_count(households: Households) -> int:
    return sum(len(GUARDIAN_SETS[g]) for g in households.guardian_set.tolist())


def contact_id(g: Guardians, household: int, slot: int) -> str:
    return f"C{g.first_number + int(g.offset[household]) + slot:07d}"


def contact_rows(households: Households, g: Guardians, keep: np.ndarray) -> list[Row]:
    """Contacts of households that have at least one student on file."""
    return [
        _contact(households, g, h, slot, relation_sex)
        for h in np.flatnonzero(keep).tolist()
        for slot, relation_sex in enumerate(GUARDIAN_SETS[households.guardian_set[h]])
    ]


def _contact(
    households: Households, g: Guardians, h: int, slot: int, relation_sex: tuple[str, str]
) -> Row:
    first = _guardian_first_name(relation_sex[1], float(g.name[h, slot]))
    other = int(g.other_surname[h, slot])
    last = names.SURNAMES[other if other >= 0 else households.surname[h]]
    language = int(households.language[h])
    correspond = bool(g.correspond[h]) and LANGUAGES[language] != "eng"
    return {
        "contactUniqueId": contact_id(g, h, slot),
        "firstName": first,
        "lastSurname": last,
        "electronicMails": _emails(g, h, slot, first, last),
        "telephones": _phones(g, h, slot),
        "addresses": [_home_address(households, g, h, slot)],
        "languages": [_language(language, correspondence=correspond)],
    }


def _guardian_first_name(sex: str, u: float) -> str:
    pool = names.FEMALE if sex == "F" else names.MALE
    return pool[int(u * len(pool))]


def _emails(g: Guardians, h: int, slot: int, first: str, last: str) -> list[Row]:
    number = int(g.email[h, slot])
    if number < 0:
        return []
    local = f"{first}.{last}{number}".lower().replace(" ", "")
    address = f"{local}@{names.EMAIL_DOMAINS[g.domain[h, slot]]}"
    kind = d.uri("ElectronicMailTypeDescriptor", "Home/Personal")
    return [{"electronicMailAddress": address, "electronicMailTypeDescriptor": kind}]


def _phones(g: Guardians, h: int, slot: int) -> list[Row]:
    """A mobile each (fictional 555-01xx numbers) and sometimes the household's home line."""
    area = names.AREA_CODES[g.area[h, slot]]
    phones = [(f"({area}) 555-01{int(g.mobile[h, slot]):02d}", "Mobile")]
    if g.home_phone[h] >= 0 and not g.away[h, slot]:
        phones.append(
            (f"({names.AREA_CODES[g.area[h, 0]]}) 555-01{int(g.home_phone[h]):02d}", "Home")
        )
    kind = "TelephoneNumberTypeDescriptor"
    return [
        {"telephoneNumber": n, "telephoneNumberTypeDescriptor": d.uri(kind, t)} for n, t in phones
    ]


def _home_address(households: Households, g: Guardians, h: int, slot: int) -> Row:
    """Siblings' guardians share the household address, unless one lives elsewhere."""
    zone, street, number = (
        int(households.zone[h]),
        int(households.street[h]),
        int(households.street_number[h]),
    )
    if g.away[h, slot]:
        zone, street, number = zone + 5, (street + 7) % len(names.STREETS), (number * 7) % 900 + 1
    city, postal = names.NEIGHBOURHOODS[zone % len(names.NEIGHBOURHOODS)]
    return _address("Home", f"{number} {names.STREETS[street]}", city, postal)


def student_contact_rows(
    students: Students, households: Households, g: Guardians, ids: list[str], keep: np.ndarray
) -> list[Row]:
    rows: list[Row] = []
    for i in np.flatnonzero(keep).tolist():
        h = int(students.household[i])
        for slot, (relation, _sex) in enumerate(GUARDIAN_SETS[households.guardian_set[h]]):
            rows.append(
                {
                    "studentReference": {"studentUniqueId": ids[i]},
                    "contactReference": {"contactUniqueId": contact_id(g, h, slot)},
                    "relationDescriptor": d.uri("RelationDescriptor", relation),
                    "primaryContactStatus": slot == 0,
                    "livesWithIndicator": not bool(g.away[h, slot]),
                    "contactPriority": slot + 1,
                }
            )
    return rows


# --- attendance events (hot path: f-strings and Arrow columns, no per-row dicts) ------------


CATEGORY_URIS = [d.uri("AttendanceEventCategoryDescriptor", c) for c in d.CATEGORY_CODES]
DURATION_JSON = [""] + [f',"eventDuration":{x}' for x in DURATIONS[1:]]
REASON_JSON = [""] + [f',"attendanceEventReason":"{r}"' for r in REASONS]


def _dict_strings(index: np.ndarray, values: list[str], null: np.ndarray | None = None) -> pa.Array:
    """A string column from integer codes into `values` (no Python object per row)."""
    codes = pa.array(index.astype(np.int32), mask=null)
    return pa.DictionaryArray.from_arrays(codes, pa.array(values, pa.string())).dictionary_decode()


def _struct(fields: dict[str, pa.Array]) -> pa.StructArray:
    return pa.StructArray.from_arrays(list(fields.values()), names=list(fields))


class SchoolEventChunk:
    """studentSchoolAttendanceEvents of one batch."""

    def __init__(self, ev: SchoolEvents, ids: list[str], lk: Lookup) -> None:
        self.ev, self.ids, self.lk = ev, ids, lk

    def __len__(self) -> int:
        return len(self.ev)

    def lines(self) -> list[str]:
        ev, lk, ids = self.ev, self.lk, self.ids
        refs = [
            f'"schoolReference":{{"schoolId":{s}}},"sessionReference":{{"schoolId":{s},'
            f'"schoolYear":{lk.school_year},"sessionName":"'
            for s in lk.school_ids
        ]
        cols = (
            ev.row,
            ev.school,
            ev.date - lk.base,
            ev.category,
            ev.duration,
            ev.reason + 1,
            ev.modified - lk.base,
            ev.minute,
        )
        dates, sessions, minutes = lk.dates, lk.sessions, lk.minutes
        return [
            f'{{"studentReference":{{"studentUniqueId":"{ids[r]}"}},{refs[s]}{sessions[t]}"}},'
            f'"eventDate":"{dates[t]}","attendanceEventCategoryDescriptor":"{CATEGORY_URIS[c]}"'
            f'{DURATION_JSON[u]}{REASON_JSON[x]},"_lastModifiedDate":"{dates[m]}T{minutes[k]}"}}'
            for r, s, t, c, u, x, m, k in zip(*(col.tolist() for col in cols), strict=True)
        ]

    def table(self, schema: pa.Schema) -> pa.Table:
        ev, lk = self.ev, self.lk
        school = pa.array(np.array(lk.school_ids)[ev.school], pa.int64())
        day = ev.date - lk.base
        duration = np.array([0.0, *DURATIONS[1:]])[ev.duration]
        columns = [
            _struct({"studentUniqueId": _dict_strings(ev.row, self.ids)}),
            _struct({"schoolId": school}),
            _struct(
                {
                    "schoolId": school,
                    "schoolYear": pa.array(np.full(len(ev), lk.school_year)),
                    "sessionName": _dict_strings(day, lk.sessions),
                }
            ),
            _dict_strings(day, lk.dates),
            _dict_strings(ev.category, CATEGORY_URIS),
            pa.array(duration, pa.float64(), mask=ev.duration == 0),
            _dict_strings(np.maximum(ev.reason, 0), list(REASONS), null=ev.reason < 0),
            _timestamps(ev.modified - lk.base, ev.minute, lk),
        ]
        return pa.Table.from_arrays(columns, schema=schema)


def _timestamps(day: np.ndarray, minute: np.ndarray, lk: Lookup) -> pa.Array:
    joined = pc.binary_join_element_wise(
        _dict_strings(day, lk.dates), _dict_strings(minute, lk.minutes), "T"
    )
    return joined.cast(pa.string())


def section_code(level: int, grade: int, period: int, cohort: int) -> tuple[str, str]:
    """(localCourseCode, sectionIdentifier) of a period's section for a cohort."""
    course = f"{COURSES[level][period]}-{grade:02d}"
    return course, f"{course}-P{period + 1}-{cohort + 1:02d}"


class SectionEventChunk:
    """studentSectionAttendanceEvents (periods skipped while present) of one batch."""

    unexcused = CATEGORY_URIS[d.CAT_UNEXCUSED]

    def __init__(self, ev: SectionEvents, ids: list[str], lk: Lookup, levels: np.ndarray) -> None:
        self.ev, self.ids, self.lk = ev, ids, lk
        cohort = ev.cohort % lk.cohorts[ev.school, ev.grade]
        self.codes = [
            section_code(lvl, g, p, c)
            for lvl, g, p, c in zip(
                levels[ev.school].tolist(),
                ev.grade.tolist(),
                ev.period.tolist(),
                cohort.tolist(),
                strict=True,
            )
        ]

    def __len__(self) -> int:
        return len(self.ev)

    def lines(self) -> list[str]:
        ev, lk, ids = self.ev, self.lk, self.ids
        cols = (ev.row, ev.school, ev.date - lk.base, ev.minute)
        return [
            f'{{"studentReference":{{"studentUniqueId":"{ids[r]}"}},"sectionReference":'
            f'{{"localCourseCode":"{code[0]}","schoolId":{lk.school_ids[s]},'
            f'"schoolYear":{lk.school_year},"sectionIdentifier":"{code[1]}",'
            f'"sessionName":"{lk.sessions[t]}"}},"eventDate":"{lk.dates[t]}",'
            f'"attendanceEventCategoryDescriptor":"{self.unexcused}",'
            f'"_lastModifiedDate":"{lk.dates[t]}T{lk.minutes[k]}"}}'
            for (r, s, t, k), code in zip(
                zip(*(c.tolist() for c in cols), strict=True), self.codes, strict=True
            )
        ]

    def table(self, schema: pa.Schema) -> pa.Table:
        ev, lk = self.ev, self.lk
        day = ev.date - lk.base
        section = _struct(
            {
                "localCourseCode": pa.array([c[0] for c in self.codes], pa.string()),
                "schoolId": pa.array(np.array(lk.school_ids)[ev.school], pa.int64()),
                "schoolYear": pa.array(np.full(len(ev), lk.school_year)),
                "sectionIdentifier": pa.array([c[1] for c in self.codes], pa.string()),
                "sessionName": _dict_strings(day, lk.sessions),
            }
        )
        columns = [
            _struct({"studentUniqueId": _dict_strings(ev.row, self.ids)}),
            section,
            _dict_strings(day, lk.dates),
            _dict_strings(np.zeros(len(ev), np.int32), [self.unexcused]),
            _timestamps(day, ev.minute, lk),
        ]
        return pa.Table.from_arrays(columns, schema=schema)


def level_codes(district: District) -> np.ndarray:
    return np.array([LEVELS.index(s.level) for s in district.schools], dtype=np.int64)
