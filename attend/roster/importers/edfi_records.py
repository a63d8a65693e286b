"""Ed-Fi API resource objects → staged rows. Shared by the lake folder, XML and API readers.

Each handler takes one resource object (a dict shaped as the Ed-Fi API returns it) and stages
its rows on the batch, raising `Invalid` for the first field it cannot accept.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from attend.attendance.choices import EDFI_CODES
from attend.roster.choices import SCHOOL_DAY_EVENTS, SchoolLevel, Sex
from attend.roster.importers.batch import Batch, SectionKey
from attend.roster.importers.common import (
    code_value,
    in_school_year,
    parse_bool,
    parse_date,
    parse_datetime,
    parse_fraction,
    parse_school_year,
    school_year_of,
    stored_instant,
)
from attend.roster.models import ID_LENGTH

Handler = Callable[[Batch, dict[str, Any], int], None]

_GRADE_LEVELS = {
    SchoolLevel.ELEMENTARY: (
        "infant/toddler",
        "preschool/prekindergarten",
        "kindergarten",
        "first grade",
        "second grade",
        "third grade",
        "fourth grade",
        "fifth grade",
    ),
    SchoolLevel.MIDDLE: ("sixth grade", "seventh grade", "eighth grade"),
    SchoolLevel.HIGH: ("ninth grade", "tenth grade", "eleventh grade", "twelfth grade"),
}
GRADE_LEVEL = {grade: level for level, grades in _GRADE_LEVELS.items() for grade in grades}
CATEGORY_LEVEL = {
    "elementary school": SchoolLevel.ELEMENTARY,
    "middle school": SchoolLevel.MIDDLE,
    "junior high school": SchoolLevel.MIDDLE,
    "high school": SchoolLevel.HIGH,
}
SEXES = {"female": Sex.FEMALE, "male": Sex.MALE, "not selected": Sex.NOT_SELECTED}


class Invalid(Exception):
    """A field this importer cannot accept; becomes a `Problem` at the record's location."""

    def __init__(self, field: str, value: Any, reason: str) -> None:
        super().__init__(reason)
        self.field, self.value, self.reason = field, value, reason


# ---------------------------------------------------------------------------------------------
# Field access


def need(record: dict[str, Any], *path: str) -> Any:
    """The value at `path`, or `Invalid` naming the dotted path when absent or empty."""
    value: Any = record
    for part in path:
        value = value.get(part) if isinstance(value, dict) else None
        if value is None or value == "":
            raise Invalid(".".join(path), "(missing)", "required field is missing")
    return value


def opt(record: dict[str, Any], *path: str) -> Any:
    value: Any = record
    for part in path:
        if not isinstance(value, dict):
            return None
        value = value.get(part)
    return value


def ident(record: dict[str, Any], *path: str, limit: int = ID_LENGTH) -> str:
    value = need(record, *path)
    if type(value) is str:  # the common case, first (a million calls in a large import)
        text = value.strip()
    elif isinstance(value, dict | list | float):
        raise Invalid(".".join(path), value, "not an identifier")
    else:
        text = str(value).strip()
    if not text or len(text) > limit:
        raise Invalid(".".join(path), value, f"identifier must be 1–{limit} characters")
    return text


_DATES: dict[str, dt.date] = {}


def day(record: dict[str, Any], *path: str) -> dt.date:
    value = need(record, *path)
    if isinstance(value, str) and value in _DATES:
        return _DATES[value]
    try:
        parsed = parse_date(value)
    except ValueError:
        raise Invalid(".".join(path), value, "not a date") from None
    if isinstance(value, str) and len(_DATES) < 50_000:
        _DATES[value] = parsed
    return parsed


def opt_day(record: dict[str, Any], *path: str) -> dt.date | None:
    return None if opt(record, *path) in (None, "") else day(record, *path)


def year_of(record: dict[str, Any], path: tuple[str, ...], default: dt.date) -> int:
    value = opt(record, *path)
    if value in (None, ""):
        return school_year_of(default)
    try:
        return parse_school_year(value)
    except ValueError:
        raise Invalid(".".join(path), value, "not a school year") from None


def within_year(date: dt.date, year: int, field: str) -> None:
    if not in_school_year(date, year):
        raise Invalid(field, date.isoformat(), f"outside school year {year - 1}–{year % 100:02d}")


def text(record: dict[str, Any], key: str, limit: int = 100) -> str:
    value = record.get(key)
    return "" if value is None else str(value).strip()[:limit]


