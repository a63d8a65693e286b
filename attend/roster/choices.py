from django.db import models


class SchoolLevel(models.TextChoices):
    ELEMENTARY = "elementary", "Elementary"
    MIDDLE = "middle", "Middle"
    HIGH = "high", "High"
    OTHER = "other", "Other"


class Sex(models.TextChoices):
    FEMALE = "female", "Female"
    MALE = "male", "Male"
    NOT_SELECTED = "not_selected", "Not selected"
    UNKNOWN = "", "Unknown"


class ContactChannel(models.TextChoices):
    PHONE = "phone", "Phone call"
    SMS = "sms", "Text message"
    EMAIL = "email", "E-mail"
    LETTER = "letter", "Letter"


# Ed-Fi calendar events that make a date a school day (ATTENDANCE-RULES rule 1).
SCHOOL_DAY_EVENTS = frozenset(
    {"instructional day", "make-up day", "student late arrival/early dismissal"}
)

# Ed-Fi exit types whose association is ignored entirely (ATTENDANCE-RULES rule 2).
IGNORED_EXIT_TYPES = frozenset({"no show", "invalid enrollment"})
