"""Red Alerts through the production stack: device request sent → operator console message.

    attend bench alarms [--devices 5000 --rate 500 --seconds 60 --workers 1]

1. A scratch PostgreSQL database (`attend_bench_alarms`) is created and migrated; one district,
   one operator (with a signed-in session, second factor passed) and N officers, each with an
   app device (`register_app_device`), are made through the actions.
2. The stack runs as on a server: `attend serve` (uvicorn) and `attend safetyd`, with Redis as
   the Channels layer (`REDIS_URL`), `SECRET_KEY` and `ALLOWED_HOSTS` set.
3. A console client opens the operator's WebSocket with the session cookie.
4. Reference: a few alarms one at a time on an idle stack (the unloaded latency).
5. Load: every device posts a position every 30 s; Red Alerts are posted at `--rate` per
   second for `--seconds` over raw HTTP/1.1 keep-alive connections (open loop: each request
   has a scheduled time; requests the connections could not start by the end are counted
   as not sent, not as lost).
6. Each 201 carries the alarm id; its `alarm.raised` console message closes the latency.
   Lost = acknowledged (2xx) to the device but never on the console or not in the database.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from bench.stack import (
    PG_BASE,
    ROOT,
    attend,
    create_database,
    drop_database,
    free_port,
    load_line,
    migrate,
    percentiles,
    run_python,
    stack_env,
    stop,
    wait_port,
)

HOST = "127.0.0.1"
POSITION_PERIOD = 30.0

SEED = """
import json
from django.contrib.sessions.backends.db import SessionStore
from django.db import transaction
from attend.accounts.actions import create_user
from attend.accounts.choices import Role
from attend.accounts.middleware import SESSION_KEY
from attend.devices.actions import register_app_device
from attend.roster.models import District
with transaction.atomic():
    district = District.objects.create(lea_id="bench-alarms", name="Bench Alarms USD")
    operator = create_user(
        username="bench-operator", password=None, role=Role.OPERATOR, district=district
    )
    tokens = []
    for n in range({devices}):
        officer = create_user(
            username=f"officer{{n:05d}}", password=None, role=Role.OFFICER, district=district
        )
        tokens.append(register_app_device(officer=officer, label=f"phone {{n}}")[1])
session = SessionStore()
session["_auth_user_id"] = str(operator.pk)
session["_auth_user_backend"] = "django.contrib.auth.backends.ModelBackend"
session["_auth_user_hash"] = operator.get_session_auth_hash()
session[SESSION_KEY] = True
session.create()
print(json.dumps({{"session": session.session_key, "tokens": tokens}}))
"""


# -- HTTP/1.1 keep-alive client ---------------------------------------------------------


class HttpConnection:
    """One keep-alive connection; reconnects after the server closes it."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def post(self, path: str, token: str, request_id: str, body: bytes) -> tuple[int, bytes]:
        if self.writer is None or self.reader is None:
            self.reader, self.writer = await asyncio.open_connection(HOST, self.port)
        head = (
            f"POST {path} HTTP/1.1\r\nHost: {HOST}:{self.port}\r\n"
            f"Authorization: Bearer {token}\r\nX-Request-Id: {request_id}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
        )
        self.writer.write(head.encode() + body)
        try:
            return await self._response(self.reader)
        except (OSError, asyncio.IncompleteReadError):
            self.close()
            raise

    async def _response(self, reader: asyncio.StreamReader) -> tuple[int, bytes]:
        head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1").lower()
        status = int(head.split(" ", 2)[1])
        length = 0
        for line in head.split("\r\n"):
            if line.startswith("content-length:"):
                length = int(line.split(":", 1)[1])
        body = await reader.readexactly(length)
        if "connection: close" in head:
            self.close()
        return status, body

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None


# -- what the run saw ------------------------------------------------------------------