def descriptor(record: dict[str, Any], key: str) -> str:
    """The code value as spelt by the source (for display); match with `code_value`."""
    value = record.get(key)
    return "" if not value else str(value).rsplit("#", 1)[-1].strip()


# ---------------------------------------------------------------------------------------------
# Organisations and calendars


def stage_lea(batch: Batch, record: dict[str, Any], where: int) -> None:
    lea = ident(record, "localEducationAgencyId")
    _set_district(batch, lea, text(record, "nameOfInstitution", 200))


def _set_district(batch: Batch, lea: str, name: str = "") -> None:
    known = batch.district.get("lea_id")
    if known and known != lea:
        raise Invalid("localEducationAgencyId", lea, f"a second district (first was {known})")
    batch.district["lea_id"] = lea
    if name:
        batch.district["name"] = name


def stage_school(batch: Batch, record: dict[str, Any], where: int) -> None:
    school = ident(record, "schoolId")
    lea = opt(record, "localEducationAgencyReference", "localEducationAgencyId")
    if lea not in (None, ""):
        _set_district(batch, str(lea))
    row: dict[str, Any] = {"name": text(record, "nameOfInstitution", 200) or f"School {school}"}
    level = school_level(record)
    if level:
        row["level"] = level
    address = _address(record.get("addresses"))
    if address:
        row["address"] = address[0][:300]
    batch.put(batch.schools, school, row, where)


def school_level(record: dict[str, Any]) -> str:
    """Elementary, middle or high from the school's categories, else from its grade levels."""
    categories = {
        code_value(c.get("schoolCategoryDescriptor", ""))
        for c in _dicts(record, "schoolCategories")
    }
    levels = {CATEGORY_LEVEL[c] for c in categories if c in CATEGORY_LEVEL}
    if not levels:
        grades = {
            code_value(g.get("gradeLevelDescriptor", "")) for g in _dicts(record, "gradeLevels")
        }
        levels = {GRADE_LEVEL[g] for g in grades if g in GRADE_LEVEL}
    if not levels:
        return ""
    return levels.pop() if len(levels) == 1 else SchoolLevel.OTHER


def _dicts(record: dict[str, Any], key: str) -> list[dict[str, Any]]:
    items = record.get(key) or []
    return [item for item in items if isinstance(item, dict)] if isinstance(items, list) else []


def _address(addresses: Any) -> tuple[str, str, str] | None:
    """(street line, city, postal code) of the first address given."""
    if not isinstance(addresses, list) or not addresses or not isinstance(addresses[0], dict):
        return None
    first = addresses[0]
    street = " ".join(
        str(first.get(k) or "") for k in ("streetNumberName", "apartmentRoomSuiteNumber")
    )
    return (
        street.strip(),
        str(first.get("city") or "")[:100],
        str(first.get("postalCode") or "")[:12],
    )


def stage_calendar(batch: Batch, record: dict[str, Any], where: int) -> None:
    school = ident(record, "schoolReference", "schoolId")
    try:
        year = parse_school_year(need(record, "schoolYear"))
    except ValueError:
        raise Invalid("schoolYear", record.get("schoolYear"), "not a school year") from None
    code = ident(record, "calendarCode", limit=64)
    batch.put(batch.calendars, (school, year, code), {}, where)
    batch.note_year(year)


def stage_calendar_date(batch: Batch, record: dict[str, Any], where: int) -> None:
    date = day(record, "date")
    school = ident(record, "calendarReference", "schoolId")
    year = year_of(record, ("calendarReference", "schoolYear"), date)
    within_year(date, year, "date")
    code = str(opt(record, "calendarReference", "calendarCode") or f"{school}-{year}")[:64]
    events = sorted(
        {code_value(e.get("calendarEventDescriptor", "")) for e in _dicts(record, "calendarEvents")}
        - {""}
    )
    batch.put(batch.calendars, (school, year, code), {}, where)
    row = {"events": events, "is_school_day": bool(SCHOOL_DAY_EVENTS.intersection(events))}
    if batch.put(batch.calendar_dates, (school, year, code, date), row, where):
        batch.note_year(year)


# ---------------------------------------------------------------------------------------------
# People


