"""Shared helpers for the benchmarks that run the production stack as subprocesses.

A scratch PostgreSQL database per benchmark (created, migrated, dropped at the end), the
`attend` commands started with a production-like environment, and small statistics helpers.
Nothing here imports Django: the benchmark process only talks to the stack from outside.
"""

from __future__ import annotations

import os
import signal
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

__all__ = [
    "PG_BASE",
    "PYTHON",
    "ROOT",
    "attend",
    "create_database",
    "drop_database",
    "free_port",
    "load_line",
    "migrate",
    "percentiles",
    "run_python",
    "stack_env",
    "stop",
    "wait_port",
]

ROOT = Path(__file__).resolve().parents[1]
PYTHON = sys.executable
PG_BASE = "postgres://postgres@127.0.0.1:5432"
# The variables a test or demo run may have set that must not leak into a production stack.
_DROP = ("PYTEST", "DJANGO_ALLOW", "ATTEND_TESTING", "ATTEND_DEMO", "DEBUG", "REDIS_URL")


def _admin_conninfo(base: str) -> str:
    return f"{base.rstrip('/')}/postgres"


def create_database(name: str, base: str = PG_BASE) -> str:
    """(Re)create the scratch database `name`; returns its URL."""
    import psycopg

    with psycopg.connect(_admin_conninfo(base), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    return f"{base.rstrip('/')}/{name}"


def drop_database(name: str, base: str = PG_BASE) -> None:
    import psycopg

    with psycopg.connect(_admin_conninfo(base), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def stack_env(database_url: str, redis_url: str | None = None) -> dict[str, str]:
    """A production environment: a real secret key and allowed hosts, no test or demo flags."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(_DROP)}
    env.update(
        DATABASE_URL=database_url,
        SECRET_KEY="bench-secret-key-not-for-production-0123456789abcdefghijklmnop",
        ALLOWED_HOSTS="127.0.0.1,localhost",
        DJANGO_SETTINGS_MODULE="attend.settings",
        PYTHONPATH=str(ROOT),
        PYTHONUNBUFFERED="1",
    )
    if redis_url:
        env["REDIS_URL"] = redis_url
    return env


def attend(*args: str) -> list[str]:
    """The argv of `attend ARGS…` run with this interpreter."""
    return [PYTHON, "-m", "attend.cli", *args]


def migrate(env: dict[str, str]) -> None:
    subprocess.run(attend("migrate", "-v0"), env=env, cwd=ROOT, check=True, timeout=600)


def run_python(env: dict[str, str], code: str, timeout: float = 900) -> str:
    """Run `code` after `django.setup()` in a subprocess; returns its stdout."""
    prelude = "import django\ndjango.setup()\n"
    done = subprocess.run(
        [PYTHON, "-c", prelude + code],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if done.returncode:
        raise RuntimeError(done.stderr[-3000:])
    return done.stdout


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_port(
    port: int, process: subprocess.Popen[bytes] | None = None, timeout: float = 60
) -> float:
    """Wait until 127.0.0.1:`port` accepts connections; returns the seconds waited."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"process exited with {process.returncode} before listening")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return time.monotonic() - started
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listened on port {port} within {timeout:.0f} s")


def stop(process: subprocess.Popen[bytes] | None, timeout: float = 15) -> None:
    """SIGTERM, then SIGKILL if it does not end in time."""
    if process is None or process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(5)


def percentiles(values: Sequence[float], *cuts: int) -> list[float]:
    """The given percentiles (1..99) of `values`; NaN for fewer than two values."""
    if len(values) < 2:
        return [float("nan")] * len(cuts)
    table = statistics.quantiles(values, n=100)
    return [table[c - 1] for c in cuts]


def load_line() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.2f} {five:.2f} {fifteen:.2f} on {os.cpu_count()} CPUs"
