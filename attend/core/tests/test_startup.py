from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]


def _run(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if k not in {"SECRET_KEY", "ALLOWED_HOSTS"}}
    clean.update({"DATABASE_URL": "sqlite:///:memory:", **env})
    clean.pop("ATTEND_DEMO", None)
    return subprocess.run(
        [sys.executable, "-m", "attend.cli", *args],
        cwd=REPO,
        env=clean,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_it_refuses_to_serve_without_a_secret_key_and_allowed_hosts() -> None:
    result = _run("serve", "--port", "0")
    assert result.returncode != 0
    assert "SECRET_KEY is not set" in result.stderr
    assert "ALLOWED_HOSTS is not set" in result.stderr


def test_it_runs_management_commands_without_a_secret() -> None:
    result = _run("check")
    assert result.returncode == 0, result.stderr


def test_it_keeps_debug_off_outside_the_demo() -> None:
    result = _run("shell", "-c", "from django.conf import settings; print(settings.DEBUG)")
    assert result.stdout.strip().splitlines()[-1] == "False", result.stderr


POOLED = """
import asyncio, sys
sys.argv = ["attend", "serve"]  # what the settings see in the web server process
import django
django.setup()
from channels.db import database_sync_to_async
from django.conf import settings
from django.db import connection

async def main():
    for _ in range(3):  # each call borrows a connection and gives it back
        await database_sync_to_async(lambda: connection.cursor().execute("SELECT 1"))()

asyncio.run(main())
print(settings.DATABASES["default"]["OPTIONS"]["pool"]["max_size"])
"""


def test_it_lends_the_web_servers_requests_pooled_postgresql_connections() -> None:
    import pytest

    url = os.environ.get("ATTEND_TEST_DATABASE_URL", "")
    if not url.startswith("postgres"):
        pytest.skip("needs PostgreSQL (ATTEND_TEST_DATABASE_URL)")
    env = {**os.environ, "DATABASE_URL": url, "DATABASE_POOL_MAX": "4"}
    env.setdefault("DJANGO_SETTINGS_MODULE", "attend.settings")
    result = subprocess.run(
        [sys.executable, "-c", POOLED],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "4"