def stage_student(batch: Batch, record: dict[str, Any], where: int) -> None:
    uid = batch.intern(ident(record, "studentUniqueId"))
    row: dict[str, Any] = {
        "first_name": str(need(record, "firstName")).strip()[:100],
        "last_name": str(need(record, "lastSurname")).strip()[:100],
    }
    birth = opt_day(record, "birthDate")
    if birth is not None:
        row["birth_date"] = birth
    batch.put(batch.students, uid, row, where)


def stage_demographics(batch: Batch, record: dict[str, Any], where: int) -> None:
    """studentEducationOrganizationAssociations: the demographics Ed-Fi keeps per LEA."""
    uid = batch.intern(ident(record, "studentReference", "studentUniqueId"))
    races = sorted({descriptor(r, "raceDescriptor") for r in _dicts(record, "races")} - {""})
    lep = code_value(record.get("limitedEnglishProficiencyDescriptor") or "")
    traits = {
        code_value(c.get("studentCharacteristicDescriptor", ""))
        for c in _dicts(record, "studentCharacteristics")
    }
    row: dict[str, Any] = {
        "sex": SEXES.get(code_value(record.get("sexDescriptor") or ""), Sex.UNKNOWN),
        "race": (races[0] if len(races) == 1 else "Two or more races" if races else "")[:60],
        "hispanic": parse_bool(record.get("hispanicLatinoEthnicity") or False),
        "english_learner": lep.startswith("limited"),
        "disability": bool(_dicts(record, "disabilities")),
        "economic_disadvantage": bool(
            traits & {"economic disadvantaged", "economically disadvantaged"}
        ),
        "home_language": _home_language(record),
    }
    batch.put(batch.students, uid, row, where)


def _home_language(record: dict[str, Any]) -> str:
    for language in _dicts(record, "languages"):
        uses = {code_value(u.get("languageUseDescriptor", "")) for u in _dicts(language, "uses")}
        if "home language" in uses or not uses:
            return code_value(language.get("languageDescriptor", ""))[:8]
    return ""


def stage_contact(batch: Batch, record: dict[str, Any], where: int) -> None:
    """contacts (DS 5) or parents (DS 3–4): a guardian and the home they describe."""
    key = "contactUniqueId" if "contactUniqueId" in record else "parentUniqueId"
    contact = ident(record, key)
    phone = _first(record, "telephones", "telephoneNumber")
    email = _first(record, "electronicMails", "electronicMailAddress")
    row: dict[str, Any] = {
        "first_name": str(need(record, "firstName")).strip()[:100],
        "last_name": str(need(record, "lastSurname")).strip()[:100],
        "phone": phone[:32],
        "email": email[:254],
        "preferred_channel": "phone" if phone else "email" if email else "letter",
    }
    language = _home_language(record)
    if language:
        row["language"] = row["household_language"] = language
    address = _address(record.get("addresses"))
    if address:
        row["household_address"], row["household_city"], row["household_postal_code"] = address
    batch.put(batch.guardians, contact, row, where)


def _first(record: dict[str, Any], key: str, value_key: str) -> str:
    for item in _dicts(record, key):
        if item.get(value_key):
            return str(item[value_key]).strip()
    return ""


def stage_student_contact(batch: Batch, record: dict[str, Any], where: int) -> None:
    uid = batch.intern(ident(record, "studentReference", "studentUniqueId"))
    if "parentReference" in record:
        contact = ident(record, "parentReference", "parentUniqueId")
    else:
        contact = ident(record, "contactReference", "contactUniqueId")
    priority = record.get("contactPriority")
    row = {
        "relation": descriptor(record, "relationDescriptor")[:40],
        "primary": parse_bool(record.get("primaryContactStatus") or False),
        "lives_with": parse_bool(record.get("livesWithIndicator", True)),
        "priority": int(priority) if priority not in (None, "") else 1,
    }
    batch.put(batch.student_guardians, (uid, contact), row, where)


def stage_staff(batch: Batch, record: dict[str, Any], where: int) -> None:
    staff = ident(record, "staffUniqueId")
    row = {
        "first_name": str(need(record, "firstName")).strip()[:100],
        "last_name": str(need(record, "lastSurname")).strip()[:100],
        "email": _first(record, "electronicMails", "electronicMailAddress")[:254],
    }
    batch.put(batch.staff, staff, row, where)


# ---------------------------------------------------------------------------------------------
# Enrollment and sections


