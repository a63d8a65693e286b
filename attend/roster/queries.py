"""Reads of the roster, always scoped to what the asking user may see (`for_user`)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.db import models
from django.db.models import Q

from attend.accounts.choices import Role

if TYPE_CHECKING:
    from attend.accounts.models import User
    from attend.roster.models import Student  # noqa: F401 (named in a string below)


def _current_enrollments(user: User) -> Any:
    from attend.roster.models import Enrollment

    return Enrollment.objects.filter(
        school__in=user.schools.all(),
        school_year=models.F("school__district__current_school_year"),
    ).values("student_id")


def _taught_students(user: User) -> Any:
    from attend.roster.models import SectionEnrollment

    if not user.staff_unique_id:
        return SectionEnrollment.objects.none().values("student_id")
    return SectionEnrollment.objects.filter(
        section__teachers__staff_unique_id=user.staff_unique_id,
        section__school_year=models.F("section__school__district__current_school_year"),
    ).values("student_id")


class StudentQuerySet(models.QuerySet["Student"]):
    def for_user(self, user: User) -> StudentQuerySet:
        """Students whose records this user has a legitimate educational interest in.

        1. Nobody outside the user's district; operators and analysts see no student records.
        2. District admins see the district; supervisors and counselors their schools'
           students this school year; officers those plus their caseload; teachers the
           students in sections they teach.
        """
        if not (user.is_authenticated and user.sees_student_records and user.district_id):
            return self.none()
        scoped = self.filter(district_id=user.district_id)
        if user.role == Role.DISTRICT_ADMIN:
            return scoped
        if user.role in (Role.SUPERVISOR, Role.COUNSELOR):
            return scoped.filter(pk__in=_current_enrollments(user))
        if user.role == Role.OFFICER:
            caseload = Q(caseload_assignments__officer=user)
            return scoped.filter(Q(pk__in=_current_enrollments(user)) | caseload).distinct()
        if user.role == Role.TEACHER:
            return scoped.filter(pk__in=_taught_students(user))
        return self.none()


def schools_for_user(user: User) -> Any:
    """Schools a user may look at: district-wide roles see all, others their own."""
    from attend.roster.models import School

    if not (user.is_authenticated and user.district_id) or user.role == Role.OPERATOR:
        return School.objects.none()
    district_wide = (Role.DISTRICT_ADMIN, Role.ANALYST)
    scoped = School.objects.filter(district_id=user.district_id)
    return scoped if user.role in district_wide else scoped.filter(pk__in=user.schools.all())
