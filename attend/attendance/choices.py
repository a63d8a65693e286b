from django.db import models


class Category(models.TextChoices):
    """Ed-Fi AttendanceEventCategoryDescriptor code values Attend counts (ATTENDANCE-RULES 6)."""

    UNEXCUSED = "unexcused", "Unexcused Absence"
    EXCUSED = "excused", "Excused Absence"
    PARTIAL = "partial", "Partial"
    EARLY_DEPARTURE = "early_departure", "Early departure"
    TARDY = "tardy", "Tardy"
    PRESENT = "present", "In Attendance"


# Severity order for several events on one day (ATTENDANCE-RULES 7): higher wins.
SEVERITY = {
    Category.UNEXCUSED: 5,
    Category.EXCUSED: 4,
    Category.PARTIAL: 3,
    Category.EARLY_DEPARTURE: 2,
    Category.TARDY: 1,
    Category.PRESENT: 0,
}

# Ed-Fi code values (lower-cased) → category; "present" is Ed-Fi's alternative spelling.
EDFI_CODES = {
    "unexcused absence": Category.UNEXCUSED,
    "excused absence": Category.EXCUSED,
    "partial": Category.PARTIAL,
    "early departure": Category.EARLY_DEPARTURE,
    "tardy": Category.TARDY,
    "in attendance": Category.PRESENT,
    "present": Category.PRESENT,
}


class Source(models.TextChoices):
    EDFI = "edfi", "Ed-Fi"
    ONEROSTER = "oneroster", "OneRoster"
    SIS_CSV = "sis_csv", "SIS export"
    MANUAL = "manual", "Entered in Attend"
    GENERATED = "generated", "Synthetic district"
