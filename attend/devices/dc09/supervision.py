"""Per-account supervision: silence longer than the account's interval is "communication lost"."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

__all__ = ["SupervisionTracker", "Transition"]


@dataclass(frozen=True, slots=True)
class Transition:
    """An account that went silent (`lost=True`) or spoke again (`lost=False`)."""

    account: str
    lost: bool
    last_seen: datetime
    at: datetime


class SupervisionTracker:
    """Tracks when each supervised account was last heard from.

    Accounts are supervised from the moment they are `watch`ed (at start-up, all known
    accounts with an interval), so a badge that never reports after a restart is caught too.
    """

    def __init__(self) -> None:
        self._interval: dict[str, timedelta] = {}
        self._last: dict[str, datetime] = {}
        self._lost: set[str] = set()

    def watch(self, account: str, seconds: int | None, now: datetime) -> None:
        if not seconds:
            self._interval.pop(account, None)
            return
        self._interval[account] = timedelta(seconds=seconds)
        self._last.setdefault(account, now)

    def heard(self, account: str, now: datetime) -> Transition | None:
        """Record a message; returns the restore transition if the account was lost."""
        self._last[account] = now
        if account in self._lost:
            self._lost.discard(account)
            return Transition(account, lost=False, last_seen=now, at=now)
        return None

    def sweep(self, now: datetime) -> list[Transition]:
        """Accounts silent past their interval, each reported once until heard again."""
        lost = []
        for account, interval in self._interval.items():
            last = self._last.get(account, now)
            if account not in self._lost and now - last > interval:
                self._lost.add(account)
                lost.append(Transition(account, lost=True, last_seen=last, at=now))
        return lost
