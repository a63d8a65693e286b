"""safetyd survives a PostgreSQL restart: the heartbeat advances again and a step runs once.

Only on PostgreSQL on this machine, as root with `pg_ctlcluster` (the dev box and CI image);
elsewhere it skips and says why. Other test runs may share the server: only this test
restarts it, and it waits until the server accepts connections again before it ends.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from django.db import connection
from django.utils import timezone

from attend.accounts.actions import create_user
from attend.accounts.choices import Role
from attend.accounts.models import User
from attend.roster.models import District
from attend.safety.actions import raise_alarm
from attend.safety.models import AlarmTransition, EscalationPolicy, EscalationStep, SafetydHeartbeat
from attend.safety.tests.livesite import PYTHON, ROOT

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]
CLUSTERS = Path("/etc/postgresql")
NAME = "pg-restart"


def _cannot_restart() -> str:
    """Why this machine cannot run the test ('' when it can)."""
    settings = connection.settings_dict
    if connection.vendor != "postgresql":
        return "needs DATABASE_URL on PostgreSQL"
    if settings.get("HOST") not in ("127.0.0.1", "localhost", "", None):
        return f"PostgreSQL at {settings.get('HOST')} is not this machine's cluster"
    if not hasattr(os, "geteuid") or os.geteuid() != 0:
        return "restarting PostgreSQL needs root"
    if shutil.which("pg_ctlcluster") is None or not CLUSTERS.is_dir():
        return "pg_ctlcluster (Debian's postgresql-common) is not available"
    if len(list(CLUSTERS.iterdir())) != 1:
        return "expects exactly one PostgreSQL version under /etc/postgresql"
    return ""


def _restart() -> None:
    version = next(CLUSTERS.iterdir()).name
    subprocess.run(
        ["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", "restart"],
        check=True,
        timeout=60,
        capture_output=True,
    )


def _accepting(timeout: float = 60) -> None:
    """Block until the server answers a query again (ours and other runs need it)."""
    import psycopg

    settings = connection.settings_dict
    deadline = time.monotonic() + timeout
    while True:
        try:
            with psycopg.connect(
                host=settings["HOST"] or "127.0.0.1",
                port=int(settings.get("PORT") or 5432),
                user=settings["USER"],
                dbname="postgres",
                connect_timeout=2,
            ) as conn:
                conn.execute("SELECT 1")
            return
        except psycopg.OperationalError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def _wait(what: str, ok: Callable[[], bool], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not ok():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


def _ticks() -> int:
    beat = SafetydHeartbeat.objects.filter(name=NAME).first()
    return beat.ticks if beat else 0


def _env() -> dict[str, str]:
    """The safetyd subprocess as in production: persistent connections with health checks."""
    settings = connection.settings_dict
    url = (
        f"postgres://{settings['USER']}@{settings['HOST'] or '127.0.0.1'}:"
        f"{settings.get('PORT') or 5432}/{settings['NAME']}"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST", "ATTEND_TESTING"))}
    env.pop("REDIS_URL", None)
    env.update(DATABASE_URL=url, DJANGO_SETTINGS_MODULE="attend.settings", PYTHONPATH=str(ROOT))
    return env


@pytest.fixture
def safetyd() -> Iterator[subprocess.Popen[bytes]]:
    reason = _cannot_restart()
    if not os.environ.get("ATTEND_TEST_PG_RESTART"):
        # Restarting the server would cut every other test worker's connections: `make test`
        # runs this test on its own, after the PostgreSQL suite, with the flag set.
        reason = "set ATTEND_TEST_PG_RESTART=1 to restart PostgreSQL (make test does, alone)"
    if reason:
        pytest.skip(reason)
    args = [PYTHON, "manage.py", "safetyd", "--no-deliver", "--interval", "0.2", "--name", NAME]
    loop = subprocess.Popen(args, env=_env(), cwd=ROOT, stdout=subprocess.DEVNULL)
    try:
        yield loop
    finally:
        loop.terminate()
        loop.wait(15)
        _accepting()


def _officer() -> User:
    district = District.objects.create(lea_id="pg-restart", name="Restart USD")
    policy = EscalationPolicy.objects.create(district=district, name="at once")
    EscalationStep.objects.create(policy=policy, order=0, wait_seconds=0, action="notify_operators")
    return create_user(username="pgr-officer", password=None, role=Role.OFFICER, district=district)


def test_it_recovers_from_a_postgresql_restart(safetyd: subprocess.Popen[bytes]) -> None:
    officer = _officer()
    _wait("the first heartbeats", lambda: _ticks() >= 2, timeout=20)
    _restart()
    _accepting()
    connection.close()  # ours died with the server too
    after = _ticks()
    _wait("the heartbeat to advance after the restart", lambda: _ticks() >= after + 3, 20)
    assert safetyd.poll() is None, "safetyd exited instead of reconnecting"
    alarm = raise_alarm(officer=officer, kind="red_alert", source="app", at=timezone.now())
    steps = AlarmTransition.objects.filter(alarm=alarm, event="step")
    _wait("the due step to run", lambda: steps.exists(), timeout=10)
    ticks = _ticks()
    _wait("a few more ticks", lambda: _ticks() >= ticks + 3, timeout=10)
    assert steps.count() == 1
