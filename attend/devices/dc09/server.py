"""The DC-09 receiver: asyncio TCP and UDP on one port.

For each frame: decide → hand the event to the injected async `handler`, which must
commit before we answer → write the ACK. A handler that fails or times out gets the
frame no reply, so the sender retransmits: an ACKed alarm is never lost.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, datetime

from attend.devices.dc09.crypto import BlockCipher
from attend.devices.dc09.decide import Account, Decision, Event, ReplyKind, decide
from attend.devices.dc09.dedupe import DuplicateWindow
from attend.devices.dc09.stream import FrameSplitter
from attend.devices.dc09.supervision import SupervisionTracker, Transition

__all__ = ["AccountLoader", "Handler", "Receiver", "SupervisionCallback", "utc_now"]

log = logging.getLogger("attend.devices.dc09")

Handler = Callable[[Event], Awaitable[bool]]
SupervisionCallback = Callable[[Transition], Awaitable[None]]
AccountLoader = Callable[[], Awaitable[Mapping[str, Account]]]


def utc_now() -> datetime:
    return datetime.now(UTC)


class Receiver:
    """Decides, hands over, acknowledges; tracks duplicates and per-account supervision."""

    def __init__(
        self,
        *,
        handler: Handler,
        accounts: Mapping[str, Account] | None = None,
        load_accounts: AccountLoader | None = None,
        on_supervision: SupervisionCallback | None = None,
        cipher: BlockCipher | None = None,
        clock: Callable[[], datetime] = utc_now,
        duplicate_seconds: float = 300.0,
        handler_timeout: float = 10.0,
        sweep_seconds: float = 1.0,
        reload_seconds: float = 60.0,
    ) -> None:
        self.handler, self.on_supervision = handler, on_supervision
        self.accounts: Mapping[str, Account] = dict(accounts or {})
        self.load_accounts, self.cipher, self.clock = load_accounts, cipher, clock
        self.duplicates = DuplicateWindow(duplicate_seconds)
        self.supervision = SupervisionTracker()
        self.handler_timeout, self.sweep_seconds = handler_timeout, sweep_seconds
        self.reload_seconds = reload_seconds
        self.counts: Counter[str] = Counter()
        self._locks: dict[str, asyncio.Lock] = {}
        self._loaded_at = float("-inf")
        self._servers: list[asyncio.AbstractServer] = []
        self._udp: asyncio.DatagramTransport | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    # -- lifecycle -------------------------------------------------------------------

    async def start(self, host: str, port: int) -> int:
        """Listen on TCP and UDP `host:port` (port 0: any free one); returns the port."""
        await self.reload_accounts()
        server = await asyncio.start_server(self._serve_tcp, host, port)
        self._servers.append(server)
        port = server.sockets[0].getsockname()[1]
        loop = asyncio.get_running_loop()
        transport, _ = await loop.create_datagram_endpoint(
            lambda: _Datagrams(self), local_addr=(host, port)
        )
        self._udp = transport
        self._spawn(self._background())
        log.info("DC-09 receiver listening on %s:%s (TCP and UDP)", host, port)
        return int(port)

    async def stop(self) -> None:
        for server in self._servers:
            server.close()
            await server.wait_closed()
        if self._udp is not None:
            self._udp.close()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        closing = getattr(self.handler, "aclose", None)
        if closing is not None:  # e.g. write the last second's "last heard" times
            await closing()

    def _spawn(self, work: Awaitable[None]) -> None:
        task: asyncio.Task[None] = asyncio.ensure_future(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def reload_accounts(self) -> None:
        """Fetch the accounts again and supervise the ones that have an interval."""
        if self.load_accounts is not None:
            self.accounts = dict(await self.load_accounts())
        self._loaded_at = time.monotonic()
        now = self.clock()
        for account in self.accounts.values():
            self.supervision.watch(account.account, account.supervision_seconds, now)

    async def _background(self) -> None:
        """Sweep supervision every `sweep_seconds`; reload accounts every `reload_seconds`."""
        while True:
            await asyncio.sleep(self.sweep_seconds)
            if time.monotonic() - self._loaded_at > self.reload_seconds:
                await self._guard(self.reload_accounts(), "reloading accounts")
            for transition in self.supervision.sweep(self.clock()):
                await self._report(transition)

    # -- one frame -----------------------------------------------------------------

    async def answer(self, raw: bytes) -> bytes | None:
        """The reply to one frame (None: stay silent), after the handler has committed."""
        self.counts["frames"] += 1
        decision = await self._decide(raw)
        event = decision.event
        if event is None:
            self.counts[str(decision.reply_kind or "silent")] += 1
            if decision.reason:
                log.info("DC-09 %s: %s", decision.reply_kind or "no reply", decision.reason)
            return decision.reply
        async with self._locks.setdefault(event.account, asyncio.Lock()):
            return await self._accept(decision, event)

    async def _decide(self, raw: bytes) -> Decision:
        decision = decide(raw, self.clock(), self.accounts, self.cipher)
        stale = time.monotonic() - self._loaded_at > 5.0
        if decision.reason == "unknown account" and self.load_accounts and stale:
            # A device added a moment ago: look again before refusing it.
            await self._guard(self.reload_accounts(), "reloading accounts")
            decision = decide(raw, self.clock(), self.accounts, self.cipher)
        return decision

    async def _accept(self, decision: Decision, event: Event) -> bytes | None:
        """1. A duplicate is ACKed again without the handler.
        2. Otherwise the handler must return True in time, or the frame gets no reply.
        3. The account is heard (which may restore its supervision), then the ACK goes out.
        """
        now = self.clock()
        if self.duplicates.seen(event.dedupe_key, now):
            self.counts["duplicates"] += 1
        elif await self._handled(event):
            self.duplicates.remember(event.dedupe_key, now)
        else:
            self.counts["handler_failures"] += 1
            return None
        restored = self.supervision.heard(event.account, now)
        if restored is not None:
            await self._report(restored)
        self.counts[str(ReplyKind.ACK)] += 1
        return decision.reply

    async def _handled(self, event: Event) -> bool:
        try:
            # asyncio.timeout runs the handler in this task; wait_for would wrap every frame's
            # handler in a new Task, which cost more than decoding the frame.
            async with asyncio.timeout(self.handler_timeout):
                return await self.handler(event)
        except Exception:
            log.exception("DC-09 handler failed for %s seq %s", event.account, event.seq)
            return False

    async def _report(self, transition: Transition) -> None:
        if self.on_supervision is not None:
            await self._guard(self.on_supervision(transition), "reporting supervision")

    async def _guard(self, work: Awaitable[None], what: str) -> None:
        try:
            await work
        except Exception:
            log.exception("DC-09 receiver: failed %s", what)

    # -- transports ----------------------------------------------------------------

    async def _serve_tcp(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """Frames from one connection are answered in order."""
        splitter = FrameSplitter()
        try:
            while data := await reader.read(4096):
                for raw in splitter.feed(data):
                    reply = await self.answer(raw)
                    if reply is not None:
                        writer.write(reply)
                        await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()

    async def _answer_datagram(self, data: bytes, address: tuple[str, int]) -> None:
        for raw in FrameSplitter().feed(data):
            reply = await self.answer(raw)
            if reply is not None and self._udp is not None:
                self._udp.sendto(reply, address)


class _Datagrams(asyncio.DatagramProtocol):
    def __init__(self, receiver: Receiver) -> None:
        self.receiver = receiver

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        self.receiver._spawn(self.receiver._answer_datagram(data, addr))
