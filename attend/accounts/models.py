from __future__ import annotations

from typing import ClassVar

from django.contrib.auth.models import AbstractUser, UserManager
from django.db import models
from django.utils import timezone

from attend.accounts.choices import AGGREGATE_ROLES, STUDENT_RECORD_ROLES, TWO_FACTOR_ROLES, Role


class User(AbstractUser):
    """A person who signs in. The role says what kind of work they do; the scope (district,
    schools, caseload) says whose records that work touches."""

    role = models.CharField(max_length=20, choices=Role.choices, default=Role.TEACHER)
    district = models.ForeignKey(
        "roster.District", null=True, blank=True, on_delete=models.PROTECT, related_name="users"
    )
    schools = models.ManyToManyField("roster.School", blank=True, related_name="staff_users")
    # Links a teacher's account to the Staff row their sections name.
    staff_unique_id = models.CharField(max_length=32, blank=True, db_index=True)
    totp_secret = models.CharField(max_length=64, blank=True)
    totp_confirmed_at = models.DateTimeField(null=True, blank=True)
    failed_logins = models.PositiveIntegerField(default=0)
    locked_until = models.DateTimeField(null=True, blank=True)

    objects: ClassVar[UserManager[User]] = UserManager()  # type: ignore[assignment,misc]

    class Meta:
        ordering = ["username"]

    @property
    def needs_two_factor(self) -> bool:
        return self.role in TWO_FACTOR_ROLES

    @property
    def sees_student_records(self) -> bool:
        return self.role in STUDENT_RECORD_ROLES

    @property
    def sees_aggregates(self) -> bool:
        return self.role in AGGREGATE_ROLES

    def is_locked(self) -> bool:
        return self.locked_until is not None and self.locked_until > timezone.now()


class CaseloadAssignment(models.Model):
    """An officer's caseload: the students they are responsible for following up."""

    officer = models.ForeignKey(User, on_delete=models.CASCADE, related_name="caseload")
    student = models.ForeignKey(
        "roster.Student", on_delete=models.CASCADE, related_name="caseload_assignments"
    )
    assigned_at = models.DateTimeField(default=timezone.now)
    assigned_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["officer", "student"], name="unique_caseload_student")
        ]