@dataclass
class Tally:
    sent: dict[int, float] = field(default_factory=dict)  # alarm id → request written
    scheduled: dict[int, float] = field(default_factory=dict)  # alarm id → planned send
    on_console: dict[int, float] = field(default_factory=dict)  # alarm id → first message
    statuses: Counter[str] = field(default_factory=Counter)
    request_ms: list[float] = field(default_factory=list)
    not_sent: Counter[str] = field(default_factory=Counter)
    console_messages: Counter[str] = field(default_factory=Counter)
    errors: Counter[str] = field(default_factory=Counter)


async def console(port: int, session: str, tally: Tally, ready: asyncio.Event) -> None:
    """The operator's console socket: note when each `alarm.raised` arrives."""
    from websockets.asyncio.client import connect

    async with connect(
        f"ws://{HOST}:{port}/ws/console/",
        additional_headers={"Cookie": f"sessionid={session}"},
        origin=f"http://{HOST}:{port}",  # type: ignore[arg-type]
        max_queue=None,
    ) as socket:
        ready.set()
        async for raw in socket:
            at = time.perf_counter()
            event = json.loads(raw)
            tally.console_messages[event.get("type", "?")] += 1
            if event.get("type") == "alarm.raised":
                tally.on_console.setdefault(int(event["alarm_id"]), at)


@dataclass
class Job:
    at: float  # perf_counter time it is due
    kind: str  # "alarm" | "position"
    device: int
    number: int


def alarm_body(number: int) -> bytes:
    return json.dumps(
        {"kind": "red_alert", "lat": 37.0 + number % 100 / 1000, "lon": -122.0}
    ).encode()


def position_body(number: int) -> bytes:
    fix = {"lat": 37.0 + number % 97 / 1000, "lon": -122.0, "accuracy": 12, "battery": 80}
    return json.dumps({"positions": [fix]}).encode()


async def run_job(conn: HttpConnection, job: Job, tokens: list[str], tally: Tally) -> None:
    alarm = job.kind == "alarm"
    path = "/api/v1/alarms/" if alarm else "/api/v1/positions/"
    body = alarm_body(job.number) if alarm else position_body(job.number)
    started = time.perf_counter()
    try:
        status, answer = await conn.post(
            path, tokens[job.device], f"b-{job.kind}-{job.number}", body
        )
    except (OSError, asyncio.IncompleteReadError, ValueError) as exc:
        tally.errors[f"{job.kind} {type(exc).__name__}"] += 1
        return
    tally.statuses[f"{job.kind} {status}"] += 1
    tally.request_ms.append((time.perf_counter() - started) * 1000)
    if alarm and 200 <= status < 300:
        alarm_id = int(json.loads(answer)["alarm_id"])
        tally.sent[alarm_id], tally.scheduled[alarm_id] = started, job.at


async def worker(
    queue: asyncio.Queue[Job], port: int, tokens: list[str], until: float, tally: Tally
) -> None:
    """Take due jobs in order; a job that could not start before `until` is not sent."""
    conn = HttpConnection(port)
    while True:
        job = await queue.get()
        if job.at > until or time.perf_counter() > until:
            tally.not_sent[job.kind] += 1
        else:
            await asyncio.sleep(max(0.0, job.at - time.perf_counter()))
            await run_job(conn, job, tokens, tally)
        queue.task_done()


def schedule(devices: int, rate: float, seconds: float, start: float) -> list[Job]:
    """Alarms evenly at `rate`; each device's position every 30 s at its own phase."""
    jobs = [Job(start + i / rate, "alarm", i % devices, i) for i in range(int(rate * seconds))]
    for device in range(devices):
        at = start + device / devices * POSITION_PERIOD
        n = 0
        while at < start + seconds:
            jobs.append(Job(at, "position", device, device * 100_000 + n))
            at, n = at + POSITION_PERIOD, n + 1
    return sorted(jobs, key=lambda j: j.at)


