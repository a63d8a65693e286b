"""The one seam through which safety changes reach live consoles (house style 3).

Events are small ({"type", ids, "sent": epoch seconds}); the console re-reads what it may see,
so a WebSocket message never carries data a particular viewer should not have.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction

log = logging.getLogger(__name__)
GROUP = "console"


def publish_now(event: dict[str, Any]) -> None:
    layer = get_channel_layer()
    if layer is None:
        return
    try:
        async_to_sync(layer.group_send)(GROUP, {"type": "console.event", "event": event})
    except Exception:  # a console outage must never undo or block a safety write
        log.exception("could not publish %s", event.get("type"))


_deferred = threading.local()


def publish_on_commit(event: dict[str, Any]) -> None:
    """Send `event` to the console group after the surrounding transaction commits (inside
    `deferred()`, hand it to the caller instead)."""
    event = {**event, "sent": time.time()}
    held: list[dict[str, Any]] | None = getattr(_deferred, "events", None)
    if held is not None:
        transaction.on_commit(lambda: held.append(event))
    else:
        transaction.on_commit(lambda: publish_now(event))


@contextmanager
def deferred() -> Iterator[list[dict[str, Any]]]:
    """Collect the events committed in this block (this thread) instead of sending them.

    For the DC-09 receiver: its commit runs in a worker thread, and sending from there waits
    for a turn on the receiver's busy event loop and for Redis — before the badge gets its
    ACK. Collected, the events go out from the loop (`publish_many`) once the ACKs have.
    """
    events: list[dict[str, Any]] = []
    _deferred.events = events
    try:
        yield events
    finally:
        _deferred.events = None


async def publish_many(events: Sequence[dict[str, Any]]) -> None:
    """Send events collected by `deferred()`, in order, from async code."""
    layer = get_channel_layer()
    if layer is None:
        return
    for event in events:
        try:
            await layer.group_send(GROUP, {"type": "console.event", "event": event})
        except Exception:  # as in publish_now: never undo or block a safety write
            log.exception("could not publish %s", event.get("type"))
