"""The roster: who is enrolled where, on which school days, and how to reach their family.

Natural keys follow Ed-Fi (schoolId, studentUniqueId, ...) so imports are idempotent.
"""

from __future__ import annotations

from django.db import models

from attend.roster.choices import ContactChannel, SchoolLevel, Sex
from attend.roster.queries import StudentQuerySet

# Natural keys: Ed-Fi ids and OneRoster sourcedIds, which are often GUIDs (36 characters).
ID_LENGTH = 64


class District(models.Model):
    lea_id = models.CharField("LEA id", max_length=ID_LENGTH, unique=True)
    name = models.CharField(max_length=200)
    state = models.CharField(max_length=2, default="CA")
    # The year whose enrollments scope school staff; imports and the generator set it.
    current_school_year = models.PositiveSmallIntegerField(default=2026)

    def __str__(self) -> str:
        return self.name


class School(models.Model):
    district = models.ForeignKey(District, on_delete=models.PROTECT, related_name="schools")
    school_id = models.CharField("Ed-Fi schoolId", max_length=ID_LENGTH, unique=True)
    name = models.CharField(max_length=200)
    level = models.CharField(max_length=12, choices=SchoolLevel.choices, default=SchoolLevel.OTHER)
    address = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Calendar(models.Model):
    school = models.ForeignKey(School, on_delete=models.CASCADE, related_name="calendars")
    school_year = models.PositiveSmallIntegerField(help_text="Ed-Fi ending year: 2026 = 2025–26")
    code = models.CharField(max_length=64)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["school", "school_year", "code"], name="unique_calendar"
            )
        ]

    def __str__(self) -> str:
        return f"{self.school} {self.school_year} {self.code}"


class CalendarDate(models.Model):
    calendar = models.ForeignKey(Calendar, on_delete=models.CASCADE, related_name="dates")
    date = models.DateField()
    # Ed-Fi calendar event code values, lower-cased ("instructional day", "holiday", ...).
    events = models.JSONField(default=list)
    is_school_day = models.BooleanField(default=False)

    class Meta:
        ordering = ["date"]
        constraints = [
            models.UniqueConstraint(fields=["calendar", "date"], name="unique_calendar_date")
        ]


class Household(models.Model):
    """Where a student lives and with whom; siblings share one household."""

    district = models.ForeignKey(District, on_delete=models.PROTECT, related_name="households")
    address = models.CharField(max_length=300, blank=True)
    city = models.CharField(max_length=100, blank=True)
    postal_code = models.CharField(max_length=12, blank=True)
    language = models.CharField(max_length=8, default="eng", help_text="ISO 639-2 code")

    def __str__(self) -> str:
        return self.address or f"Household {self.pk}"


class Student(models.Model):
    district = models.ForeignKey(District, on_delete=models.PROTECT, related_name="students")
    student_unique_id = models.CharField(max_length=ID_LENGTH, unique=True)
    first_name = models.CharField(max_length=100)
    last_name = models.CharField(max_length=100)
    birth_date = models.DateField(null=True, blank=True)
    household = models.ForeignKey(
        Household, null=True, blank=True, on_delete=models.SET_NULL, related_name="students"
    )
    # Demographics feed subgroup reporting and the fairness audit, never a risk reason.
    sex = models.CharField(max_length=12, choices=Sex.choices, blank=True)
    race = models.CharField(max_length=60, blank=True)
    hispanic = models.BooleanField(default=False)
    english_learner = models.BooleanField(default=False)
    disability = models.BooleanField(default=False)
    economic_disadvantage = models.BooleanField(default=False)
    home_language = models.CharField(max_length=8, blank=True)

    objects = StudentQuerySet.as_manager()

    class Meta:
        ordering = ["last_name", "first_name"]
        indexes = [models.Index(fields=["last_name", "first_name"])]

    def __str__(self) -> str:
        return f"{self.first_name} {self.last_name}"


class Guardian(models.Model):
    household = models.ForeignKey(
        Household, null=True, blank=True, on_delete=models.SET_NULL, related_name="guardians"
    )
    contact_unique_id = models.CharField(max_length=ID_LENGTH, unique=True)
    first_name = models.CharField(max_length=100)
    last_name = models.CharField(max_length=100)
    language = models.CharField(max_length=8, default="eng")
    phone = models.CharField(max_length=32, blank=True)
    email = models.EmailField(blank=True)
    preferred_channel = models.CharField(
        max_length=8, choices=ContactChannel.choices, default=ContactChannel.PHONE
    )
    # Cleared when a call or letter bounces; casework asks for a new way to reach them.
    contact_valid = models.BooleanField(default=True)

    def __str__(self) -> str:
        return f"{self.first_name} {self.last_name}"


class StudentGuardian(models.Model):
    student = models.ForeignKey(Student, on_delete=models.CASCADE, related_name="guardian_links")
    guardian = models.ForeignKey(Guardian, on_delete=models.CASCADE, related_name="student_links")
    relation = models.CharField(max_length=40, blank=True)
    primary = models.BooleanField(default=False)
    lives_with = models.BooleanField(default=True)
    priority = models.PositiveSmallIntegerField(default=1)

    class Meta:
        ordering = ["priority"]
        constraints = [
            models.UniqueConstraint(fields=["student", "guardian"], name="unique_student_guardian")
        ]


class Enrollment(models.Model):
    """An Ed-Fi StudentSchoolAssociation: entry date inclusive, exit date inclusive by default."""

    student = models.ForeignKey(Student, on_delete=models.CASCADE, related_name="enrollments")
    school = models.ForeignKey(School, on_delete=models.PROTECT, related_name="enrollments")
    school_year = models.PositiveSmallIntegerField()
    entry_date = models.DateField()
    exit_date = models.DateField(null=True, blank=True)
    exit_type = models.CharField(max_length=60, blank=True)
    grade = models.CharField(max_length=40, blank=True)

    class Meta:
        ordering = ["entry_date"]
        constraints = [
            models.UniqueConstraint(
                fields=["student", "school", "entry_date"], name="unique_enrollment"
            )
        ]
        indexes = [models.Index(fields=["school", "school_year"])]

    def __str__(self) -> str:
        return f"{self.student} at {self.school} from {self.entry_date}"


class Staff(models.Model):
    staff_unique_id = models.CharField(max_length=ID_LENGTH, unique=True)
    first_name = models.CharField(max_length=100)
    last_name = models.CharField(max_length=100)
    email = models.EmailField(blank=True)
    schools = models.ManyToManyField(School, blank=True, related_name="staff")

    def __str__(self) -> str:
        return f"{self.first_name} {self.last_name}"


class Section(models.Model):
    """A class period or homeroom; teachers see the students enrolled in theirs."""

    school = models.ForeignKey(School, on_delete=models.CASCADE, related_name="sections")
    school_year = models.PositiveSmallIntegerField()
    section_id = models.CharField(max_length=64)
    title = models.CharField(max_length=200, blank=True)
    homeroom = models.BooleanField(default=False)
    teachers = models.ManyToManyField(Staff, blank=True, related_name="sections")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["school", "school_year", "section_id"], name="unique_section"
            )
        ]

    def __str__(self) -> str:
        return self.title or self.section_id


class SectionEnrollment(models.Model):
    section = models.ForeignKey(Section, on_delete=models.CASCADE, related_name="enrollments")
    student = models.ForeignKey(
        Student, on_delete=models.CASCADE, related_name="section_enrollments"
    )
    begin_date = models.DateField(null=True, blank=True)
    end_date = models.DateField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["section", "student"], name="unique_section_student")
        ]
