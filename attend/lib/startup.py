"""Refuse to serve real traffic with an unsafe configuration."""

from __future__ import annotations

from django.conf import settings

from attend.lib.env import SettingError


def ensure_production_ready() -> None:
    """Outside `attend demo` and the tests, a server needs a secret key and allowed hosts."""
    if settings.DEMO or settings.TESTING:
        return
    problems = []
    if not settings.SECRET_KEY_CONFIGURED:
        problems.append(
            "SECRET_KEY is not set (make one with: "
            "python3 -c 'import secrets; print(secrets.token_urlsafe(50))')"
        )
    if not settings.ALLOWED_HOSTS:
        problems.append(
            "ALLOWED_HOSTS is not set (comma-separated host names this server answers to)"
        )
    if problems:
        raise SettingError("Attend will not start:\n  - " + "\n  - ".join(problems))
