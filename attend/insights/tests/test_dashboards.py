"""Dashboards on a generated, imported and computed district: numbers, suppression, exports."""

from __future__ import annotations

import csv
import datetime as dt
import io
from pathlib import Path

import pytest
from django.test import Client
from openpyxl import load_workbook

from attend.accounts.actions import create_user
from attend.accounts.choices import Role
from attend.accounts.middleware import SESSION_KEY
from attend.insights.models import StudentSnapshot
from attend.insights.services import run_app_mode
from attend.roster.actions import import_edfi
from attend.roster.generate import generate
from attend.roster.models import District, School

AS_OF = dt.date(2026, 2, 27)


@pytest.fixture(scope="module")
def lake(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("dash") / "district"
    generate(students=250, seed=5, out=folder, fmt="ndjson", as_of=AS_OF)
    return folder


def _client(role: Role, schools: list[School]) -> Client:
    user = create_user(
        username=f"u-{role}",
        password=None,
        role=role,
        district=District.objects.get(),
        schools=schools,
    )
    client = Client()
    client.force_login(user)
    session = client.session
    session[SESSION_KEY] = True
    session.save()
    return client


@pytest.mark.django_db
def test_it_shows_the_district_its_schools_and_suppresses_small_cells(lake: Path) -> None:
    import_edfi(path=lake, by=None)
    run_app_mode(as_of=AS_OF)
    page = _client(Role.ANALYST, []).get("/insights/")
    assert page.status_code == 200
    chronic = StudentSnapshot.objects.filter(chronic=True).count()
    assert page.context["overall"]["chronic_students"] == chronic
    assert len(page.context["schools"]) == School.objects.count()
    shown = [r for g in page.context["groups"] for r in g["rows"]]
    small = [r for r in shown if r["suppressed"]]
    assert small and all(r["chronic_students"] is None for r in small)
    assert all(r["enrolled_students"] >= 10 for r in shown if not r["suppressed"])
    assert "fewer than 10 students" in page.content.decode()
    assert "flagged" not in page.context or not page.context["flagged"]


@pytest.mark.django_db
def test_it_exports_csv_and_xlsx_without_suppressed_numbers(lake: Path) -> None:
    import_edfi(path=lake, by=None)
    run_app_mode(as_of=AS_OF)
    client = _client(Role.DISTRICT_ADMIN, [])
    rows = list(csv.DictReader(io.StringIO(client.get("/insights/?format=csv").content.decode())))
    hidden = [r for r in rows if r["suppressed"] == "True"]
    assert hidden and all(r["chronic_students"] == "" for r in hidden)
    book = load_workbook(io.BytesIO(client.get("/insights/?format=xlsx").content))
    assert book.active is not None and book.active.max_row == len(rows) + 1


@pytest.mark.django_db
def test_it_lists_warned_students_only_to_those_who_may_see_them(lake: Path) -> None:
    import_edfi(path=lake, by=None)
    run_app_mode(as_of=AS_OF)
    school = School.objects.order_by("school_id").first()
    assert school is not None
    url = f"/insights/schools/{school.school_id}/"
    supervisor = _client(Role.SUPERVISOR, [school]).get(url)
    assert supervisor.status_code == 200 and supervisor.context["flagged"]
    assert _client(Role.ANALYST, []).get(url).context["flagged"] == []