def stage_enrollment(batch: Batch, record: dict[str, Any], where: int) -> None:
    uid = batch.intern(ident(record, "studentReference", "studentUniqueId"))
    school = batch.intern(ident(record, "schoolReference", "schoolId"))
    entry = day(record, "entryDate")
    exit_date = opt_day(record, "exitWithdrawDate")
    year = year_of(record, ("schoolYear",), entry)
    row = {
        "school_year": year,
        "exit_date": exit_date,
        "exit_type": descriptor(record, "exitWithdrawTypeDescriptor")[:60],
        "grade": descriptor(record, "entryGradeLevelDescriptor")[:40],
    }
    if batch.put(batch.enrollments, (uid, school, entry), row, where):
        batch.note_year(year)


def section_key(batch: Batch, record: dict[str, Any], path: str = "sectionReference") -> SectionKey:
    school = batch.intern(ident(record, path, "schoolId"))
    section = ident(record, path, "sectionIdentifier", limit=64)
    year = opt(record, path, "schoolYear")
    try:
        return (school, parse_school_year(year) if year else 0, section)
    except ValueError:
        raise Invalid(f"{path}.schoolYear", year, "not a school year") from None


def stage_section(batch: Batch, record: dict[str, Any], where: int) -> None:
    offering = record.get("courseOfferingReference") or {}
    ref = {**offering, "sectionIdentifier": record.get("sectionIdentifier")}
    key = section_key(batch, {"sectionReference": ref})
    if not key[1]:
        raise Invalid(
            "courseOfferingReference.schoolYear", "(missing)", "required field is missing"
        )
    title = text(record, "sectionName", 200) or str(offering.get("localCourseCode") or "")[:200]
    # An explicit section wins over one derived earlier from its attendance events.
    if key in batch.sections:
        batch.sections.rows[key]["title"] = title
    else:
        batch.put(batch.sections, key, {"title": title}, where)
    batch.note_year(key[1])


def stage_student_section(batch: Batch, record: dict[str, Any], where: int) -> None:
    uid = batch.intern(ident(record, "studentReference", "studentUniqueId"))
    key = _dated_section(batch, record, "beginDate")
    row = {"begin_date": opt_day(record, "beginDate"), "end_date": opt_day(record, "endDate")}
    batch.put(batch.section_enrollments, (key, uid), row, where)
    if parse_bool(record.get("homeroomIndicator") or False):
        batch.put(batch.sections, key, {"homeroom": True}, where)


def _dated_section(batch: Batch, record: dict[str, Any], date_field: str) -> SectionKey:
    school, year, section = section_key(batch, record)
    if not year:
        year = school_year_of(day(record, date_field))
    return (school, year, section)


def stage_staff_section(batch: Batch, record: dict[str, Any], where: int) -> None:
    staff = ident(record, "staffReference", "staffUniqueId")
    key = _dated_section(batch, record, "beginDate")
    batch.put(batch.section_staff, (key, staff), {}, where)


# ---------------------------------------------------------------------------------------------
# Attendance (the hot path: a million records in a large district)


def category_of(record: dict[str, Any]) -> str:
    value = need(record, "attendanceEventCategoryDescriptor")
    category = EDFI_CODES.get(code_value(value))
    if category is None:
        raise Invalid("attendanceEventCategoryDescriptor", value, "unknown descriptor")
    return category


def _event_value(record: dict[str, Any]) -> tuple[float | None, str, str | None]:
    try:
        duration = parse_fraction(record.get("eventDuration"))
    except (TypeError, ValueError):
        value = record.get("eventDuration")
        raise Invalid(
            "eventDuration", value, "must be a fraction of a day between 0 and 1"
        ) from None
    stamp = record.get("_lastModifiedDate")
    try:
        recorded = stored_instant(parse_datetime(stamp)) if stamp else None
    except ValueError:
        raise Invalid("_lastModifiedDate", stamp, "not a date and time") from None
    reason = record.get("attendanceEventReason")
    return duration, str(reason)[:200] if reason else "", recorded


def stage_school_event(batch: Batch, record: dict[str, Any], where: int) -> None:
    uid = batch.intern(ident(record, "studentReference", "studentUniqueId"))
    school = batch.intern(ident(record, "schoolReference", "schoolId"))
    date = day(record, "eventDate")
    year = year_of(record, ("sessionReference", "schoolYear"), date)
    within_year(date, year, "eventDate")
    duration, reason, recorded = _event_value(record)
    category = category_of(record)
    batch.events.append(uid, school, "", iso(date), category, duration, reason, recorded, where)
    batch.school_years.add(year)


