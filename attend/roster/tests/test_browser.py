"""A real browser: an officer signs in (with two-factor), opens a student, sees the calendar."""

from __future__ import annotations

import datetime as dt
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from attend.attendance.choices import Category
from attend.attendance.models import AttendanceEvent
from attend.lib import totp
from attend.test import PASSWORD, CastMixin

CHROMIUM = "/usr/bin/chromium"
OUTPUT = Path(__file__).resolve().parents[3] / "test-output"
BROWSER_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def browser() -> Iterator[Any]:
    if not Path(CHROMIUM).exists() or shutil.which("chromium") is None:
        pytest.skip("Debian's chromium is not installed (make test installs it when run as root)")
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop; the ORM calls here happen before it starts.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with sync_playwright() as p:
        instance = p.chromium.launch(executable_path=CHROMIUM, args=BROWSER_ARGS)
        yield instance
        instance.close()


class Cast(CastMixin):
    pass


def _seed() -> Cast:
    cast = Cast()
    Cast.make_cast()
    start = dt.date(dt.date.today().year - (1 if dt.date.today().month < 7 else 0), 9, 1)
    Cast.make_calendar(Cast.lincoln, start, 60, school_year=_year(start))
    Cast.ada.enrollments.update(entry_date=start, school_year=_year(start))
    Cast.district.current_school_year = _year(start)
    Cast.district.save()
    for offset, category in ((2, Category.UNEXCUSED), (3, Category.EXCUSED), (8, Category.TARDY)):
        AttendanceEvent.objects.create(
            student=Cast.ada,
            school=Cast.lincoln,
            event_date=start + dt.timedelta(offset),
            category=category,
        )
    Cast.olivia.totp_secret = totp.new_secret()
    Cast.olivia.totp_confirmed_at = Cast.olivia.date_joined
    Cast.olivia.save()
    return cast


def _year(start: dt.date) -> int:
    return start.year + 1


def test_it_shows_an_officer_the_student_calendar(live_server: Any, browser: Any) -> None:
    cast = _seed()
    page = browser.new_page(viewport={"width": 390, "height": 844})  # a phone
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=username]", "olivia")
    page.fill("input[name=password]", PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/two-factor/**")
    page.fill("input[name=code]", totp.code_at(cast.olivia.totp_secret))
    page.get_by_role("button", name="Continue").click()
    page.get_by_role("link", name="Lovelace, Ada").click()
    calendar = page.locator("[data-testid=attendance-calendar]")
    calendar.wait_for()
    assert page.locator(".day.unexcused").count() == 1
    assert page.locator(".day.excused").count() == 1
    assert page.locator(".day.tardy").count() == 1
    OUTPUT.mkdir(exist_ok=True)
    page.screenshot(path=str(OUTPUT / "student-profile-phone.png"), full_page=True)
    page.close()
