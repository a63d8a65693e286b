"""Every URL × every member of the cast → the status they must get.

New URLs fail `test_it_covers_every_url` until they are added to a matrix: access rules are
decided on purpose, never by default. Each app may keep its own rows in
`attend/<app>/tests/permissions.py`: a `MATRIX` dict like the one below and, optionally,
`setup(test_class)` to create the objects its URLs name.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable, Iterator
from types import ModuleType
from typing import Any

from django.urls import URLPattern, URLResolver, get_resolver, reverse

import attend
from attend.jobs.actions import create_job
from attend.jobs.models import Job
from attend.test import ALL_OK, BaseTestCase, only

RECORD_ROLES = {n: 200 for n in ("olivia", "omar", "otto", "sam", "chris", "terry", "dana", "nina")}
# Ada (Lincoln, Olivia's caseload, Terry's homeroom): Otto is at another school, Nina in
# another district — both get 404, as if Ada did not exist.
ADA = only(
    {
        **dict.fromkeys(("olivia", "omar", "sam", "chris", "terry", "dana"), 200),
        "otto": 404,
        "nina": 404,
    }
)
ADMIN_ONLY = only({"dana": 200, "nina": 200})
# Jobs: Dana's job is visible to Dana; analysts, supervisors and officers see only their own.
JOB_READERS = ("dana", "nina", "ana", "sam", "olivia", "omar", "otto")
JOB = only({**dict.fromkeys(JOB_READERS, 404), "dana": 200})

MATRIX: dict[str, tuple[Callable[[Any], dict[str, Any]], dict[str, int]]] = {
    "home": (lambda t: {}, ALL_OK),
    "roster:schools": (lambda t: {}, ALL_OK),
    "roster:students": (lambda t: {}, only(RECORD_ROLES)),
    "roster:student": (lambda t: {"student_id": t.ada.student_unique_id}, ADA),
    "audit:access": (lambda t: {}, ADMIN_ONLY),
    "audit:changes": (lambda t: {}, ADMIN_ONLY),
    "jobs:list": (lambda t: {}, only(dict.fromkeys(JOB_READERS, 200))),
    "jobs:detail": (lambda t: {"pk": t.job.pk}, JOB),
}


def _app_modules() -> list[ModuleType]:
    found = []
    for app in pkgutil.iter_modules(attend.__path__):
        try:
            found.append(importlib.import_module(f"attend.{app.name}.tests.permissions"))
        except ModuleNotFoundError:
            continue
    return found


APP_MODULES = _app_modules()
for _module in APP_MODULES:
    MATRIX.update(_module.MATRIX)

# Sign-in pages every visitor reaches; they are tested in test_login.py.
OPEN = {"accounts:login", "accounts:logout", "accounts:verify", "accounts:enrol", "healthz"}


def _names(patterns: list[Any], prefix: str = "") -> Iterator[str]:
    for p in patterns:
        if isinstance(p, URLResolver):
            if p.namespace == "admin":
                continue
            yield from _names(p.url_patterns, f"{prefix}{p.namespace}:" if p.namespace else prefix)
        elif isinstance(p, URLPattern) and p.name:
            yield prefix + p.name


class PermissionMatrixTests(BaseTestCase):
    job: Job

    @classmethod
    def setUpTestData(cls) -> None:
        super().setUpTestData()
        cls.job = create_job(kind="import", title="Import", created_by=cls.dana)
        for module in APP_MODULES:
            if hasattr(module, "setup"):
                module.setup(cls)

    def test_it_covers_every_url(self) -> None:
        self.assertEqual(set(_names(get_resolver().url_patterns)) - OPEN, set(MATRIX))

    def test_it_gives_each_role_exactly_its_access(self) -> None:
        failures = []
        for name, (kwargs, expected) in MATRIX.items():
            url = reverse(name, kwargs=kwargs(self))
            for username, status in expected.items():
                self.login(getattr(self, username))
                got = self.client.get(url).status_code
                if got != status:
                    failures.append(f"{username} GET {url}: {got}, expected {status}")
        self.assertEqual(failures, [])

    def test_it_sends_anonymous_visitors_to_sign_in(self) -> None:
        for name, (kwargs, _) in MATRIX.items():
            response = self.client.get(reverse(name, kwargs=kwargs(self)))
            self.assertEqual(response.status_code, 302, name)
            self.assertIn(reverse("accounts:login"), response["Location"])

    def test_it_keeps_django_admin_to_staff(self) -> None:
        self.login(self.dana)
        self.assertEqual(self.client.get("/django-admin/").status_code, 302)

    def test_it_lists_only_students_in_scope(self) -> None:
        expected = {
            "olivia": {"S1", "S2"},
            "otto": {"S3"},
            "terry": {"S1"},
            "dana": {"S1", "S2", "S3"},
            "nina": {"S9"},
            "sam": {"S1", "S2"},
        }
        for username, ids in expected.items():
            self.login(getattr(self, username))
            page = self.client.get(reverse("roster:students")).context["page"]
            self.assertEqual({s.student_unique_id for s in page}, ids, username)
