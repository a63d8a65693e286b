"""The Traccar Client endpoint as its own small ASGI app, served on its own port (5055).

Phones post to the root path of that port, as they would to a Traccar server, so it is kept
apart from the web app's URLs, sessions and CSRF.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from asgiref.sync import sync_to_async

from attend.devices.osmand.handler import MAX_BODY, handle

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

__all__ = ["application"]


async def _read_body(receive: Receive) -> bytes | None:
    """The whole request body, or None once it passes the size limit."""
    chunks, size = [], 0
    while True:
        message = await receive()
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > MAX_BODY:
            return None
        chunks.append(chunk)
        if not message.get("more_body"):
            return b"".join(chunks)


def _header(scope: Scope, name: bytes) -> str:
    for key, value in scope.get("headers", []):
        if key.lower() == name:
            return bytes(value).decode("latin-1")
    return ""


async def _respond(send: Send, status: int, body: bytes) -> None:
    headers = [(b"content-type", b"text/plain; charset=utf-8")]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def _answer(method: str, query: str, body: bytes, content_type: str) -> tuple[int, bytes]:
    from django.db import close_old_connections

    from attend.devices.osmand.django_sink import lookup_device

    close_old_connections()
    return handle(method, query, body, content_type, lookup_device)


async def application(scope: Scope, receive: Receive, send: Send) -> None:
    if scope["type"] != "http":
        return
    body = await _read_body(receive)
    if body is None:
        await _respond(send, 413, b"body too large\n")
        return
    query = bytes(scope.get("query_string", b"")).decode("latin-1")
    content_type = _header(scope, b"content-type")
    answer = sync_to_async(_answer, thread_sensitive=True)
    status, payload = await answer(scope["method"], query, body, content_type)
    await _respond(send, status, payload)
