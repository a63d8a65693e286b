"""The shared test cast (house style 12): every feature test meets the same people.

- Olivia, an attendance officer at Lincoln Elementary, with Ada on her caseload;
- Omar, her colleague at the same school, who may see Ada's record;
- Otto, an officer at Roosevelt High, an outsider who must be refused;
- Sam the supervisor and Chris the counselor at Lincoln; Terry, Ada's homeroom teacher;
- Opal, a monitoring-centre operator (safety data only); Ana, an analyst (aggregates only);
- Dana, the district admin; and Nina, the admin of another district.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.test import Client, TestCase

from attend.accounts.choices import Role
from attend.accounts.middleware import SESSION_KEY
from attend.accounts.models import CaseloadAssignment, User
from attend.roster.models import (
    Calendar,
    CalendarDate,
    District,
    Enrollment,
    School,
    Section,
    SectionEnrollment,
    Staff,
    Student,
)

SCHOOL_YEAR = 2026
PASSWORD = "correct horse battery"


CAST = ("olivia", "omar", "otto", "sam", "chris", "terry", "opal", "ana", "dana", "nina")
ALL_OK = dict.fromkeys(CAST, 200)


def only(allowed: dict[str, int], default: int = 403) -> dict[str, int]:
    """A permission-matrix row: these statuses for the named users, `default` for the rest."""
    return {name: allowed.get(name, default) for name in CAST}


class CastMixin:
    district: District
    other_district: District
    lincoln: School
    roosevelt: School
    hill: School
    ada: Student
    ben: Student
    cora: Student
    zed: Student
    olivia: User
    omar: User
    otto: User
    sam: User
    chris: User
    terry: User
    opal: User
    ana: User
    dana: User
    nina: User

    @classmethod
    def make_cast(cls) -> None:
        cls.district = District.objects.create(
            lea_id="100", name="Riverside Unified", current_school_year=SCHOOL_YEAR
        )
        cls.other_district = District.objects.create(lea_id="200", name="Hillcrest USD")
        cls.lincoln = School.objects.create(
            district=cls.district, school_id="100001", name="Lincoln Elementary", level="elementary"
        )
        cls.roosevelt = School.objects.create(
            district=cls.district, school_id="100002", name="Roosevelt High", level="high"
        )
        cls.hill = School.objects.create(
            district=cls.other_district, school_id="200001", name="Hillcrest Middle"
        )
        cls.ada = cls._student("S1", "Ada", "Lovelace", cls.lincoln)
        cls.ben = cls._student("S2", "Ben", "Okafor", cls.lincoln)
        cls.cora = cls._student("S3", "Cora", "Diaz", cls.roosevelt)
        cls.zed = cls._student("S9", "Zed", "Other", cls.hill, district=cls.other_district)
        cls._people()

    @classmethod
    def _student(
        cls, sid: str, first: str, last: str, school: School, district: District | None = None
    ) -> Student:
        student = Student.objects.create(
            district=district or cls.district,
            student_unique_id=sid,
            first_name=first,
            last_name=last,
        )
        Enrollment.objects.create(
            student=student,
            school=school,
            school_year=SCHOOL_YEAR,
            entry_date=dt.date(2025, 9, 2),
            grade="Third grade",
        )
        return student

    @classmethod
    def _user(cls, username: str, role: Role, *schools: School, **extra: Any) -> User:
        user = User.objects.create_user(
            username=username,
            password=PASSWORD,
            role=role,
            district=extra.pop("district", cls.district),
            **extra,
        )
        user.schools.set(schools)
        return user

    @classmethod
    def _people(cls) -> None:
        cls.olivia = cls._user("olivia", Role.OFFICER, cls.lincoln)
        cls.omar = cls._user("omar", Role.OFFICER, cls.lincoln)
        cls.otto = cls._user("otto", Role.OFFICER, cls.roosevelt)
        cls.sam = cls._user("sam", Role.SUPERVISOR, cls.lincoln)
        cls.chris = cls._user("chris", Role.COUNSELOR, cls.lincoln)
        cls.terry = cls._user("terry", Role.TEACHER, cls.lincoln, staff_unique_id="T1")
        cls.opal = cls._user("opal", Role.OPERATOR)
        cls.ana = cls._user("ana", Role.ANALYST)
        cls.dana = cls._user("dana", Role.DISTRICT_ADMIN)
        cls.nina = cls._user("nina", Role.DISTRICT_ADMIN, district=cls.other_district)
        CaseloadAssignment.objects.create(officer=cls.olivia, student=cls.ada)
        homeroom = Section.objects.create(
            school=cls.lincoln, school_year=SCHOOL_YEAR, section_id="HR-3A", homeroom=True
        )
        terry_staff = Staff.objects.create(staff_unique_id="T1", first_name="Terry", last_name="T")
        homeroom.teachers.add(terry_staff)
        SectionEnrollment.objects.create(section=homeroom, student=cls.ada)

    @classmethod
    def make_calendar(
        cls, school: School, start: dt.date, days: int, school_year: int = SCHOOL_YEAR
    ) -> None:
        """Weekdays are instructional days, weekends are not (enough for most tests)."""
        calendar = Calendar.objects.create(school=school, school_year=school_year, code="main")
        for offset in range(days):
            day = start + dt.timedelta(days=offset)
            weekday = day.weekday() < 5
            CalendarDate.objects.create(
                calendar=calendar,
                date=day,
                events=["instructional day"] if weekday else [],
                is_school_day=weekday,
            )


class BaseTestCase(CastMixin, TestCase):
    @classmethod
    def setUpTestData(cls) -> None:
        cls.make_cast()

    def login(self, user: User) -> Client:
        """Signed in, second factor passed: what a person sees after a normal sign-in."""
        self.client.force_login(user)
        session = self.client.session
        session[SESSION_KEY] = True
        session.save()
        return self.client
