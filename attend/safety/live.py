"""The one seam through which safety changes reach live consoles (house style 3).

Events are small ({"type", ids, "sent": epoch seconds}); the console re-reads what it may see,
so a WebSocket message never carries data a particular viewer should not have.
"""

from __future__ import annotations

import logging
import time
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


def publish_on_commit(event: dict[str, Any]) -> None:
    """Send `event` to the console group after the surrounding transaction commits."""
    event = {**event, "sent": time.time()}
    transaction.on_commit(lambda: publish_now(event))
