"""DC-09 receiver on PostgreSQL: ACK latency under load, and nothing lost or doubled by a SIGKILL.

    attend bench dc09_durability [--accounts 1000 --rate 2000 --seconds 60 --burst-seconds 20]

1. A scratch database (`attend_bench_dc09`) is created and migrated; 1,000 officers and their
   DC-09 badges are registered through the actions (`create_user`, `register_dc09_device`).
2. Reference: the same clients against the receiver with an in-memory handler (bench_dc09's
   load server), so the cost of the database commit shows as a ratio.
3. Load: `attend dc09 --listen 127.0.0.1:PORT` runs as a subprocess; each account keeps one TCP
   connection and sends mixed NULL / 602 periodic test / 1% 120 panic frames, one outstanding
   at a time, to reach the target rate. ACK latency p50/p99 and throughput are measured after
   a warm-up.
4. Durability: a second burst; halfway through, the receiver gets SIGKILL and is restarted.
   Panels retransmit un-ACKed frames (same seq) after a timeout or a broken connection, as
   real panels do. Afterwards the database must hold every ACKed panic exactly once, and the
   console (the Redis channel layer group, when `--redis-url` is set) must have been told of
   each panic alarm once.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from attend.devices.dc09.build import encode_message
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
FIRST_ACCOUNT = 4096  # accounts are 4 hex digits: 1000, 1001, … (bench_dc09's range)
ACK_TIMEOUT = 10.0  # a panel retransmits an un-ACKed frame after this long
GIVE_UP = 60.0  # …and gives up on it this long after the burst ended

SEED = """
import json
from django.db import transaction
from attend.accounts.actions import create_user
from attend.accounts.choices import Role
from attend.devices.actions import register_dc09_device
from attend.roster.models import District
with transaction.atomic():
    district = District.objects.create(lea_id="bench-dc09", name="Bench DC-09 USD")
    for n in range({accounts}):
        officer = create_user(
            username=f"badge{{n:05d}}", password=None, role=Role.OFFICER, district=district
        )
        register_dc09_device(officer=officer, account=f"{{{first} + n:04X}}", label=f"badge {{n}}")