def stage_section_event(batch: Batch, record: dict[str, Any], where: int) -> None:
    uid = batch.intern(ident(record, "studentReference", "studentUniqueId"))
    date = day(record, "eventDate")
    school, year, section = section_key(batch, record)
    year = year or school_year_of(date)
    within_year(date, year, "eventDate")
    duration, reason, recorded = _event_value(record)
    category = category_of(record)
    batch.events.append(
        uid, school, section, iso(date), category, duration, reason, recorded, where
    )
    derive_section(
        batch,
        (school, year, section),
        uid,
        opt(record, "sectionReference", "localCourseCode"),
        where,
    )
    batch.school_years.add(year)


def derive_section(batch: Batch, key: SectionKey, uid: str, course: Any, where: int) -> None:
    """Sections (and who is in them) named only by section attendance events."""
    if key not in batch.sections:
        batch.put(batch.sections, key, {"title": str(course or "")[:200]}, where)
    batch.section_enrollments.rows.setdefault((key, uid), {})
    batch.section_enrollments.where.setdefault((key, uid), where)


_ISO: dict[dt.date, str] = {}


def iso(date: dt.date) -> str:
    text = _ISO.get(date)
    if text is None:
        text = _ISO[date] = date.isoformat()
    return text


def stage_deleted_school_event(batch: Batch, record: dict[str, Any], where: int) -> None:
    """A `/deletes` entry: the key values of a deleted studentSchoolAttendanceEvent."""
    keys = record.get("keyValues") or record
    batch.deleted_events.append((*_deleted_key(keys), "", *_deleted_day(keys)))


def stage_deleted_section_event(batch: Batch, record: dict[str, Any], where: int) -> None:
    """A `/deletes` entry of a studentSectionAttendanceEvent (its section identifier kept)."""
    keys = record.get("keyValues") or record
    section = ident(keys, "sectionIdentifier", limit=64)
    batch.deleted_events.append((*_deleted_key(keys), section, *_deleted_day(keys)))


def _deleted_key(keys: dict[str, Any]) -> tuple[str, str]:
    return ident(keys, "studentUniqueId"), ident(keys, "schoolId")


def _deleted_day(keys: dict[str, Any]) -> tuple[dt.date, str]:
    date = day(keys, "eventDate")
    value = keys.get("attendanceEventCategoryDescriptor")
    category = EDFI_CODES.get(code_value(value or ""))
    if category is None:
        raise Invalid("attendanceEventCategoryDescriptor", value, "unknown descriptor")
    return date, category


# Resource name → handler, in the order a lake folder is read (parents before children).
HANDLERS: dict[str, Handler] = {
    "localEducationAgencies": stage_lea,
    "schools": stage_school,
    "calendars": stage_calendar,
    "calendarDates": stage_calendar_date,
    "students": stage_student,
    "studentEducationOrganizationAssociations": stage_demographics,
    "contacts": stage_contact,
    "parents": stage_contact,
    "studentContactAssociations": stage_student_contact,
    "studentParentAssociations": stage_student_contact,
    "studentSchoolAssociations": stage_enrollment,
    "staffs": stage_staff,
    "sections": stage_section,
    "staffSectionAssociations": stage_staff_section,
    "studentSectionAssociations": stage_student_section,
    "studentSchoolAttendanceEvents": stage_school_event,
    "studentSectionAttendanceEvents": stage_section_event,
}


# Resource name → handler of its deletions: what Ed-Fi's `/deletes` endpoints return (the API
# sync) or a lake folder's `<resource>Deletes` / `_deletes/<resource>` file holds.
DELETE_HANDLERS: dict[str, Handler] = {
    "studentSchoolAttendanceEvents": stage_deleted_school_event,
    "studentSectionAttendanceEvents": stage_deleted_section_event,
}


def stage(batch: Batch, handler: Handler, record: Any, where: int) -> bool:
    """Run one handler, turning anything wrong with the record into a problem."""
    if not isinstance(record, dict):
        batch.problem(where, "", type(record).__name__, "not a JSON object")
        return False
    try:
        handler(batch, record, where)
    except Invalid as bad:
        batch.problem(where, bad.field, bad.value, bad.reason)
        return False
    except (TypeError, ValueError, AttributeError) as bad:
        batch.problem(where, "", "", f"cannot read record: {bad}")
        return False
    return True
