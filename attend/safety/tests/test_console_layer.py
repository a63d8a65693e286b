"""The operators' console listens on the Redis channel layer: a quiet spell must not kill it."""

from __future__ import annotations

import asyncio

import pytest
from channels.layers import get_channel_layer
from django.conf import settings

pytestmark = pytest.mark.skipif(
    not settings.REDIS_URL, reason="needs Redis (REDIS_URL, set by the PostgreSQL + Redis run)"
)


def test_it_still_delivers_after_six_quiet_seconds() -> None:
    """redis-py 8 reads with a 5 s timeout unless told otherwise; the layer's blocking pop
    then raised TimeoutError and the console's WebSocket consumer died after 5 idle seconds."""

    async def scenario() -> dict[str, object]:
        layer = get_channel_layer()
        assert layer is not None
        channel = await layer.new_channel()
        waiting = asyncio.ensure_future(layer.receive(channel))
        await asyncio.sleep(6.0)
        assert not waiting.done(), waiting.exception() if waiting.done() else None
        await layer.send(channel, {"type": "console.event", "event": {"type": "alarm.raised"}})
        message = await asyncio.wait_for(waiting, 5.0)
        await layer.flush()
        return dict(message)

    assert asyncio.run(scenario())["type"] == "console.event"
