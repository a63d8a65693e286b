"""safetyd as real processes on a file database: SIGKILL mid-escalation and two loops at once.
Each step must run exactly once (the conditional UPDATE claim + one transaction per step)."""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from attend.safety.tests.livesite import PYTHON, ROOT, run_python, site_env

pytestmark = pytest.mark.slow
STEPS = 3

SEED = """
import django
django.setup()
from django.utils import timezone
from attend.test import CastMixin
from attend.notify.models import NotifyTarget
from attend.safety.actions import raise_alarm
from attend.safety.models import EscalationPolicy, EscalationStep
class Cast(CastMixin):
    pass
Cast.make_cast()
NotifyTarget.objects.create(district=Cast.district, role="operators", apprise_url="json://127.0.0.1:9/")
policy = EscalationPolicy.objects.create(district=Cast.district, name="fast")
for i in range(%(steps)d):
    EscalationStep.objects.create(policy=policy, order=i, wait_seconds=0, action="notify_operators")
for i in range(%(alarms)d):
    raise_alarm(officer=Cast.olivia, kind="red_alert", source="app", at=timezone.now())
"""

REPORT = """
import json, django
django.setup()
from django.db.models import Count
from attend.notify.models import Outbox
from attend.safety.models import Alarm, AlarmTransition
steps = AlarmTransition.objects.filter(event="step")
dupes = steps.values("alarm_id", "step_index").annotate(n=Count("id")).filter(n__gt=1).count()
print(json.dumps({"steps": steps.count(), "dupes": dupes, "outbox": Outbox.objects.count(),
                  "done": Alarm.objects.filter(step_index=%(steps)d).count()}))
"""


@pytest.fixture
def db() -> Iterator[dict[str, str]]:
    tmp = Path(tempfile.mkdtemp(prefix="attend-safetyd-"))
    env = site_env(tmp)
    # Reviews far away so each alarm has exactly STEPS steps to run in the test window.
    env.update(ATTEND_ALARM_REVIEW_SECONDS="3600")
    subprocess.run(
        [PYTHON, "manage.py", "migrate", "-v0"], env=env, cwd=ROOT, check=True, timeout=300
    )
    yield env
    shutil.rmtree(tmp, ignore_errors=True)


def _seed(env: dict[str, str], alarms: int) -> None:
    run_python(env, SEED % {"steps": STEPS, "alarms": alarms})


def _report(env: dict[str, str]) -> dict[str, Any]:
    return dict(json.loads(run_python(env, REPORT % {"steps": STEPS}).strip().splitlines()[-1]))


def _safetyd(env: dict[str, str], name: str) -> subprocess.Popen[bytes]:
    args = [PYTHON, "manage.py", "safetyd", "--no-deliver", "--interval", "0.1", "--name", name]
    return subprocess.Popen(args, env=env, cwd=ROOT, stdout=subprocess.DEVNULL)


def _wait_done(env: dict[str, str], alarms: int, timeout: float = 60) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        report = _report(env)
        if report["done"] == alarms:
            return report
        time.sleep(0.5)
    raise AssertionError(f"not finished: {_report(env)}")


def test_it_runs_each_step_once_with_two_safetyd_at_once(db: dict[str, str]) -> None:
    _seed(db, 60)
    loops = [_safetyd(db, "a"), _safetyd(db, "b")]
    try:
        report = _wait_done(db, 60)
    finally:
        for loop in loops:
            loop.send_signal(signal.SIGTERM)
        codes = [loop.wait(15) for loop in loops]
    assert report == {"steps": 60 * STEPS, "dupes": 0, "outbox": 60 * STEPS, "done": 60}
    assert codes == [0, 0]  # SIGTERM is a graceful stop


def test_it_loses_and_repeats_nothing_after_sigkill_mid_escalation(db: dict[str, str]) -> None:
    _seed(db, 150)
    loop = _safetyd(db, "victim")
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and _report(db)["steps"] == 0:
        time.sleep(0.05)
    loop.send_signal(signal.SIGKILL)
    loop.wait(10)
    killed_at = _report(db)
    survivor = _safetyd(db, "survivor")
    try:
        report = _wait_done(db, 150)
    finally:
        survivor.send_signal(signal.SIGTERM)
        survivor.wait(15)
    assert killed_at["steps"] < 150 * STEPS, "the kill came too late to test anything"
    assert report == {"steps": 150 * STEPS, "dupes": 0, "outbox": 150 * STEPS, "done": 150}
