"""Group commit in the DC-09 receiver: frames waiting during a commit go together in the next
one, each is ACKed only after its batch committed, and one bad event never costs the others."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any
from unittest import mock

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from attend.accounts.actions import create_user
from attend.accounts.choices import Role
from attend.devices.actions import register_dc09_device, revoke_device
from attend.devices.dc09 import Event, decide, encode_message
from attend.devices.dc09.batch import GroupCommit, HeardLater, TwoLanes
from attend.devices.dc09.decide import EventKind
from attend.devices.dc09.django_handler import (
    _batch_deferred,
    handle_batch_sync,
    load_accounts_sync,
    touch_heard_sync,
)
from attend.devices.models import Device
from attend.safety.models import Alarm
from attend.test import BaseTestCase


class FakeStore:
    """Commits whatever it is given, after a gate opens; records the batch sizes."""

    def __init__(self) -> None:
        self.gate = asyncio.Event()
        self.sizes: list[int] = []
        self.fail_next = False

    async def commit(self, events: Sequence[Any]) -> list[bool]:
        await self.gate.wait()
        self.sizes.append(len(events))
        if self.fail_next:
            self.fail_next = False
            raise RuntimeError("database went away")
        return [event != "refused" for event in events]


def run(work: Any) -> Any:
    return asyncio.run(work)


def test_it_commits_what_arrived_during_a_commit_in_one_next_batch() -> None:
    async def scenario() -> tuple[list[bool], list[int]]:
        store = FakeStore()
        handler = GroupCommit(store.commit)  # type: ignore[arg-type]
        first = asyncio.ensure_future(handler("a"))  # type: ignore[arg-type]
        await asyncio.sleep(0)  # the first commit has started and waits on the gate
        rest = [asyncio.ensure_future(handler(e)) for e in ("b", "c", "refused", "d")]  # type: ignore[arg-type]
        await asyncio.sleep(0)
        store.gate.set()
        return list(await asyncio.gather(first, *rest)), store.sizes

    outcomes, sizes = run(scenario())
    assert outcomes == [True, True, True, False, True]
    assert sizes == [1, 4]


def test_it_acks_none_of_a_batch_whose_commit_failed_and_goes_on() -> None:
    async def scenario() -> tuple[list[bool], bool]:
        store = FakeStore()
        store.gate.set()
        store.fail_next = True
        handler = GroupCommit(store.commit)  # type: ignore[arg-type]
        failed = await asyncio.gather(*(handler(e) for e in ("a", "b")))  # type: ignore[arg-type]
        return list(failed), await handler("c")  # type: ignore[arg-type]

    failed, later = run(scenario())
    assert failed == [False, False]
    assert later is True


def test_it_caps_the_batch_size() -> None:
    async def scenario() -> list[int]:
        store = FakeStore()
        handler = GroupCommit(store.commit, max_batch=3)  # type: ignore[arg-type]
        calls = [asyncio.ensure_future(handler(str(n))) for n in range(7)]  # type: ignore[arg-type]
        await asyncio.sleep(0)
        store.gate.set()
        await asyncio.gather(*calls)
        return store.sizes

    assert run(scenario()) == [3, 3, 1]


class BatchCommitTests(BaseTestCase):
    def setUp(self) -> None:
        self.now = timezone.now()
        self.badge = register_dc09_device(officer=self.olivia, account="12AB", label="Badge")
        self.tester = register_dc09_device(officer=self.omar, account="12AC", label="Badge")
        self.revoked = register_dc09_device(officer=self.omar, account="12AD", label="Old badge")
        drifter = create_user(username="drifter", password=None, role=Role.OFFICER, district=None)
        self.homeless = register_dc09_device(officer=drifter, account="12AE", label="Badge")

    def event(self, account: str, token: str, data: str) -> Event:
        frame = encode_message(token, 1, account, data)
        decision = decide(frame, self.now, load_accounts_sync())
        assert decision.event is not None, decision.reason
        return decision.event

    def test_it_commits_a_mixed_batch_and_refuses_only_the_bad_events(self) -> None:
        events = [
            self.event("12AB", "ADM-CID", "#12AB|1120 01 001"),  # panic
            self.event("12AC", "ADM-CID", "#12AC|1602 00 000"),  # periodic test
            self.event("12AD", "ADM-CID", "#12AD|1120 01 001"),  # revoked meanwhile
            self.event("12AE", "ADM-CID", "#12AE|1120 01 001"),  # no district to route to
        ]
        revoke_device(device=self.revoked, by=self.dana)
        with CaptureQueriesContext(connection) as queries:
            outcomes = handle_batch_sync(events)
        self.assertEqual(outcomes, [True, True, False, False])
        on_devices = [q["sql"].split()[0] for q in queries if '"devices_device"' in q["sql"]]
        # For the whole batch: which devices are active, the rows of the two that raise
        # alarms, and one touch.
        self.assertEqual(on_devices, ["SELECT", "SELECT", "UPDATE"])
        self.assertEqual(list(Alarm.objects.values_list("device_id", flat=True)), [self.badge.pk])
        seen = dict(Device.objects.values_list("pk", "last_seen_at"))
        self.assertEqual((seen[self.badge.pk], seen[self.tester.pk]), (self.now, self.now))
        self.assertIsNone(seen[self.homeless.pk])  # its refused panic left nothing behind

    def test_it_hands_back_the_console_events_of_a_batch_instead_of_sending_them(self) -> None:
        panic = self.event("12AB", "ADM-CID", "#12AB|1120 01 001")
        with (
            mock.patch("attend.safety.live.publish_now") as sent_now,
            self.captureOnCommitCallbacks(execute=True),
        ):
            outcomes, pushes = _batch_deferred([panic])
        self.assertEqual(outcomes, [True])
        sent_now.assert_not_called()  # the receiver sends them after its ACKs
        alarm = Alarm.objects.get()
        self.assertEqual([(p["type"], p["alarm_id"]) for p in pushes], [("alarm.raised", alarm.pk)])

    def test_it_writes_a_seconds_link_tests_in_one_update_sparing_revoked_devices(self) -> None:
        tests = [self.event(account, "NULL", "") for account in ("12AB", "12AC", "12AD")]
        revoke_device(device=self.revoked, by=self.dana)
        with CaptureQueriesContext(connection) as queries:
            self.assertEqual(touch_heard_sync(tests), [True, True, True])
        on_devices = [q["sql"].split()[0] for q in queries if '"devices_device"' in q["sql"]]
        self.assertEqual(on_devices, ["UPDATE"])
        relaxed = any("synchronous_commit TO OFF" in q["sql"] for q in queries)
        self.assertEqual(relaxed, connection.vendor == "postgresql")  # link tests only
        seen = dict(Device.objects.values_list("pk", "last_seen_at"))
        self.assertEqual((seen[self.badge.pk], seen[self.tester.pk]), (self.now, self.now))
        self.assertIsNone(seen[self.revoked.pk])


def test_it_sends_alarms_and_link_tests_down_separate_lanes() -> None:
    async def scenario() -> tuple[list[int], list[int]]:
        alarms, tests = FakeStore(), FakeStore()
        tests.gate.set()  # alarms' commit is slow (still waiting); link tests are not held up
        lanes = TwoLanes(
            urgent=lambda e: e.startswith("panic"),  # type: ignore[attr-defined]
            durable=GroupCommit(alarms.commit),  # type: ignore[arg-type]
            relaxed=GroupCommit(tests.commit),  # type: ignore[arg-type]
        )
        panic = asyncio.ensure_future(lanes("panic-1"))  # type: ignore[arg-type]
        assert await asyncio.gather(*(lanes(e) for e in ("null-1", "null-2"))) == [True, True]  # type: ignore[arg-type]
        assert not panic.done()
        alarms.gate.set()
        assert await panic is True
        return alarms.sizes, tests.sizes

    assert run(scenario()) == ([1], [2])


def heard(device_id: int, second: int) -> Event:
    return Event(
        kind=EventKind.SUPERVISION,
        account=f"A{device_id}",
        seq=f"{second:04d}",
        receiver=None,
        line="0",
        token="NULL",
        data="",
        device_id=device_id,
        received_at=timezone.now().replace(second=second, microsecond=0),
    )


def test_it_acks_link_tests_at_once_and_writes_the_latest_per_device_later() -> None:
    async def scenario() -> tuple[list[bool], list[list[Any]]]:
        written: list[list[Any]] = []

        async def flush(events: Sequence[Any]) -> list[bool]:
            written.append(list(events))
            return [True] * len(events)

        lane = HeardLater(flush, interval=0.05)  # type: ignore[arg-type]
        acks = [await lane(heard(1, 1)), await lane(heard(2, 1)), await lane(heard(1, 2))]
        assert written == []  # nothing waited for the database
        await asyncio.sleep(0.2)
        return acks, written

    acks, written = run(scenario())
    assert acks == [True, True, True]
    assert [(e.device_id, e.received_at.second) for e in written[0]] == [(1, 2), (2, 1)]
    assert len(written) == 1


def test_a_failed_last_heard_write_is_logged_and_the_next_one_goes_through() -> None:
    async def scenario() -> list[int]:
        sizes: list[int] = []
        failing = [True]

        async def flush(events: Sequence[Any]) -> list[bool]:
            if failing.pop() if failing else False:
                raise RuntimeError("database went away")
            sizes.append(len(events))
            return [True] * len(events)

        lane = HeardLater(flush, interval=60)  # type: ignore[arg-type]
        await lane(heard(1, 1))
        await lane.drain()  # fails, logged
        assert await lane(heard(2, 1)) is True
        await lane.aclose()  # a clean stop writes what is pending
        return sizes

    assert run(scenario()) == [1]


def test_the_receiver_writes_pending_last_heard_times_when_it_stops() -> None:
    from attend.devices.dc09.server import Receiver

    async def scenario() -> list[int]:
        sizes: list[int] = []

        async def flush(events: Sequence[Any]) -> list[bool]:
            sizes.append(len(events))
            return [True] * len(events)

        alarms = FakeStore()
        lanes = TwoLanes(
            urgent=lambda e: False,
            durable=GroupCommit(alarms.commit),  # type: ignore[arg-type]
            relaxed=HeardLater(flush, interval=60),  # type: ignore[arg-type]
        )
        receiver = Receiver(handler=lanes)
        await receiver.start("127.0.0.1", 0)
        await lanes(heard(7, 3))
        await receiver.stop()
        return sizes

    assert run(scenario()) == [1]


def test_collected_console_events_go_out_in_order_from_async_code() -> None:
    from channels.layers import get_channel_layer

    from attend.safety.live import GROUP, publish_many

    async def scenario() -> list[str]:
        layer = get_channel_layer()
        channel = await layer.new_channel()
        await layer.group_add(GROUP, channel)
        await publish_many([{"type": "alarm.raised", "alarm_id": 1}, {"type": "x", "alarm_id": 1}])
        got = [await layer.receive(channel) for _ in range(2)]
        await layer.group_discard(GROUP, channel)
        return [message["event"]["type"] for message in got]

    assert run(scenario()) == ["alarm.raised", "x"]
