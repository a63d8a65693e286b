"""The demo district: generated once, imported once, with one account per role.

Everything here is idempotent so `make demo` can be run again and reuses what exists.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

from django.conf import settings
from django.db import transaction

from attend.accounts import actions as account_actions
from attend.accounts.choices import Role
from attend.accounts.models import User
from attend.roster.models import District, School, Student

# A fixed, published secret: demo accounts only, so a visitor can pass two-factor sign-in.
DEMO_TOTP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
DEMO_PASSWORD = "attend-demo"


@dataclass(frozen=True)
class DemoAccount:
    username: str
    role: Role
    first_name: str
    schools: str  # "first", "second" or "" (district-wide or none)


DEMO_ACCOUNTS = (
    DemoAccount("admin", Role.DISTRICT_ADMIN, "Dana", ""),
    DemoAccount("officer", Role.OFFICER, "Olivia", "first"),
    DemoAccount("officer2", Role.OFFICER, "Omar", "first"),
    DemoAccount("supervisor", Role.SUPERVISOR, "Sam", "first"),
    DemoAccount("counselor", Role.COUNSELOR, "Chris", "first"),
    DemoAccount("teacher", Role.TEACHER, "Terry", "first"),
    DemoAccount("operator", Role.OPERATOR, "Opal", ""),
    DemoAccount("analyst", Role.ANALYST, "Ana", ""),
    DemoAccount("outsider", Role.OFFICER, "Otto", "second"),
)


def lake_dir() -> Path:
    return Path(settings.VAR_DIR) / "demo-district"


def ensure_district(*, students: int, seed: int, log: object = print) -> District:
    """1. Generate the lake folder unless it exists. 2. Import it unless already imported."""
    from attend.roster.actions import import_edfi
    from attend.roster.generate import generate

    folder = lake_dir()
    if not (folder / "_truth" / "manifest.json").exists():
        log(f"Generating a synthetic district of {students} students in {folder} …")  # type: ignore[operator]
        # The demo shows the school year that contains today, with attendance up to today.
        generate(students=students, seed=seed, out=folder, fmt="ndjson", as_of=date.today())
    if not Student.objects.exists():
        log("Importing it …")  # type: ignore[operator]
        import_edfi(path=folder, by=None)
    district = District.objects.order_by("pk").first()
    if district is None:
        raise RuntimeError(f"the import of {folder} created no district")
    ensure_insights(log)
    return district


def ensure_insights(log: object = print) -> None:
    """Snapshots as of today, so every screen has its rates, tiers and warnings."""
    from attend.insights.models import InsightsRun
    from attend.insights.services import run_app_mode

    today = date.today()
    if not InsightsRun.objects.filter(as_of=today).exists():
        log("Computing attendance insights …")  # type: ignore[operator]
        run_app_mode(as_of=today)


@transaction.atomic
def ensure_accounts(district: District) -> list[User]:
    schools = list(School.objects.filter(district=district).order_by("school_id"))
    users = []
    for account in DEMO_ACCOUNTS:
        user = User.objects.filter(username=account.username).first()
        if user is None:
            user = _create(account, district, schools)
        users.append(user)
    _fill_caseloads(users, schools)
    ensure_rules()
    return users


def ensure_rules() -> None:
    """The state truancy rules once the caseloads exist, so officers' worklists show the legal
    steps due for their students (a daily import or insights run keeps them current)."""
    from attend.cases.actions import run_rules_job
    from attend.jobs.models import Job

    if not Job.objects.filter(kind="cases.rules").exists():
        run_rules_job(as_of=date.today(), why="demo set-up")


def _create(account: DemoAccount, district: District, schools: list[School]) -> User:
    picked = {"first": schools[:1], "second": schools[1:2]}.get(account.schools, [])
    user = account_actions.create_user(
        username=account.username,
        password=DEMO_PASSWORD,
        role=account.role,
        district=district,
        schools=picked,
        first_name=account.first_name,
        last_name="Demo",
    )
    if user.needs_two_factor:
        account_actions.enrol_totp_with_secret(user=user, secret=DEMO_TOTP_SECRET)
    if account.role == Role.TEACHER:
        _link_teacher(user, picked)
    return user


def _link_teacher(user: User, schools: list[School]) -> None:
    """Give the demo teacher the first homeroom/section of their school, if there is one."""
    from attend.roster.models import Section, Staff

    section = Section.objects.filter(school__in=schools).order_by("section_id").first()
    if section is None:
        return
    staff, _ = Staff.objects.get_or_create(
        staff_unique_id=f"DEMO-{user.username}",
        defaults={"first_name": user.first_name, "last_name": user.last_name},
    )
    section.teachers.add(staff)
    user.staff_unique_id = staff.staff_unique_id
    user.save(update_fields=["staff_unique_id"])


def _fill_caseloads(users: list[User], schools: list[School]) -> None:
    """Each demo officer gets up to 40 students of their school, by most absences."""
    from django.db.models import Count, Q

    for officer in (u for u in users if u.role == Role.OFFICER and not u.caseload.exists()):
        pool = Student.objects.for_user(officer).annotate(
            absences=Count("attendance_events", filter=Q(attendance_events__section_id=""))
        )
        students = list(pool.order_by("-absences", "pk")[:40])
        account_actions.assign_caseload(officer=officer, students=students, assigned_by=None)