async def drive(
    jobs: list[Job], connections: int, port: int, tokens: list[str], until: float, tally: Tally
) -> None:
    """Feed the jobs to the connection pool as they fall due, then wait for the pool."""
    queue: asyncio.Queue[Job] = asyncio.Queue()
    pool = [
        asyncio.create_task(worker(queue, port, tokens, until, tally)) for _ in range(connections)
    ]
    for job in jobs:
        delay = job.at - time.perf_counter() - 0.05
        if delay > 0:
            await asyncio.sleep(delay)
        queue.put_nowait(job)
    await queue.join()
    for task in pool:
        task.cancel()


async def settle(tally: Tally, wait: float) -> None:
    """Give the console up to `wait` seconds to show every acknowledged alarm."""
    deadline = time.perf_counter() + wait
    while time.perf_counter() < deadline and set(tally.sent) - set(tally.on_console):
        await asyncio.sleep(0.2)


def latencies(tally: Tally, ids: set[int] | None = None) -> tuple[list[float], list[float]]:
    """Console latency in ms (from the request written, from its scheduled time)."""
    seen = [a for a in tally.sent if a in tally.on_console and (ids is None or a in ids)]
    sent = [(tally.on_console[a] - tally.sent[a]) * 1000 for a in seen]
    planned = [(tally.on_console[a] - tally.scheduled[a]) * 1000 for a in seen]
    return sent, planned


def in_database(url: str, ids: list[int]) -> set[int]:
    import psycopg

    with psycopg.connect(url) as conn:
        rows = conn.execute("SELECT id FROM safety_alarm WHERE id = ANY(%s)", (ids,)).fetchall()
    return {int(pk) for (pk,) in rows}


# -- the run ---------------------------------------------------------------------------


@dataclass
class Stack:
    env: dict[str, str]
    port: int
    workdir: Path
    workers: int
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def start(self) -> None:
        serve = attend(
            "serve", "--host", HOST, "--port", str(self.port), "--workers", str(self.workers)
        )
        server = self._spawn(serve, "serve.log")
        self._spawn(attend("safetyd"), "safetyd.log")
        wait_port(self.port, server, timeout=120)

    def _spawn(self, argv: list[str], log: str) -> subprocess.Popen[bytes]:
        with (self.workdir / log).open("ab") as out:
            process = subprocess.Popen(argv, env=self.env, cwd=ROOT, stdout=out, stderr=out)
        self.processes.append(process)
        return process

    def stop(self) -> None:
        for process in self.processes:
            stop(process)


async def reference(
    args: argparse.Namespace, port: int, tokens: list[str], tally: Tally
) -> set[int]:
    """Alarms one at a time on an idle stack: the unloaded latency to the console."""
    conn = HttpConnection(port)
    before = set(tally.sent)
    for n in range(args.reference_count):
        job = Job(time.perf_counter(), "alarm", n % len(tokens), 10_000_000 + n)
        await run_job(conn, job, tokens, tally)
        await asyncio.sleep(0.1)
    conn.close()
    ids = set(tally.sent) - before
    await settle(tally, 10.0)
    return ids


async def measure(
    args: argparse.Namespace, port: int, seeded: dict[str, object]
) -> tuple[Tally, set[int], float]:
    tokens = list(seeded["tokens"])  # type: ignore[call-overload]
    tally = Tally()
    ready = asyncio.Event()
    listener = asyncio.create_task(console(port, str(seeded["session"]), tally, ready))
    await asyncio.wait_for(ready.wait(), 30)
    ref_ids = await reference(args, port, tokens, tally)
    start = time.perf_counter() + 1.0
    jobs = schedule(len(tokens), args.rate, args.seconds, start)
    until = start + args.seconds
    await drive(jobs, args.connections, port, tokens, until, tally)
    elapsed = time.perf_counter() - start
    await settle(tally, args.settle)
    listener.cancel()
    return tally, ref_ids, elapsed


