"""A real browser on a phone-sized screen: an officer's day, from the worklist to a letter."""

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
from attend.cases import letters
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


def _seed() -> type[Cast]:
    """Ada has three unexcused absences this school year and no case: she is on the watch list."""
    today = dt.date.today()
    start = dt.date(today.year - (1 if today.month < 7 else 0), 9, 1)
    Cast.make_cast()
    Cast.make_calendar(Cast.lincoln, start, 60, school_year=start.year + 1)
    Cast.ada.enrollments.update(entry_date=start, school_year=start.year + 1)
    Cast.district.current_school_year = start.year + 1
    Cast.district.save()
    for offset in (2, 3, 8):
        AttendanceEvent.objects.create(
            student=Cast.ada,
            school=Cast.lincoln,
            event_date=start + dt.timedelta(offset),
            category=Category.UNEXCUSED,
        )
    letters.install_default_templates(district=Cast.district)
    Cast.olivia.totp_secret = totp.new_secret()
    Cast.olivia.totp_confirmed_at = Cast.olivia.date_joined
    Cast.olivia.save()
    return Cast


def _sign_in(page: Any, base: str, cast: type[Cast]) -> None:
    page.goto(f"{base}/accounts/login/")
    page.fill("input[name=username]", "olivia")
    page.fill("input[name=password]", PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/two-factor/**")
    page.fill("input[name=code]", totp.code_at(cast.olivia.totp_secret or ""))
    page.get_by_role("button", name="Continue").click()


def test_it_walks_an_officer_from_the_worklist_to_a_letter_pdf(
    live_server: Any, browser: Any
) -> None:
    cast = _seed()
    OUTPUT.mkdir(exist_ok=True)
    page = browser.new_page(viewport={"width": 390, "height": 844})  # a phone
    _sign_in(page, live_server.url, cast)
    page.goto(f"{live_server.url}/cases/?list=watch")
    page.locator("[data-testid=watch]").get_by_text("Ada Lovelace").wait_for()
    page.screenshot(path=str(OUTPUT / "officer-day-1-worklist.png"), full_page=True)

    page.get_by_role("button", name="Open case").click()
    page.wait_for_url("**/cases/*/")
    form = page.locator("[data-testid=contact-form]")
    form.locator("select[name=kind]").select_option("call")
    form.locator("select[name=outcome]").select_option("no_answer")
    form.locator("textarea[name=notes]").fill("Rang at 8:10, will try after school")
    form.get_by_role("button", name="Save contact").click()
    page.locator("[data-testid=contacts]").get_by_text("No answer").wait_for()  # htmx swap
    page.screenshot(path=str(OUTPUT / "officer-day-2-contact.png"), full_page=True)

    page.get_by_role("button", name="Send supportive letter").click()
    link = page.locator("[data-testid=letters] a", has_text="PDF")
    link.wait_for()
    page.screenshot(path=str(OUTPUT / "officer-day-3-letter.png"), full_page=True)

    response = page.request.get(live_server.url + (link.get_attribute("href") or ""))
    assert response.status == 200
    assert response.headers["content-type"] == "application/pdf"
    assert response.body().startswith(b"%PDF")
    page.close()
