"""The safetyd loop body, one tick at a time, so tests drive it with a chosen `now`."""

from __future__ import annotations

import datetime as dt
import logging
import os
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.db import OperationalError, close_old_connections, connection
from django.db.models import F, Max
from django.utils import timezone

from attend.safety.actions import escalate_visit, mark_overdue, run_escalation_step, sweep_stuck
from attend.safety.choices import OPEN_ALARM, VisitStatus
from attend.safety.models import Alarm, AlarmTransition, SafetydHeartbeat, Visit

log = logging.getLogger("attend.safetyd")
BATCH = 500


@dataclass
class Tick:
    overdue: int = 0
    escalated: int = 0
    steps: int = 0
    stuck: int = 0
    delivered: int = 0
    errors: list[str] = field(default_factory=list)
    max_late: float = 0.0


def _due_visits(status: VisitStatus, now: dt.datetime) -> list[int]:
    due = Visit.objects.filter(status=status, escalate_after__lte=now).order_by("escalate_after")
    return list(due.values_list("pk", flat=True)[:BATCH])


def _due_alarms(now: dt.datetime) -> list[int]:
    due = Alarm.objects.filter(status__in=OPEN_ALARM, next_step_at__lte=now)
    return list(due.order_by("priority", "next_step_at").values_list("pk", flat=True)[:BATCH])


def _each(ids: list[int], work: Callable[[int], Any], tick: Tick) -> int:
    """Run `work` per id; one bad row must not stop the others (it is retried next tick)."""
    done = 0
    for pk in ids:
        try:
            done += bool(work(pk))
        except OperationalError:
            raise
        except Exception as exc:
            log.exception("safetyd: %s failed for %s", getattr(work, "__name__", work), pk)
            tick.errors.append(f"{pk}: {exc}")
    return done


def run_once(now: dt.datetime | None = None, *, deliver: bool = True) -> Tick:
    """One tick.

    1. Active visits past their deadline become overdue (officer nudged).
    2. Overdue visits past their grace raise an overrun alarm.
    3. Due escalation steps run (each claimed once).
    4. The stuck sweep raises an alarm for open alarms with no next step.
    5. Due outbox rows are delivered (unless another process does that).
    6. The heartbeat row says we are alive and how late we ran.
    """
    now = now or timezone.now()
    tick = Tick()
    tick.overdue = _each(
        _due_visits(VisitStatus.ACTIVE, now), lambda pk: mark_overdue(visit_id=pk, now=now), tick
    )
    tick.escalated = _each(
        _due_visits(VisitStatus.OVERDUE, now), lambda pk: escalate_visit(visit_id=pk, now=now), tick
    )
    tick.steps = _each(_due_alarms(now), lambda pk: run_escalation_step(alarm_id=pk, now=now), tick)
    tick.stuck = len(sweep_stuck(now=now))
    if deliver:
        from attend.notify.actions import deliver_due

        tick.delivered = deliver_due(now=now)
    tick.max_late = _max_late(now)
    return tick


def _max_late(now: dt.datetime) -> float:
    recent = AlarmTransition.objects.filter(at=now).aggregate(m=Max("late_seconds"))["m"]
    return float(recent or 0.0)


def beat(*, name: str, tick: Tick, took_ms: float, now: dt.datetime | None = None) -> None:
    values: dict[str, Any] = {
        "beat_at": now or timezone.now(),
        "pid": os.getpid(),
        "host": socket.gethostname()[:120],
        "last_tick_ms": took_ms,
        "max_late_seconds": tick.max_late,
    }
    if not SafetydHeartbeat.objects.filter(name=name).update(ticks=F("ticks") + 1, **values):
        SafetydHeartbeat.objects.get_or_create(name=name, defaults={**values, "ticks": 1})


def safe_tick(*, name: str, deliver: bool) -> Tick | None:
    """A tick that survives the database going away: drop the connection, try next second."""
    started = time.monotonic()
    try:
        close_old_connections()
        tick = run_once(deliver=deliver)
        beat(name=name, tick=tick, took_ms=(time.monotonic() - started) * 1000)
        return tick
    except OperationalError as exc:
        log.warning("safetyd: database unavailable (%s); reconnecting next tick", exc)
        connection.close()
        return None
