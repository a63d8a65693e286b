from django.db import models


class Role(models.TextChoices):
    DISTRICT_ADMIN = "district_admin", "District admin"
    OFFICER = "officer", "Attendance officer"
    SUPERVISOR = "supervisor", "Supervisor"
    COUNSELOR = "counselor", "Counselor"
    TEACHER = "teacher", "Teacher"
    OPERATOR = "operator", "Monitoring operator"
    ANALYST = "analyst", "Analyst"


# Roles whose accounts can reach student records or raise alarms must use a second factor.
TWO_FACTOR_ROLES = frozenset({Role.DISTRICT_ADMIN, Role.OFFICER, Role.OPERATOR})

# Roles with a reason to see individual student records (scoped further by queries.py).
STUDENT_RECORD_ROLES = frozenset(
    {Role.DISTRICT_ADMIN, Role.OFFICER, Role.SUPERVISOR, Role.COUNSELOR, Role.TEACHER}
)

# Roles that see district and school aggregates (suppressed small cells, no names).
AGGREGATE_ROLES = frozenset({Role.DISTRICT_ADMIN, Role.SUPERVISOR, Role.ANALYST, Role.OFFICER})
