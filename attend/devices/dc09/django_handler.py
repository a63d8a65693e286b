"""The seam between the DC-09 receiver and the database.

Everything Django is imported inside the functions, so the codec and the server stay
importable (and testable) without settings. Writes go through the actions of
`attend.safety.actions` and `attend.devices.actions`; this module only reads to find
the device and the alarm an event refers to.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, TypeVar

from asgiref.sync import sync_to_async

from attend.devices.dc09.crypto import parse_key
from attend.devices.dc09.decide import Account, Event, EventKind
from attend.devices.dc09.supervision import Transition

if TYPE_CHECKING:
    from attend.devices.models import Device
    from attend.safety.actions import Location

__all__ = [
    "CommitProcess",
    "alarm_key",
    "handle_batch_sync",
    "handle_sync",
    "load_accounts",
    "load_accounts_sync",
    "report",
    "report_sync",
    "touch_heard_sync",
    "writes_records",
]

log = logging.getLogger("attend.devices.dc09")
T = TypeVar("T")
R = TypeVar("R")

# As long as the receiver's duplicate window (300 s): how late a retransmission may come.
RETRY_MINUTES = 5
# Kinds that write more than "last heard" (alarms are in ALARM_KINDS).
_WRITES = {EventKind.CANCEL, EventKind.POSITION}
ALARM_KINDS = {
    EventKind.RED_ALERT: "red_alert",
    EventKind.SILENT_RED_ALERT: "duress",
    EventKind.MEDICAL: "medical",
    EventKind.OVERRUN: "overrun",
}


def load_accounts_sync() -> dict[str, Account]:
    """Every active DC-09 device as an `Account` (a bad stored key skips that device, loudly)."""
    from attend.devices.choices import DeviceKind
    from attend.devices.models import Device

    accounts: dict[str, Account] = {}
    for device in Device.objects.filter(kind=DeviceKind.DC09, revoked_at=None):
        try:
            accounts[device.dc09_account.upper()] = _account(device)
        except ValueError as exc:
            log.error("DC-09 device %s skipped: %s", device.pk, exc)
    return accounts


def _account(device: Device) -> Account:
    return Account(
        account=device.dc09_account.upper(),
        key=parse_key(device.dc09_key_hex) if device.dc09_key_hex else None,
        receiver=device.dc09_receiver or None,
        line=device.dc09_line or None,
        supervision_seconds=device.supervision_seconds,
        device_id=device.pk,
    )


def handle_sync(event: Event) -> bool:
    """Commit what `event` means; True once it is committed (then the receiver ACKs)."""
    return handle_batch_sync([event])[0]


def handle_batch_sync(events: Sequence[Event]) -> list[bool]:
    """Commit a batch of events in one transaction; per event, True once it is committed.

    1. Which of the batch's devices are still active: one query; the full rows only for the
       events that write more than "last heard".
    2. An event whose device is missing or revoked, or whose action refuses it (e.g. an
       officer with no district to route the alarm to), is False: no ACK, the badge retries.
       Each alarm, cancel or position runs in its own savepoint, so a refusal undoes only
       its own writes.
    3. Every device heard from is marked seen with one UPDATE.
    4. If the transaction itself fails, the exception propagates: none is ACKed.
    """
    from django.db import transaction

    from attend.devices.models import Device

    ids = {e.device_id for e in events if e.device_id is not None}
    active = Device.objects.filter(pk__in=ids, revoked_at=None)
    writers = {e.device_id for e in events if e.device_id is not None and writes_records(e)}
    with transaction.atomic():
        # Most frames are link tests: for them, knowing the device is still active is enough;
        # the full rows (with the officer) are read only for alarms, cancels and positions.
        live = set(active.values_list("pk", flat=True))
        devices = active.filter(pk__in=writers & live).select_related("officer").in_bulk()
        outcomes = [_commit_one(event, live, devices) for event in events]
        heard = [e for e, ok in zip(events, outcomes, strict=True) if ok]
        _touch(heard)
    return outcomes


def writes_records(event: Event) -> bool:
    """Alarms, cancels and positions: the events whose commit must be durable before the ACK."""
    return event.kind in ALARM_KINDS or event.kind in _WRITES


def _commit_one(event: Event, live: set[int], devices: Mapping[int, Device]) -> bool:
    from django.db import transaction

    from attend.safety.actions import SafetyError

    if event.device_id not in live:
        log.warning("DC-09 event for a missing or revoked device %s", event.device_id)
        return False
    if not writes_records(event):
        return True  # supervision, restore, test: being heard is all it means
    device = devices[event.device_id]
    try:
        with transaction.atomic():
            _commit(event, device)
    except SafetyError as exc:
        log.error("DC-09 %s from %s not recorded: %s", event.kind, event.account, exc)
        return False
    return True


def _touch(events: Sequence[Event], *, only_active: bool = False) -> None:
    """Last heard = the latest receipt time of the batch, in one UPDATE (the times differ by
    the length of one commit, or one `HeardLater` interval, at most)."""
    from attend.devices.models import Device

    times = [e.received_at for e in events if e.received_at is not None]
    ids = sorted({e.device_id for e in events if e.device_id is not None})
    if not times or not ids:
        return
    devices = Device.objects.filter(pk__in=ids)
    if only_active:
        devices = devices.filter(revoked_at=None)
    devices.update(last_seen_at=max(times))


def _commit(event: Event, device: Device) -> None:
    from attend.safety.actions import raise_alarm, record_position

    at = event.received_at
    assert at is not None  # decide() always stamps the receipt time
    if event.kind in ALARM_KINDS and not _retransmitted(event, at):
        raise_alarm(
            officer=device.officer,
            kind=ALARM_KINDS[event.kind],
            source="dc09",
            at=at,
            location=_location(event),
            silent=event.kind is EventKind.SILENT_RED_ALERT,
            dedupe_key=alarm_key(event, at),
            device=device,
            note=f"{event.token} {event.qualifier}{event.code} zone {event.zone}".strip(),
        )
    elif event.kind is EventKind.CANCEL:
        _cancel(device, at)
    elif event.kind is EventKind.POSITION and event.location is not None:
        loc = event.location
        record_position(
            officer=device.officer, lat=loc.latitude, lon=loc.longitude, at=at, device=device
        )


def alarm_key(event: Event, at: datetime) -> str:
    """The receiver's dedupe key plus the minute it arrived.

    Retransmissions are caught by the receiver's window; this key only guards a
    receiver restart. `raise_alarm` returns the alarm of a known key whatever its status,
    so without the minute a badge reusing seq and content later (after a reboot, or when
    seq wraps at 9999) would be folded into an old, perhaps resolved, alarm and lost.
    """
    return f"{event.dedupe_key}:{at:%Y%m%dT%H%M}"


def _retransmitted(event: Event, at: datetime) -> bool:
    """Already stored under the key of one of the last few minutes?

    A frame committed but not ACKed (the receiver was killed, or its handler timed out
    and committed late) comes back from the panel after its retry delay, possibly in
    the next minute: without this look-back it would raise a second alarm.
    """
    from attend.safety.models import Alarm

    keys = [alarm_key(event, at - timedelta(minutes=m)) for m in range(RETRY_MINUTES + 1)]
    return Alarm.objects.filter(dedupe_key__in=keys).exists()


def _location(event: Event) -> Location | None:
    from attend.safety.actions import Location

    if event.location is None:
        return None
    return Location(lat=event.location.latitude, lon=event.location.longitude)


def _cancel(device: Device, at: datetime) -> None:
    """A badge has no PIN pad: the cancel goes through only for an officer without a PIN.

    With a PIN configured `cancel_alarm_by_officer` refuses and the alarm stays open (an
    onlooker could have pressed cancel); the message is still ACKed: it was received.
    """
    from attend.safety.actions import SafetyError, cancel_alarm_by_officer
    from attend.safety.choices import OPEN_ALARM
    from attend.safety.models import Alarm

    alarm = (
        Alarm.objects.filter(officer=device.officer, device=device, status__in=OPEN_ALARM)
        .order_by("-raised_at")
        .first()
    )
    if alarm is None:
        return
    try:
        cancel_alarm_by_officer(alarm=alarm, officer=device.officer, pin=None, at=at)
    except SafetyError as exc:
        log.warning("DC-09 cancel from %s left alarm %s open: %s", device.pk, alarm.pk, exc)


def report_sync(transition: Transition) -> None:
    """Communication lost → a `communication_lost` alarm; restored → logged (see the gap)."""
    from attend.devices.choices import DeviceKind
    from attend.devices.models import Device
    from attend.safety.actions import raise_alarm

    device = (
        Device.objects.select_related("officer")
        .filter(kind=DeviceKind.DC09, revoked_at=None, dc09_account__iexact=transition.account)
        .first()
    )
    if device is None:
        return
    if not transition.lost:
        log.info("DC-09 account %s communicating again", transition.account)
        return
    raise_alarm(
        officer=device.officer,
        kind="communication_lost",
        source="dc09",
        at=transition.at,
        dedupe_key=f"dc09-lost:{transition.account}:{transition.last_seen.isoformat()}",
        device=device,
        note=f"last heard {transition.last_seen.isoformat()}",
    )


def _fresh(work: Callable[[T], R]) -> Callable[[T], R]:
    """Run `work` after dropping a stale connection: the receiver outlives CONN_MAX_AGE."""

    def run(arg: T) -> R:
        from django.db import close_old_connections

        close_old_connections()
        return work(arg)

    return run


def _load(_: None) -> dict[str, Account]:
    return load_accounts_sync()


async def load_accounts() -> Mapping[str, Account]:
    return await sync_to_async(_fresh(_load))(None)


def _batch_deferred(events: Sequence[Event]) -> tuple[list[bool], list[dict[str, Any]]]:
    from attend.safety.live import deferred

    with deferred() as pushes:
        outcomes = handle_batch_sync(events)
    return outcomes, pushes


_pushing: set[asyncio.Task[None]] = set()


def _push_later(pushes: list[dict[str, Any]]) -> None:
    """Send committed console events from the event loop in a task of their own, so the
    ACKs do not wait for them."""
    from attend.safety.live import publish_many

    if pushes:
        task = asyncio.ensure_future(publish_many(pushes))
        _pushing.add(task)  # keep a reference until it is done
        task.add_done_callback(_pushing.discard)


def _child_setup() -> None:
    import signal

    import django

    # Ctrl-C reaches the whole process group: the parent stops the receiver, then this child.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    django.setup()


def _child_batch(events: list[Event]) -> tuple[list[bool], list[dict[str, Any]]]:
    return _fresh(_batch_deferred)(events)


def _child_touch(events: list[Event]) -> list[bool]:
    return _fresh(touch_heard_sync)(events)


class CommitProcess:
    """The receiver's database work in a child process of its own.

    In one process, an alarm's commit (a dozen queries of Django ORM work) shares the
    interpreter lock with the event loop that decodes and ACKs two thousand frames a second:
    each query gives the lock up and waits to get it back, and an alarm's ACK — the one
    that matters — came last (p99 ~100-150 ms at 2,000 msg/s). A child process runs on the
    other core. The rule is unchanged: the parent ACKs only once the child has committed.
    If the parent is killed, a commit in flight may still finish; the badge, not ACKed,
    resends, and the alarm's dedupe key answers it without a second alarm.
    """

    def __init__(self) -> None:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        self.pool = ProcessPoolExecutor(
            max_workers=1,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_child_setup,
        )

    async def handle_batch(self, events: Sequence[Event]) -> list[bool]:
        loop = asyncio.get_running_loop()
        outcomes, pushes = await loop.run_in_executor(self.pool, _child_batch, list(events))
        _push_later(pushes)
        return outcomes

    async def touch_heard(self, events: Sequence[Event]) -> list[bool]:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self.pool, _child_touch, list(events))

    def close(self) -> None:
        self.pool.shutdown(wait=True)


def touch_heard_sync(events: Sequence[Event]) -> list[bool]:
    """Last heard for the link tests of the last second: one UPDATE, nothing else.

    The receiver ACKed them already (`HeardLater`), so there is nothing to decide per event;
    the less Python this does, the less it holds the interpreter lock while frames wait.
    Revoked devices are left alone. Not waiting for the WAL flush, as for link tests before.
    """
    from django.db import connection, transaction

    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL synchronous_commit TO OFF")
        _touch(events, only_active=True)
    return [True] * len(events)


async def report(transition: Transition) -> None:
    await sync_to_async(_fresh(report_sync))(transition)
