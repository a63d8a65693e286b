"""A real server for browser and process tests: a file SQLite DB, uvicorn on a free port.

Channels' ChannelsLiveServerTestCase needs daphne, which is not installed; uvicorn (already a
dependency of `attend serve`) runs the same ASGI application in a subprocess instead.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[3]
PYTHON = sys.executable

SEED = """
import json, django
django.setup()
from django.contrib.sessions.backends.db import SessionStore
from attend.accounts.middleware import SESSION_KEY
from attend.test import CastMixin
from attend.safety.actions import set_pins
class Cast(CastMixin):
    pass
Cast.make_cast()
set_pins(user=Cast.olivia, pin="1234", duress_pin="9999")
keys = {}
for user in (Cast.olivia, Cast.opal):
    s = SessionStore()
    s["_auth_user_id"] = str(user.pk)
    s["_auth_user_backend"] = "django.contrib.auth.backends.ModelBackend"
    s["_auth_user_hash"] = user.get_session_auth_hash()
    s[SESSION_KEY] = True
    s.create()
    keys[user.username] = s.session_key
print(json.dumps(keys))
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def site_env(tmp: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST", "DJANGO_ALLOW"))}
    env.update(
        DATABASE_URL=f"sqlite:///{tmp / 'db.sqlite3'}",
        ATTEND_VAR_DIR=str(tmp),
        ATTEND_TESTING="1",
        SECRET_KEY="browser-test-secret-key-not-for-production-0123456789",
        DJANGO_SETTINGS_MODULE="attend.settings",
        PYTHONPATH=str(ROOT),
    )
    env.pop("REDIS_URL", None)
    return env


def run_python(env: dict[str, str], code: str, timeout: float = 120) -> str:
    done = subprocess.run(
        [PYTHON, "-c", code], env=env, cwd=ROOT, capture_output=True, text=True, timeout=timeout
    )
    if done.returncode:
        raise RuntimeError(done.stderr[-3000:])
    return done.stdout


def migrate_and_seed(env: dict[str, str]) -> dict[str, Any]:
    subprocess.run(
        [PYTHON, "manage.py", "migrate", "-v0"], env=env, cwd=ROOT, check=True, timeout=300
    )
    return dict(json.loads(run_python(env, SEED).strip().splitlines()[-1]))


def start_server(env: dict[str, str], port: int) -> subprocess.Popen[bytes]:
    args = [
        PYTHON,
        "-m",
        "uvicorn",
        "attend.asgi:application",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--log-level",
        "warning",
        "--lifespan",
        "off",
    ]
    server = subprocess.Popen(args, env=env, cwd=ROOT)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return server
        except OSError:
            time.sleep(0.1)
    server.kill()
    raise RuntimeError("uvicorn did not start")