print(json.dumps({{"district": district.pk}}))
"""


def account_name(number: int) -> str:
    return f"{FIRST_ACCOUNT + number:04X}"


def frame_for(account: str, seq: int, roll: float) -> tuple[bytes, str]:
    """1% panic (Contact ID 120), the rest split between NULL link tests and 602 periodic tests."""
    if roll < 0.01:
        return encode_message("ADM-CID", seq, account, f"#{account}|1120 01 001"), "panic"
    if roll < 0.5:
        return encode_message("NULL", seq, account), "null"
    return encode_message("ADM-CID", seq, account, f"#{account}|1602 00 000"), "test"


@dataclass
class Tally:
    """What the panels saw: latencies (ACK time, seconds), ACKed panics, retransmissions."""

    latency: list[tuple[float, float]] = field(default_factory=list)
    kinds: Counter[str] = field(default_factory=Counter)
    acked_panics: set[tuple[str, int]] = field(default_factory=set)
    retransmits: int = 0
    not_sent: int = 0
    given_up: int = 0
    wrong_replies: int = 0
    receiver_cpu: float = 0.0


@dataclass
class Panel:
    """One alarm panel: an account, its seq counter and its TCP connection."""

    number: int
    port: int
    seq: int = 0
    reader: asyncio.StreamReader | None = None
    writer: asyncio.StreamWriter | None = None

    @property
    def account(self) -> str:
        return account_name(self.number)

    def drop(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None

    async def exchange(self, frame: bytes) -> bytes:
        if self.writer is None or self.reader is None:
            self.reader, self.writer = await asyncio.wait_for(
                asyncio.open_connection(HOST, self.port), ACK_TIMEOUT
            )
        reader, writer = self.reader, self.writer
        assert reader is not None and writer is not None
        writer.write(frame)
        return await asyncio.wait_for(reader.readuntil(b"\r"), ACK_TIMEOUT)

    async def deliver(self, frame: bytes, give_up_at: float, tally: Tally) -> bytes | None:
        """Send until ACKed; a broken link or a timeout means reconnect and send the same bytes."""
        loop = asyncio.get_running_loop()
        while loop.time() < give_up_at:
            try:
                return await self.exchange(frame)
            except (OSError, EOFError, TimeoutError, asyncio.IncompleteReadError):
                # Close: a late ACK must not be read as the answer to the next frame.
                self.drop()
                tally.retransmits += 1
                await asyncio.sleep(0.2 + random.random() * 0.3)
        return None


async def drive(panel: Panel, interval: float, until: float, tally: Tally) -> None:
    """Send one frame every `interval` seconds until `until` (loop time); record the ACKs."""
    loop = asyncio.get_running_loop()
    rng = random.Random(panel.number * 7919 + panel.seq)
    tick = loop.time() + rng.random() * interval
    while tick < until:
        if loop.time() >= until:
            # Behind schedule at the end: the backlog is not sent (counted, not lost).
            tally.not_sent += int((until - tick) / interval) + 1
            return
        await asyncio.sleep(max(0.0, tick - loop.time()))
        panel.seq = panel.seq % 9999 + 1
        frame, kind = frame_for(panel.account, panel.seq, rng.random())
        sent = time.perf_counter()
        reply = await panel.deliver(frame, until + GIVE_UP, tally)
        tick += interval
        if reply is None:
            tally.given_up += 1
            continue
        if b'"ACK"%04d' % panel.seq not in reply:
            tally.wrong_replies += 1
            continue
        tally.latency.append((loop.time(), time.perf_counter() - sent))
        tally.kinds[kind] += 1
        if kind == "panic":
            tally.acked_panics.add((panel.account, panel.seq))


async def burst(panels: list[Panel], rate: float, seconds: float, tally: Tally) -> float:
    """All panels for `seconds`; returns the loop time the burst started."""
    loop = asyncio.get_running_loop()
    start = loop.time()
    interval = len(panels) / rate
    await asyncio.gather(*(drive(p, interval, start + seconds, tally) for p in panels))
    return start


def summarise(tally: Tally, since: float) -> tuple[int, float, float, float]:
    """(messages, msg/s, p50 ms, p99 ms) of the ACKs after `since` (loop time).

    The rate is over the span from `since` to the last ACK, so frames queued during the
    warm-up and ACKed late do not inflate it.
    """
    window = [(at, lat) for at, lat in tally.latency if at >= since]
    if not window:
        return 0, 0.0, float("nan"), float("nan")
    times = [at for at, _ in window]
    span = max(times) - (since or min(times)) or 1.0
    p50, p99 = percentiles([lat for _, lat in window], 50, 99)
    return len(window), len(window) / span, p50 * 1000, p99 * 1000


# -- the reference: bench_dc09's in-memory receiver -------------------------------------


def reference(accounts: int, rate: float, seconds: float, warmup: float) -> tuple[float, ...]:
    from bench.bench_dc09 import _serve

    context = multiprocessing.get_context("spawn")
    port_queue, stopping = context.Queue(), context.Event()
    server = context.Process(target=_serve, args=(port_queue, stopping))
    server.start()
    try:
        port = port_queue.get(timeout=60)
        panels = [Panel(n, port) for n in range(accounts)]
        tally = Tally()
        start = asyncio.run(_timed_burst(panels, rate, warmup + seconds, tally))
        return summarise(tally, start + warmup)
    finally:
        stopping.set()
        port_queue.get(timeout=30)
        server.join(timeout=30)


async def _timed_burst(panels: list[Panel], rate: float, seconds: float, tally: Tally) -> float:
    start = await burst(panels, rate, seconds, tally)
    for panel in panels:
        panel.drop()
    return start


# -- the console: the Redis channel layer group the receiver publishes to --------------


class ConsoleTap:
    """Counts `alarm.raised` console events per alarm id, straight from the channel layer."""

    def __init__(self, redis_url: str) -> None:
        from channels_redis.core import RedisChannelLayer

        # As the app configures it (settings._redis_host): with redis-py's default 5 s read
        # timeout, a blocking pop that times out while the receiver restarts can lose the
        # message it popped, and the tap would count a push the console did receive as missed.
        self.layer = RedisChannelLayer(hosts=[{"address": redis_url, "socket_timeout": None}])
        self.raised: Counter[int] = Counter()
        self.task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        channel = await self.layer.new_channel()
        await self.layer.group_add("console", channel)
        self.task = asyncio.create_task(self._listen(channel))

    async def _listen(self, channel: str) -> None:
        while True:
            try:
                message = await self.layer.receive(channel)
            except Exception:  # a Redis read timeout on a loaded box: read again
                await asyncio.sleep(0.1)
                continue
            event = message.get("event", {})
            if event.get("type") == "alarm.raised":
                self.raised[int(event["alarm_id"])] += 1

    async def close(self) -> None:
        if self.task is not None:
            self.task.cancel()
        await self.layer.flush()


# -- the run ---------------------------------------------------------------------------


def process_cpu(pid: int) -> float:
    """CPU seconds (user + system) a process and its live child processes (the receiver's
    commit process) have used so far, from /proc (Linux)."""

    def stat(path: Path) -> list[str]:
        return path.read_text().rsplit(")", 1)[1].split()

    total = 0.0
    for path in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat(path)
        except (OSError, IndexError):
            continue  # a process that ended meanwhile
        if path.parent.name == str(pid) or fields[1] == str(pid):  # itself, or its child
            total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


@dataclass
class Receiver:
    """`attend dc09` as a subprocess; SIGKILL and restart on the same port."""

    env: dict[str, str]
    port: int
    log: Path
    process: subprocess.Popen[bytes] | None = None
    starts: list[float] = field(default_factory=list)

    def start(self) -> float:
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                attend("dc09", "--listen", f"{HOST}:{self.port}"),
                env=self.env,
                cwd=ROOT,
                stdout=out,
                stderr=out,
            )
        waited = wait_port(self.port, self.process, timeout=120)
        self.starts.append(waited)
        return waited

    def kill(self) -> None:
        assert self.process is not None
        os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait(10)


async def durability(
    panels: list[Panel], receiver: Receiver, rate: float, seconds: float, tally: Tally
) -> float:
    """A burst with a SIGKILL + restart halfway; returns the seconds the receiver was down."""
    killed: dict[str, float] = {}

    async def assassin() -> None:
        await asyncio.sleep(seconds / 2)
        started = time.monotonic()
        receiver.kill()
        await asyncio.to_thread(receiver.start)
        killed["down"] = time.monotonic() - started

    await asyncio.gather(burst(panels, rate, seconds, tally), assassin())
    return killed.get("down", float("nan"))


def database_panics(url: str) -> dict[int, tuple[str, int]]:
    """Every DC-09 red alert in the database: alarm id → (account, seq) from its dedupe key."""
    import psycopg

    found: dict[int, tuple[str, int]] = {}
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "SELECT id, dedupe_key FROM safety_alarm WHERE source = 'dc09' AND kind = 'red_alert'"
        ).fetchall()
    for pk, key in rows:
        # dc09:<receiver>:<line>:<account>:<seq>:<token>:<data>:<minute>
        parts = key.split(":")
        found[int(pk)] = (parts[3], int(parts[4]))
    return found


def report_durability(tally: Tally, url: str, tap: ConsoleTap | None) -> int:
    in_db = database_panics(url)
    per_key = Counter(in_db.values())
    missing = tally.acked_panics - set(per_key)
    db_duplicates = sum(n - 1 for n in per_key.values())
    print(
        f"dc09 durability: ACKed panic alarms missing from the database: {len(missing)} "
        f"of {len(tally.acked_panics):,} ACKed (must be 0)"
        + (f"; e.g. {sorted(missing)[:5]}" if missing else "")
    )
    print(
        f"dc09 durability: duplicate panic alarms in the database (same account+seq): "
        f"{db_duplicates} among {len(in_db):,} alarms (must be 0)"
    )
    failed = bool(missing or db_duplicates)
    if tap is not None:
        on_console: Counter[tuple[str, int]] = Counter()
        for alarm_id, times in tap.raised.items():
            if alarm_id in in_db:
                on_console[in_db[alarm_id]] += times
        console_duplicates = sum(n - 1 for n in on_console.values())
        unseen = len(tally.acked_panics - set(on_console))
        print(
            f"dc09 durability: duplicate panic alarms on the console (alarm.raised events per "
            f"account+seq): {console_duplicates} (must be 0); ACKed panics never on the "
            f"console: {unseen}"
        )
        failed = failed or bool(console_duplicates)
    return 1 if failed else 0


async def _load_and_kill(
    args: argparse.Namespace, receiver: Receiver, url: str
) -> tuple[Tally, Tally, float, float, ConsoleTap | None]:
    panels = [Panel(n, receiver.port) for n in range(args.accounts)]
    tap = ConsoleTap(args.redis_url) if args.redis_url else None
    if tap is not None:
        await tap.start()
    loaded = Tally()
    start = await burst(panels, args.rate, args.warmup + args.seconds, loaded)
    assert receiver.process is not None
    loaded.receiver_cpu = process_cpu(receiver.process.pid)
    killed = Tally()
    down = await durability(panels, receiver, args.rate, args.burst_seconds, killed)
    await asyncio.sleep(2.0)  # the last console events are on their way
    for panel in panels:
        panel.drop()
    if tap is not None:
        await tap.close()
    return loaded, killed, start + args.warmup, down, tap


def run(args: argparse.Namespace) -> int:
    print(f"dc09 durability: setting up ({load_line()})")
    url = create_database(args.db_name, args.pg)
    workdir = Path(tempfile.mkdtemp(prefix="attend-bench-dc09-"))
    env = stack_env(url, args.redis_url or None)
    receiver = Receiver(env, args.port or free_port(), workdir / "dc09.log")
    try:
        migrate(env)
        run_python(env, SEED.format(accounts=args.accounts, first=FIRST_ACCOUNT))
        ref = reference(args.accounts, args.rate, args.reference_seconds, 2.0)
        receiver.start()
        loaded, killed, since, down, tap = asyncio.run(_load_and_kill(args, receiver, url))
        return _print(args, ref, loaded, killed, since, down, tap, url, workdir)
    finally:
        stop(receiver.process)
        if not args.keep_db:
            drop_database(args.db_name, args.pg)


def _print(
    args: argparse.Namespace,
    ref: tuple[float, ...],
    loaded: Tally,
    killed: Tally,
    since: float,
    down: float,
    tap: ConsoleTap | None,
    url: str,
    workdir: Path,
) -> int:
    count, per_s, p50, p99 = summarise(loaded, since)
    _, ref_per_s, ref_p50, ref_p99 = ref
    verdict = "meets" if p99 <= args.target_ms else "MISSES"
    print(
        f"dc09 durability: PostgreSQL receiver, {args.accounts} accounts over TCP, target "
        f"{args.rate:,.0f} msg/s for {args.seconds:.0f} s after {args.warmup:.0f} s warm-up: "
        f"{count:,} ACKed = {per_s:,.0f} msg/s ({per_s / ref_per_s:.2f}× the in-memory "
        f"reference's {ref_per_s:,.0f} msg/s); mix {dict(loaded.kinds)}; panel backlog not "
        f"sent at the end {loaded.not_sent:,}; retransmissions {loaded.retransmits:,}; "
        f"frames never ACKed {loaded.given_up}"
    )
    print(
        f"dc09 durability: ACK latency p50 {p50:.1f} ms, p99 {p99:.1f} ms ({verdict} the "
        f"{args.target_ms:.0f} ms p99 target); in-memory reference p50 {ref_p50:.2f} ms, p99 "
        f"{ref_p99:.2f} ms → ratio p50 {p50 / ref_p50:.0f}×, p99 {p99 / ref_p99:.0f}×"
    )
    # On a shared machine latency mostly measures the neighbours; the receiver's own CPU per
    # frame does not, and says how much of the 2 cores the target rate needs.
    frames = len(loaded.latency)  # every ACKed frame of the burst, warm-up included
    print(
        f"dc09 durability: receiver CPU (with its commit process) {loaded.receiver_cpu:.1f} s "
        f"for {frames:,} frames "
        f"= {1e6 * loaded.receiver_cpu / max(frames, 1):.0f} µs/frame "
        f"({args.rate * loaded.receiver_cpu / max(frames, 1):.0%} of one core at "
        f"{args.rate:,.0f} msg/s)"
    )
    k_count, k_per_s, k_p50, k_p99 = summarise(killed, 0.0)
    print(
        f"dc09 durability: kill burst {args.burst_seconds:.0f} s with SIGKILL at "
        f"{args.burst_seconds / 2:.0f} s: receiver down {down:.1f} s; {k_count:,} ACKed "
        f"({k_per_s:,.0f} msg/s), p50 {k_p50:.1f} ms, p99 {k_p99:.1f} ms; "
        f"{killed.retransmits:,} retransmissions; backlog not sent {killed.not_sent:,}; "
        f"frames never ACKed {killed.given_up}; "
        f"wrong replies {loaded.wrong_replies + killed.wrong_replies}"
    )
    both = Tally(acked_panics=loaded.acked_panics | killed.acked_panics)
    failed = report_durability(both, url, tap)
    print(f"dc09 durability: {load_line()} at the end; receiver log {workdir / 'dc09.log'}")
    lost = loaded.given_up + killed.given_up
    return failed or (1 if lost else 0)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--accounts", type=int, default=1000)
    parser.add_argument("--rate", type=float, default=2000.0, help="messages per second")
    parser.add_argument("--seconds", type=float, default=60.0, help="measured load phase")
    parser.add_argument("--warmup", type=float, default=5.0)
    parser.add_argument("--burst-seconds", type=float, default=20.0, help="the SIGKILL burst")
    parser.add_argument("--reference-seconds", type=float, default=10.0)
    parser.add_argument("--target-ms", type=float, default=100.0, help="p99 ACK target")
    parser.add_argument("--pg", default=PG_BASE, help="PostgreSQL server URL (no database)")
    parser.add_argument("--db-name", default="attend_bench_dc09")
    parser.add_argument(
        "--redis-url",
        default="redis://127.0.0.1:6379/6",
        help="channel layer for the receiver and the console tap ('' for none)",
    )
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--keep-db", action="store_true", help="do not drop the scratch DB")
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
