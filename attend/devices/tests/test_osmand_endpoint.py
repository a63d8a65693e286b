"""The Traccar Client port end to end: uvicorn serving the OsmAnd ASGI app on 127.0.0.1."""

from __future__ import annotations

import json
import socket
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest
import uvicorn

from attend.devices.actions import register_osmand_device
from attend.devices.osmand.django_sink import RUNS
from attend.safety.models import Alarm, Position
from attend.test import CastMixin

pytestmark = pytest.mark.django_db(transaction=True)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def endpoint() -> Iterator[str]:
    port = _free_port()
    config = uvicorn.Config(
        "attend.devices.osmand.asgi:application",
        host="127.0.0.1",
        port=port,
        log_level="warning",
        lifespan="off",
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


def _send(url: str, data: bytes | None = None, json_body: Any = None) -> int:
    headers = {}
    if json_body is not None:
        data, headers = json.dumps(json_body).encode(), {"Content-Type": "application/json"}
    request = urllib.request.Request(url, data=data, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return int(response.status)
    except urllib.error.HTTPError as error:
        return int(error.code)


def test_it_receives_positions_and_an_sos_on_its_own_port(endpoint: str) -> None:
    CastMixin.make_cast()
    device = register_osmand_device(officer=CastMixin.olivia, osmand_id="867530")
    RUNS._started.clear()
    assert _send(f"{endpoint}/?id=867530&lat=51.5&lon=-0.12&timestamp=1795435200&batt=80") == 200
    assert _send(f"{endpoint}/", data=b"id=867530&lat=51.5&lon=-0.12&alarm=sos") == 200
    sos = {
        "device_id": "867530",
        "location": {
            "timestamp": "2026-11-23T12:00:00Z",
            "coords": {"latitude": 51.5, "longitude": -0.12},
            "extras": {"alarm": "sos"},
        },
    }
    assert _send(f"{endpoint}/", json_body=sos) == 200
    assert Position.objects.filter(device=device).count() == 3
    assert Alarm.objects.filter(device=device, source="osmand").count() == 1


def test_it_refuses_unknown_devices_as_traccar_does(endpoint: str) -> None:
    assert _send(f"{endpoint}/?id=nobody&lat=1&lon=2") == 400
    unknown = {"device_id": "nobody", "location": {"coords": {"latitude": 1, "longitude": 2}}}
    assert _send(f"{endpoint}/", json_body=unknown) == 404
    assert not Position.objects.exists()
