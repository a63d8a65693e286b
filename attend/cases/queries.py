"""Reads of casework, always scoped to the asking user (`Case.objects.for_user`)."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from django.db import models
from django.db.models import Q

from attend.accounts.choices import Role
from attend.cases.choices import REFERRAL_GRANTS_ACCESS, SEALED_READERS

if TYPE_CHECKING:
    from attend.accounts.models import User
    from attend.cases.models import Case, RootCause


class CaseQuerySet(models.QuerySet["Case"]):
    def for_user(self, user: User) -> CaseQuerySet:
        """Cases this user has a legitimate educational interest in.

        1. Nobody outside the user's district; operators and analysts see no cases.
        2. District admins: the district. Supervisors: students of their schools.
        3. Officers: cases they own or are on the team of, plus their caseload and schools.
        4. Counselors and teachers: only cases with a live referral addressed to them.
        """
        from attend.roster.models import Student

        if not (user.is_authenticated and user.sees_student_records and user.district_id):
            return self.none()
        scoped = self.filter(student__district_id=user.district_id)
        if user.role == Role.DISTRICT_ADMIN:
            return scoped
        if user.role == Role.SUPERVISOR:
            return scoped.filter(student__in=Student.objects.for_user(user))
        if user.role == Role.OFFICER:
            mine = Q(owner=user) | Q(team=user) | Q(student__in=Student.objects.for_user(user))
            return scoped.filter(pk__in=self.model.objects.filter(mine).values("pk"))
        return scoped.filter(
            referrals__to_user=user, referrals__status__in=REFERRAL_GRANTS_ACCESS
        ).distinct()

    def open(self) -> CaseQuerySet:
        return self.exclude(status="closed")


def sees_sealed(user: User) -> bool:
    """Health, mental-health and child-welfare details: counselor, supervisor, admin only."""
    return getattr(user, "role", None) in SEALED_READERS


def sees_root_cause(user: User, root: RootCause, case: Case) -> bool:
    """Whether `user` may read this assessment's cause and detail.

    Unsealed causes: anyone who may open the case. Sealed ones (health, mental health, child
    welfare): the roles in SEALED_READERS, and also the officer who owns the case for the
    details they recorded themselves. The owner has a legitimate educational interest: they
    learned it from the family, they plan the interventions around it, and hiding their own
    note from them protects nobody. A colleague's sealed note stays sealed to them, and a
    former owner loses sight of it when the case is reassigned.
    """
    if not root.sealed or sees_sealed(user):
        return True
    return root.assessed_by_id == user.pk and case.owner_id == user.pk


def watch_students(user: User, school_year: int, today: dt.date, threshold: int = 3) -> Any:
    """Students in the officer's scope with ≥ `threshold` unexcused absences this year.

    Stand-in until the insights engine's flags land: a plain count of current-year unexcused
    daily events from the ledger (`AttendanceEvent`), not the engine's resolved day statuses.
    """
    from django.db.models import Count

    from attend.lib.dates import school_year_bounds
    from attend.roster.models import Student

    start, _ = school_year_bounds(school_year)
    unexcused = Q(
        attendance_events__category="unexcused",
        attendance_events__section_id="",
        attendance_events__deleted_at__isnull=True,
        attendance_events__event_date__range=(start, today),
    )
    return (
        Student.objects.for_user(user)
        .annotate(unexcused=Count("attendance_events", filter=unexcused, distinct=True))
        .filter(unexcused__gte=threshold)
        .order_by("-unexcused", "last_name", "pk")
    )


def rules_candidates(*, school_year: int, since: dt.datetime | None = None) -> set[int]:
    """Students the truancy rules could newly classify or reclassify (system use, unscoped).

    1. Students with an unexcused absence or a tardy this school year — the only events the
       rule sets count — and students with an open case (an excuse may undo a classification).
    2. With `since` (after an import): only those whose ledger rows were written or corrected
       at or after it, so a daily import re-checks the day's changes, not the whole district.
    """
    from attend.attendance.choices import Category
    from attend.attendance.models import AttendanceCorrection, AttendanceEvent
    from attend.cases.models import Case
    from attend.lib.dates import school_year_bounds

    start, end = school_year_bounds(school_year)
    year = AttendanceEvent.objects.filter(event_date__range=(start, end))
    counted = year.filter(
        deleted_at__isnull=True, category__in=(Category.UNEXCUSED, Category.TARDY)
    )
    candidates = set(counted.values_list("student_id", flat=True).distinct())
    candidates |= set(Case.objects.open().values_list("student_id", flat=True))
    if since is None:
        return candidates
    touched = set(year.filter(imported_at__gte=since).values_list("student_id", flat=True))
    corrected = AttendanceCorrection.objects.filter(changed_at__gte=since)
    touched |= set(corrected.values_list("event__student_id", flat=True))
    return candidates & touched
