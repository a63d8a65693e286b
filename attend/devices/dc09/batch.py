"""Group commit for the DC-09 receiver: many frames, one transaction, each ACKed after it.

A commit costs about the same for one event as for a hundred (the round trips and the
fsync dominate), so frames that arrive while a commit is running wait and go together in
the next one. There is no timer: an idle receiver commits a lone frame at once, a busy one
commits in batches as large as the load makes them (up to `max_batch`). The receiver's rule
is unchanged — no ACK before the event is committed — because each frame's future is
resolved only after its batch's transaction has returned.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence

from attend.devices.dc09.decide import Event

__all__ = ["BatchHandler", "GroupCommit", "HeardLater", "TwoLanes"]

log = logging.getLogger("attend.devices.dc09")

BatchHandler = Callable[[Sequence[Event]], Awaitable[Sequence[bool]]]


class GroupCommit:
    """An async `Handler` (event → committed?) that commits queued events in batches."""

    def __init__(self, commit: BatchHandler, *, max_batch: int = 500) -> None:
        self.commit, self.max_batch = commit, max_batch
        self._waiting: list[tuple[Event, asyncio.Future[bool]]] = []
        self._draining: asyncio.Task[None] | None = None
        self.batches = 0

    async def __call__(self, event: Event) -> bool:
        future: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self._waiting.append((event, future))
        if self._draining is None or self._draining.done():
            self._draining = asyncio.ensure_future(self._drain())
        return await future

    async def _drain(self) -> None:
        """Commit what is waiting, batch after batch, until nothing is."""
        while self._waiting:
            batch = self._waiting[: self.max_batch]
            del self._waiting[: self.max_batch]
            outcomes = await self._commit([event for event, _ in batch])
            self.batches += 1
            for (_, future), ok in zip(batch, outcomes, strict=True):
                if not future.done():  # the receiver may have given up waiting (timeout)
                    future.set_result(ok)

    async def _commit(self, events: list[Event]) -> Sequence[bool]:
        try:
            outcomes = await self.commit(events)
        except Exception:
            # Nothing of this batch is known to be committed: no ACKs, the panels resend.
            log.exception("DC-09 batch of %s events not committed", len(events))
            return [False] * len(events)
        if len(outcomes) != len(events):
            log.error("DC-09 batch handler answered %s of %s events", len(outcomes), len(events))
            return [False] * len(events)
        return outcomes


class HeardLater:
    """Link tests (NULL, periodic test reports): ACKed at once, their "last heard" written for
    every device heard in the last `interval` seconds in one batch.

    A link test records nothing but "this device was heard". The receiver already holds only
    active devices (it reloads them every minute), so answering needs no database round trip;
    that is what keeps the 99% of frames that are link tests off the commit path. The price:
    a receiver killed between flushes forgets up to `interval` seconds of "last heard" times —
    never an alarm, cancel or position, which go through the durable `GroupCommit` lane.
    """

    def __init__(self, flush: BatchHandler, *, interval: float = 1.0) -> None:
        self.flush, self.interval = flush, interval
        self._heard: dict[object, Event] = {}
        self._flusher: asyncio.Task[None] | None = None
        self.flushes = 0

    async def __call__(self, event: Event) -> bool:
        # The latest frame per device is all "last heard" needs.
        self._heard[event.device_id if event.device_id is not None else event.account] = event
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.ensure_future(self._flush_soon())
        return True

    async def _flush_soon(self) -> None:
        await asyncio.sleep(self.interval)
        await self.drain()

    async def drain(self) -> None:
        """Write what was heard since the last flush (also on a clean stop)."""
        heard, self._heard = list(self._heard.values()), {}
        if not heard:
            return
        try:
            await self.flush(heard)
            self.flushes += 1
        except Exception:
            log.exception("DC-09: last-heard times of %s devices not written", len(heard))

    async def aclose(self) -> None:
        if self._flusher is not None and not self._flusher.done():
            self._flusher.cancel()
        await self.drain()


class TwoLanes:
    """Route each event to one of two lanes: `urgent` events (alarms: they must be durable
    before their ACK) to a group commit, the rest (link tests) to the other lane, so that the
    steady stream of link tests neither waits for nor delays an alarm's commit."""

    def __init__(
        self,
        *,
        urgent: Callable[[Event], bool],
        durable: GroupCommit,
        relaxed: GroupCommit | HeardLater,
    ) -> None:
        self.urgent, self.durable, self.relaxed = urgent, durable, relaxed

    async def __call__(self, event: Event) -> bool:
        lane = self.durable if self.urgent(event) else self.relaxed
        return await lane(event)

    async def aclose(self) -> None:
        if isinstance(self.relaxed, HeardLater):
            await self.relaxed.aclose()
