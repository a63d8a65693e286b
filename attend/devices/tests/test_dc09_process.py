"""`attend dc09` as it runs in production: a process whose database work happens in a child
process. A panic over TCP is ACKed once committed; SIGTERM stops both processes cleanly."""

from __future__ import annotations

import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

from attend.devices.dc09 import encode_message
from attend.safety.tests.livesite import PYTHON, ROOT, free_port, run_python, site_env

pytestmark = pytest.mark.slow

SEED = """
import django
django.setup()
from attend.devices.actions import register_dc09_device
from attend.test import CastMixin
class Cast(CastMixin):
    pass
Cast.make_cast()
register_dc09_device(officer=Cast.olivia, account="12AB", label="Badge")
"""

COUNT = """
import django
django.setup()
from attend.devices.models import Device
from attend.safety.models import Alarm
badge = Device.objects.get(dc09_account="12AB")
print(Alarm.objects.filter(device=badge, source="dc09").count(), badge.last_seen_at is not None)
"""


def _connect(port: int, process: subprocess.Popen[bytes]) -> socket.socket:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert process.poll() is None, "the receiver exited"
        try:
            return socket.create_connection(("127.0.0.1", port), timeout=10)
        except OSError:
            time.sleep(0.2)
    raise AssertionError("the receiver did not listen")


def _exchange(sock: socket.socket, frame: bytes) -> bytes:
    sock.sendall(frame)
    reply = b""
    while not reply.endswith(b"\r"):
        chunk = sock.recv(4096)
        assert chunk, "connection closed before a reply"
        reply += chunk
    return reply


def test_the_receiver_process_acks_a_committed_panic_and_stops_on_sigterm() -> None:
    tmp = Path(tempfile.mkdtemp(prefix="attend-dc09-"))
    env = site_env(tmp)
    try:
        subprocess.run(
            [PYTHON, "manage.py", "migrate", "-v0"], env=env, cwd=ROOT, check=True, timeout=300
        )
        run_python(env, SEED)
        port = free_port()
        receiver = subprocess.Popen(
            [PYTHON, "-m", "attend.cli", "dc09", "--listen", f"127.0.0.1:{port}"],
            env=env,
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        with _connect(port, receiver) as sock:
            ack = _exchange(sock, encode_message("ADM-CID", 7, "12AB", "#12AB|1120 01 001"))
            assert b'"ACK"0007' in ack
            assert b'"ACK"0008' in _exchange(sock, encode_message("NULL", 8, "12AB"))
        receiver.send_signal(signal.SIGTERM)
        output = receiver.communicate(timeout=60)[0].decode()
        assert receiver.returncode == 0, output
        assert "stopped" in output
        # The alarm was committed before its ACK; the link test's "last heard" on the stop.
        assert run_python(env, COUNT).split() == ["1", "True"]
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
