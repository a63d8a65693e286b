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

__all__ = ["BatchHandler", "GroupCommit", "TwoLanes"]

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


class TwoLanes:
    """Route each event to one of two group commits: `urgent` events (alarms: they must be
    durable before their ACK) and the rest (link tests), so that the steady stream of link
    tests neither waits for nor delays an alarm's commit."""

    def __init__(
        self, *, urgent: Callable[[Event], bool], durable: GroupCommit, relaxed: GroupCommit
    ) -> None:
        self.urgent, self.durable, self.relaxed = urgent, durable, relaxed

    async def __call__(self, event: Event) -> bool:
        lane = self.durable if self.urgent(event) else self.relaxed
        return await lane(event)
