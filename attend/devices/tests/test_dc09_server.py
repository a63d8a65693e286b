"""The receiver end to end on 127.0.0.1 (ephemeral port) with a fake handler."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping
from datetime import UTC, datetime, timedelta

from siadc09 import account as sia_account
from siadc09 import message as sia_message
from siadc09 import xdata as sia_xdata

from attend.devices.dc09 import Account, Event, EventKind, Transition, encode_message
from attend.devices.dc09.server import Receiver
from attend.devices.tests.dc09_helpers import KEYS, VECTORS, DomeAes

PANIC = VECTORS[2]


class FakeStore:
    """Stands in for the database: records commits in order with the replies seen."""

    def __init__(self, delay: float = 0.0, ok: bool = True) -> None:
        self.delay, self.ok = delay, ok
        self.events: list[Event] = []
        self.log: list[str] = []
        self.supervision: list[Transition] = []

    async def handle(self, event: Event) -> bool:
        await asyncio.sleep(self.delay)
        if self.ok:
            self.events.append(event)
            self.log.append(f"commit {event.seq}")
        return self.ok

    async def report(self, transition: Transition) -> None:
        self.supervision.append(transition)


def accounts() -> Mapping[str, Account]:
    return {
        "1234": Account("1234", supervision_seconds=3600),
        "1002": Account("1002"),
        "12345A": Account("12345A"),
        "ABCD": Account("ABCD", key=KEYS[256]),
    }


async def running(store: FakeStore, **options: object) -> AsyncIterator[tuple[Receiver, int]]:
    receiver = Receiver(
        handler=store.handle,
        accounts=accounts(),
        on_supervision=store.report,
        **options,  # type: ignore[arg-type]
    )
    port = await receiver.start("127.0.0.1", 0)
    try:
        yield receiver, port
    finally:
        await receiver.stop()


async def tcp_exchange(port: int, data: bytes, replies: int, timeout: float = 2.0) -> bytes:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(data)
    await writer.drain()
    got = b""
    try:
        while got.count(b"\r") < replies:
            chunk = await asyncio.wait_for(reader.read(4096), timeout)
            if not chunk:
                break
            got += chunk
    except TimeoutError:
        pass
    writer.close()
    return got


async def udp_exchange(port: int, data: bytes, timeout: float = 1.0) -> bytes | None:
    loop = asyncio.get_running_loop()
    replies: asyncio.Queue[bytes] = asyncio.Queue()

    class Client(asyncio.DatagramProtocol):
        def datagram_received(self, reply: bytes, addr: tuple[str, int]) -> None:
            replies.put_nowait(reply)

    transport, _ = await loop.create_datagram_endpoint(Client, remote_addr=("127.0.0.1", port))
    transport.sendto(data)
    try:
        return await asyncio.wait_for(replies.get(), timeout)
    except TimeoutError:
        return None
    finally:
        transport.close()


def run(coroutine: object) -> None:
    asyncio.run(coroutine)  # type: ignore[arg-type]


def test_it_acks_over_tcp_only_after_the_handler_committed() -> None:
    async def scenario() -> None:
        store = FakeStore(delay=0.2)
        async for _receiver, port in running(store):
            reply = await tcp_exchange(port, PANIC[0], 1)
            store.log.append("ack received")
            assert reply == PANIC[1]
            assert store.log == ["commit 0001", "ack received"]
            assert store.events[0].kind is EventKind.RED_ALERT

    run(scenario())


def test_it_answers_the_vectors_over_tcp_in_one_segment_and_byte_by_byte() -> None:
    async def scenario() -> None:
        store = FakeStore()
        async for _receiver, port in running(store):
            stream = b"".join(frame for frame, _ in VECTORS)
            assert await tcp_exchange(port, stream, 5) == b"".join(r for _, r in VECTORS)
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            for byte in VECTORS[3][0]:
                writer.write(bytes([byte]))
                await writer.drain()
            assert await asyncio.wait_for(reader.readuntil(b"\r"), 2) == VECTORS[3][1]
            writer.close()

    run(scenario())


def test_it_answers_over_udp_on_the_same_port() -> None:
    async def scenario() -> None:
        store = FakeStore()
        async for _receiver, port in running(store):
            assert await udp_exchange(port, PANIC[0]) == PANIC[1]
            assert [e.code for e in store.events] == ["120"]

    run(scenario())


def test_it_gives_no_ack_to_a_bad_crc_over_tcp_and_udp() -> None:
    async def scenario() -> None:
        store = FakeStore()
        async for receiver, port in running(store):
            corrupt = PANIC[0].replace(b"7BE8", b"7BE9")
            assert await tcp_exchange(port, corrupt, 1, timeout=0.3) == b""
            assert await udp_exchange(port, corrupt, timeout=0.3) is None
            assert store.events == []
            assert receiver.counts["silent"] == 2

    run(scenario())


def test_it_gives_no_ack_when_the_handler_fails_and_acks_the_retry() -> None:
    async def scenario() -> None:
        store = FakeStore(ok=False)
        async for _receiver, port in running(store):
            assert await tcp_exchange(port, PANIC[0], 1, timeout=0.3) == b""
            store.ok = True
            assert await tcp_exchange(port, PANIC[0], 1) == PANIC[1]
            assert len(store.events) == 1

    run(scenario())


def test_it_acks_a_duplicate_again_without_handling_it_twice() -> None:
    async def scenario() -> None:
        store = FakeStore()
        async for receiver, port in running(store):
            assert await tcp_exchange(port, PANIC[0] * 2, 2) == PANIC[1] * 2
            assert await udp_exchange(port, PANIC[0]) == PANIC[1]
            assert len(store.events) == 1
            assert receiver.counts["duplicates"] == 2

    run(scenario())


def test_it_answers_duh_to_an_unknown_account_after_looking_again() -> None:
    async def scenario() -> None:
        store = FakeStore()
        loads: list[int] = []

        async def load() -> Mapping[str, Account]:
            loads.append(1)
            return {"1234": Account("1234")}

        async for _receiver, port in running(store, load_accounts=load):
            reply = await tcp_exchange(port, encode_message("NULL", 1, "9999"), 1)
            assert reply.startswith(b"\n") and b'"DUH"0001L0#9999[]' in reply
            assert len(loads) == 1  # the look-up after start is rate-limited

    run(scenario())


def test_it_acks_an_encrypted_siadc09_badge_with_star_ack() -> None:
    async def scenario() -> None:
        store = FakeStore()
        async for _receiver, port in running(store, cipher=DomeAes()):
            badge = sia_account.Account(acct=0xABCD, key=KEYS[256])
            data = sia_xdata.parse_data(b"#ABCD|NPA001")
            config = {"idtoken": "SIA-DCS", "seqno": 77, "data": data}
            message = sia_message.EventMessage(badge, config=config)
            reply = await tcp_exchange(port, bytes(message.encode()), 1)
            parsed = sia_message.parse_frame(reply, keys=KEYS[256])
            assert isinstance(parsed, sia_message.AckMessage)
            assert (parsed.seq, parsed.encrypted) == (77, True)
            assert store.events[0].kind is EventKind.RED_ALERT

    run(scenario())


def test_it_reports_communication_lost_and_restored() -> None:
    async def scenario() -> None:
        store = FakeStore()
        clock = [datetime(2026, 11, 23, 12, 0, tzinfo=UTC)]
        options = {"clock": lambda: clock[0], "sweep_seconds": 0.02}
        async for _receiver, port in running(store, **options):
            clock[0] += timedelta(seconds=3601)
            await asyncio.sleep(0.1)
            assert [(t.account, t.lost) for t in store.supervision] == [("1234", True)]
            assert await tcp_exchange(port, VECTORS[4][0], 1) == VECTORS[4][1]
            assert [(t.account, t.lost) for t in store.supervision][1:] == [("1234", False)]

    run(scenario())


def test_it_serves_many_connections_at_once() -> None:
    async def scenario() -> None:
        store = FakeStore(delay=0.01)
        async for _receiver, port in running(store):
            frames = [encode_message("ADM-CID", n, "1002", "#1002|1602 00 001") for n in range(50)]
            replies = await asyncio.gather(*(tcp_exchange(port, f, 1) for f in frames))
            assert all(b'"ACK"' in r for r in replies)
            assert len(store.events) == 50

    run(scenario())


def test_a_handler_slower_than_the_timeout_gets_no_ack_and_the_next_frame_does() -> None:
    async def scenario() -> None:
        store = FakeStore(delay=0.3)
        async for receiver, _port in running(store, handler_timeout=0.05):
            assert await receiver.answer(PANIC[0]) is None  # no ACK: the panel will resend
            assert receiver.counts["handler_failures"] == 1
            store.delay = 0.0
            assert await receiver.answer(PANIC[0]) == PANIC[1]
            assert [e.seq for e in store.events] == ["0001"]  # the timed-out one never landed

    run(scenario())
