"""Duplicate window: a retransmitted message is ACKed again but raises nothing new."""

from __future__ import annotations

from collections import OrderedDict
from datetime import datetime, timedelta

__all__ = ["DuplicateWindow"]


class DuplicateWindow:
    """Remembers the dedupe keys of handled events for `seconds` (bounded by `limit` keys)."""

    def __init__(self, seconds: float = 300.0, limit: int = 100_000) -> None:
        self._span = timedelta(seconds=seconds)
        self._limit = limit
        self._seen: OrderedDict[str, datetime] = OrderedDict()

    def seen(self, key: str, now: datetime) -> bool:
        """True when `key` was remembered within the window."""
        self._expire(now)
        return key in self._seen

    def remember(self, key: str, now: datetime) -> None:
        """Call only after the handler committed the event."""
        self._seen.pop(key, None)
        self._seen[key] = now
        while len(self._seen) > self._limit:
            self._seen.popitem(last=False)

    def _expire(self, now: datetime) -> None:
        while self._seen:
            key, at = next(iter(self._seen.items()))
            if now - at <= self._span:
                return
            del self._seen[key]
