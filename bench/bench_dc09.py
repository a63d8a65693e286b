"""DC-09 benchmarks (not tests): the receiver on PostgreSQL, codec fuzz, in-memory load.

    attend bench dc09 [options of bench_dc09_durability]   (the default: --mode pg)
    attend bench dc09 --mode fuzz [--count 1000000]
    attend bench dc09 --mode load [--accounts 1000 --rate 2000 --seconds 60]

pg: `attend dc09` on PostgreSQL under load, then SIGKILL and restart (bench_dc09_durability).

fuzz: mutated frames (bit flips, truncations, splices, inserted bytes) of the five
SAFETY.md vectors and of AES-128/192/256 frames go through `decide` twice: with the right
accounts (any ACK must be for an intact frame, checked with siadc09's independent CRC)
and with every account keyed wrongly (nothing may be ACKed). Half the mutants are
re-framed with a correct CRC and length so the content parser and decryption are hit.

load: the receiver runs in its own process with an in-memory handler; N simulated
accounts each keep a TCP connection and send mixed NULL / 602 test / 1% panic messages,
one outstanding at a time, to reach the target rate; ACK latency p50/p99 and throughput.
The AES backend is `cryptography` when installed, else pycryptodomex (a test-peer dependency).
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import platform
import random
import statistics
import sys
import time
from collections import Counter
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from attend.devices.dc09 import Account, Event, ReplyKind, decide, encode_message
from attend.devices.dc09.crypto import BlockCipher, default_cipher
from attend.devices.dc09.frame import wrap
from attend.devices.dc09.server import Receiver

VECTORS = [
    b'\nCE110032"SIA-DCS"9876R579BDFL789ABC#12345A[#12345A|NFA129]\r',
    b'\n87CD0037"ADM-CID"9876R579BDFL789ABC#12345A[#12345A|1110 00 129]\r',
    b'\n7BE80027"ADM-CID"0001L0#1234[#1234|1120 01 015]\r',
    b'\n9EC40027"ADM-CID"0001L0#1002[#1002|1602 00 001]\r',
    b'\n28330015"NULL"0000R0L0#1234[]\r',
]
KEYS = {bits: bytes(range(bits // 8)) for bits in (128, 192, 256)}


class _DomeAes:
    def encrypt(self, key: bytes, data: bytes) -> bytes:
        from Cryptodome.Cipher import AES

        return bytes(AES.new(key, AES.MODE_CBC, iv=bytes(16)).encrypt(data))

    def decrypt(self, key: bytes, data: bytes) -> bytes:
        from Cryptodome.Cipher import AES

        return bytes(AES.new(key, AES.MODE_CBC, iv=bytes(16)).decrypt(data))


def cipher() -> tuple[BlockCipher, str]:
    backend = default_cipher()
    if backend is not None:
        return backend, "cryptography"
    return _DomeAes(), "pycryptodomex (cryptography not installed)"


# -- fuzz ------------------------------------------------------------------------------


def fuzz_seeds(aes: BlockCipher, now: datetime) -> list[bytes]:
    seeds = list(VECTORS)
    for bits, account in ((128, "A128"), (192, "A192"), (256, "A256")):
        key = KEYS[bits]
        seeds += [
            encode_message(
                "ADM-CID", 5, account, f"#{account}|1120 01 015", timestamp=now, key=key, cipher=aes
            ),
            encode_message(
                "SIA-DCS",
                6,
                account,
                f"#{account}|NHA002",
                xdata=["X1.5", "Y2.5"],
                timestamp=now,
                key=key,
                cipher=aes,
            ),
            encode_message("NULL", 7, account, timestamp=now, key=key, cipher=aes),
        ]
    return seeds


def mutate(rng: random.Random, seeds: list[bytes]) -> bytes:
    frame = bytearray(rng.choice(seeds))
    for _ in range(rng.randint(1, 4)):
        how = rng.randrange(4)
        at = rng.randrange(max(len(frame), 1))
        if how == 0 and frame:
            frame[at] ^= 1 << rng.randrange(8)
        elif how == 1:
            del frame[at : at + rng.randint(1, 20)]
        elif how == 2:
            other = rng.choice(seeds)
            frame[at:] = other[rng.randrange(len(other)) :]
        else:
            frame[at:at] = rng.randbytes(rng.randint(0, 8))
    if rng.random() < 0.5 and len(frame) > 10:
        return wrap(bytes(frame[9:-1])[:0xFFF])
    return bytes(frame)


def intact(frame: bytes) -> bool:
    from siadc09.util import crc  # an independent CRC implementation

    body = frame[9:-1]
    try:
        return (
            frame[:1] == b"\n"
            and frame[-1:] == b"\r"
            and int(frame[5:9], 16) == len(body)
            and int(frame[1:5], 16) == crc(body)
        )
    except ValueError:
        return False


def run_fuzz(count: int, seed: int) -> int:
    aes, backend = cipher()
    now = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
    right: dict[str, Account] = {n: Account(n) for n in ("12345A", "1234", "1002")}
    right |= {f"A{b}": Account(f"A{b}", key=KEYS[b]) for b in KEYS}
    wrong = {n: Account(n, key=bytes(reversed(KEYS[256]))) for n in right}
    seeds, rng = fuzz_seeds(aes, now), random.Random(seed)
    replies: Counter[str] = Counter()
    failures = 0
    started = time.perf_counter()
    for _ in range(count):
        frame = mutate(rng, seeds)
        try:
            good = decide(frame, now, right, aes)
            bad = decide(frame, now, wrong, aes)
        except Exception as exc:
            failures += 1
            print(f"EXCEPTION {type(exc).__name__}: {exc} for {frame!r}")
            continue
        replies[good.reply_kind or "silent"] += 1
        if good.reply_kind is ReplyKind.ACK and not intact(frame):
            failures += 1
            print(f"ACKED A CORRUPT FRAME {frame!r}")
        if bad.reply_kind is ReplyKind.ACK:
            failures += 1
            print(f"ACKED WITH A WRONG KEY {frame!r}")
    elapsed = time.perf_counter() - started
    print(
        f"dc09 fuzz: {count:,} mutated frames × 2 decisions in {elapsed:.1f} s "
        f"= {count / elapsed:,.0f} frames/s ({2 * count / elapsed:,.0f} decisions/s); "
        f"AES backend {backend}; Python {platform.python_version()} on {platform.machine()}"
    )
    print(
        "  replies with the right keys: "
        + ", ".join(f"{k} {v:,}" for k, v in sorted(replies.items()))
    )
    print(f"  failures (exception, corrupt ACKed, wrong key ACKed): {failures}")
    return 1 if failures else 0


# -- load ------------------------------------------------------------------------------


def _serve(port_queue: Any, stop: Any) -> None:
    async def main() -> None:
        store: list[Event] = []

        async def handler(event: Event) -> bool:
            store.append(event)  # in-memory stand-in for the PostgreSQL commit
            return True

        accounts: Mapping[str, Account] = {
            f"{n:04X}": Account(f"{n:04X}") for n in range(4096, 4096 + 10000)
        }
        receiver = Receiver(handler=handler, accounts=accounts)
        port_queue.put(await receiver.start("127.0.0.1", 0))
        while not stop.is_set():
            await asyncio.sleep(0.2)
        port_queue.put(dict(receiver.counts))
        await receiver.stop()

    asyncio.run(main())


async def _account(
    port: int, number: int, interval: float, until: float, out: dict[str, Any]
) -> None:
    account = f"{4096 + number:04X}"
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    rng = random.Random(number)
    loop = asyncio.get_running_loop()
    tick = loop.time() + rng.random() * interval
    seq = 0
    while tick < until:
        await asyncio.sleep(max(0.0, tick - loop.time()))
        seq += 1
        roll = rng.random()
        if roll < 0.01:
            frame, kind = (
                encode_message("ADM-CID", seq, account, f"#{account}|1120 01 001"),
                "panic",
            )
        elif roll < 0.5:
            frame, kind = encode_message("NULL", seq, account), "null"
        else:
            frame, kind = encode_message("ADM-CID", seq, account, f"#{account}|1602 00 000"), "test"
        sent = time.perf_counter()
        writer.write(frame)
        reply = await reader.readuntil(b"\r")
        out["latency"].append((loop.time(), time.perf_counter() - sent))
        out["kinds"][kind] += 1
        out["acks"] += b'"ACK"' in reply
        tick += interval
    writer.close()


def run_load(accounts: int, rate: float, seconds: float, warmup: float = 5.0) -> int:
    context = multiprocessing.get_context("spawn")
    port_queue, stop = context.Queue(), context.Event()
    server = context.Process(target=_serve, args=(port_queue, stop))
    server.start()
    port = port_queue.get(timeout=30)
    out: dict[str, Any] = {"latency": [], "kinds": Counter(), "acks": 0}

    async def clients() -> float:
        loop = asyncio.get_running_loop()
        start = loop.time()
        until = start + warmup + seconds
        await asyncio.gather(
            *(_account(port, n, accounts / rate, until, out) for n in range(accounts))
        )
        return start + warmup

    measured_from = asyncio.run(clients())
    stop.set()
    counts = port_queue.get(timeout=30)
    server.join(timeout=30)
    everything = sorted(lat for _, lat in out["latency"])
    latency = sorted(lat for at, lat in out["latency"] if at >= measured_from)
    cuts = statistics.quantiles(latency, n=100)
    print(
        f"dc09 load: {accounts} accounts over TCP, target {rate:,.0f} msg/s, {seconds:.0f} s "
        f"measured after {warmup:.0f} s warm-up: {len(latency):,} messages = "
        f"{len(latency) / seconds:,.0f} msg/s; ACK latency p50 {cuts[49] * 1000:.2f} ms, "
        f"p99 {cuts[98] * 1000:.2f} ms, max {latency[-1] * 1000:.1f} ms "
        f"(with warm-up: p99 {statistics.quantiles(everything, n=100)[98] * 1000:.2f} ms, "
        f"max {everything[-1] * 1000:.1f} ms); ACKs {out['acks']:,} of {len(everything):,}; "
        f"mix {dict(out['kinds'])}; receiver counts {counts}; in-memory handler; "
        f"Python {platform.python_version()}, {multiprocessing.cpu_count()} CPUs"
    )
    return 0 if out["acks"] == len(everything) else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--mode", choices=["pg", "fuzz", "load"], default="pg")
    known, rest = parser.parse_known_args(argv)
    if known.mode == "pg":  # the benchmark: every other option is the durability run's
        from bench import bench_dc09_durability

        return bench_dc09_durability.main(rest)
    parser.add_argument("--count", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=9)
    parser.add_argument("--accounts", type=int, default=1000)
    parser.add_argument("--rate", type=float, default=2000.0)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--warmup", type=float, default=5.0)
    args = parser.parse_args(argv)
    if args.mode == "fuzz":
        return run_fuzz(args.count, args.seed)
    return run_load(args.accounts, args.rate, args.seconds, args.warmup)


if __name__ == "__main__":
    sys.exit(main())