def report(
    args: argparse.Namespace, tally: Tally, ref_ids: set[int], elapsed: float, url: str
) -> int:
    load_ids = set(tally.sent) - ref_ids
    ref_sent, _ = latencies(tally, ref_ids)
    sent, planned = latencies(tally, load_ids)
    r50, r99 = percentiles(ref_sent, 50, 99)
    p50, p95, p99 = percentiles(sent, 50, 95, 99)
    q50, q99 = percentiles(planned, 50, 99)
    alarms_done = sum(n for k, n in tally.statuses.items() if k.startswith("alarm"))
    requests = sum(tally.statuses.values()) - len(ref_ids)
    offered = int(args.rate * args.seconds)
    verdict = "meets" if p99 <= args.target_ms else "MISSES"
    print(
        f"alarms: alarm-to-console latency (request sent → console message) p50 {p50:.0f} ms, "
        f"p95 {p95:.0f} ms, p99 {p99:.0f} ms over {len(sent):,} alarms ({verdict} the "
        f"{args.target_ms:.0f} ms p99 target); idle reference p50 {r50:.0f} ms, p99 {r99:.0f} ms "
        f"→ ratio p50 {p50 / r50:.1f}×, p99 {p99 / r99:.1f}×"
    )
    print(
        f"alarms: from the scheduled send time (includes client-side queueing) p50 {q50:.0f} ms, "
        f"p99 {q99:.0f} ms"
    )
    print(
        f"alarms: throughput {requests / elapsed:,.1f} requests/s ({alarms_done - len(ref_ids):,} "
        f"alarm + {requests - alarms_done + len(ref_ids):,} position requests in {elapsed:.1f} s); "
        f"offered {args.rate:,.0f} alarms/s = {offered:,} alarms + positions from "
        f"{args.devices:,} devices every {POSITION_PERIOD:.0f} s; not sent (client backlog at the "
        f"end) {dict(tally.not_sent)}; statuses {dict(tally.statuses)}; errors "
        f"{dict(tally.errors)}; request time p50 {percentiles(tally.request_ms, 50)[0]:.0f} ms"
    )
    acked = sorted(tally.sent)
    stored = in_database(url, acked) if acked else set()
    not_on_console = [a for a in acked if a not in tally.on_console]
    not_in_db = [a for a in acked if a not in stored]
    lost = set(not_on_console) | set(not_in_db)
    print(
        f"alarms: lost (2xx to the device but not on the console within {args.settle:.0f} s or "
        f"not in the database): {len(lost)} of {len(acked):,} acknowledged (must be 0); not on "
        f"console {len(not_on_console)}, not in DB {len(not_in_db)}; console messages "
        f"{dict(tally.console_messages)}"
    )
    return 1 if lost else 0


def run(args: argparse.Namespace) -> int:
    print(f"alarms: setting up {args.devices:,} devices ({load_line()})")
    url = create_database(args.db_name, args.pg)
    workdir = Path(tempfile.mkdtemp(prefix="attend-bench-alarms-"))
    env = stack_env(url, args.redis_url)
    stack = Stack(env, args.port or free_port(), workdir, args.workers)
    try:
        migrate(env)
        seeded = json.loads(run_python(env, SEED.format(devices=args.devices)).splitlines()[-1])
        stack.start()
        print(f"alarms: stack up ({load_line()}); logs in {workdir}")
        tally, ref_ids, elapsed = asyncio.run(measure(args, stack.port, seeded))
        code = report(args, tally, ref_ids, elapsed, url)
        print(f"alarms: {load_line()} at the end; uvicorn workers {args.workers}")
        return code
    finally:
        stack.stop()
        if not args.keep_db:
            drop_database(args.db_name, args.pg)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--devices", type=int, default=5000)
    parser.add_argument("--rate", type=float, default=500.0, help="Red Alerts per second")
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--connections", type=int, default=64, help="keep-alive connections")
    parser.add_argument("--workers", type=int, default=1, help="uvicorn worker processes")
    parser.add_argument("--reference-count", type=int, default=30)
    parser.add_argument(
        "--settle", type=float, default=60.0, help="seconds to wait for the console"
    )
    parser.add_argument("--target-ms", type=float, default=250.0)
    parser.add_argument("--pg", default=PG_BASE)
    parser.add_argument("--db-name", default="attend_bench_alarms")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/5")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--keep-db", action="store_true")
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
