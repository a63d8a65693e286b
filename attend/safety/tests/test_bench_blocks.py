"""Smoke tests of the building blocks of `attend bench dc09_durability` and `attend bench alarms`.

The benchmarks themselves need PostgreSQL, Redis and minutes; these check, offline and in a
second or two, that the panels retransmit across a receiver restart, that the load schedule is
what the docstrings promise and that the HTTP/1.1 client keeps its connection alive.
"""

from __future__ import annotations

import asyncio
import json

from attend.devices.dc09 import Account, Event
from attend.devices.dc09.server import Receiver
from bench.bench_alarms import POSITION_PERIOD, HttpConnection, schedule
from bench.bench_dc09_durability import Panel, Tally, account_name, burst, frame_for, summarise
from bench.stack import free_port, percentiles


def test_it_mixes_one_percent_panics_with_link_and_periodic_tests() -> None:
    kinds = [frame_for("1000", 1, roll)[1] for roll in (0.005, 0.2, 0.7)]
    assert kinds == ["panic", "null", "test"]
    assert b"1120 01 001" in frame_for("1000", 7, 0.0)[0]
    assert b'"ADM-CID"0007' in frame_for("1000", 7, 0.0)[0]


def test_it_summarises_latency_after_the_warm_up() -> None:
    tally = Tally(latency=[(0.5, 9.0), (1.0, 0.010), (2.0, 0.020), (3.0, 0.030)])
    count, rate, p50, _ = summarise(tally, since=1.0)
    assert (count, rate, round(p50)) == (3, 1.5, 20)
    assert percentiles([1.0], 50) != percentiles([1.0], 50)  # NaN for too few values


async def _receiver(port: int, store: list[Event]) -> Receiver:
    async def handler(event: Event) -> bool:
        store.append(event)
        return True

    accounts = {account_name(n): Account(account_name(n)) for n in range(3)}
    receiver = Receiver(handler=handler, accounts=accounts)
    await receiver.start("127.0.0.1", port)
    return receiver


def test_it_retransmits_across_a_receiver_restart() -> None:
    async def scenario() -> tuple[Tally, list[Event]]:
        port, store = free_port(), list[Event]()
        receiver = await _receiver(port, store)
        panels = [Panel(n, port) for n in range(3)]
        tally = Tally()
        await burst(panels, rate=30, seconds=0.5, tally=tally)
        await receiver.stop()  # existing connections break; new ones are refused for a while
        for panel in panels:
            panel.drop()

        async def restart() -> None:
            await asyncio.sleep(0.4)
            restarted.append(await _receiver(port, store))

        restarted: list[Receiver] = []
        await asyncio.gather(burst(panels, rate=30, seconds=0.5, tally=tally), restart())
        for panel in panels:
            panel.drop()
        await restarted[0].stop()
        return tally, store

    tally, store = asyncio.run(scenario())
    assert tally.given_up == tally.wrong_replies == 0
    assert tally.retransmits > 0
    # Panels behind schedule at the end of a burst drop their backlog (counted as not sent).
    assert len(tally.latency) == sum(tally.kinds.values()) >= 6
    assert len(tally.latency) + tally.not_sent >= 20
    seqs = {(e.account, e.seq) for e in store}
    assert len(seqs) == len(tally.latency)  # every ACKed frame reached the handler


def test_it_schedules_alarms_at_the_rate_and_positions_every_30_s() -> None:
    jobs = schedule(devices=10, rate=5, seconds=60, start=100.0)
    alarms = [j for j in jobs if j.kind == "alarm"]
    positions = [j for j in jobs if j.kind == "position"]
    assert len(alarms) == 300 and round(alarms[1].at - alarms[0].at, 9) == 0.2
    assert len(positions) == 10 * int(60 / POSITION_PERIOD)
    assert [j.at for j in jobs] == sorted(j.at for j in jobs)
    assert {j.device for j in alarms} == set(range(10))


def test_it_keeps_the_http_connection_alive() -> None:
    connections: list[int] = []

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        connections.append(1)
        while True:
            try:
                head = await reader.readuntil(b"\r\n\r\n")
            except asyncio.IncompleteReadError:
                break
            length = int(head.lower().split(b"content-length: ")[1].split(b"\r\n")[0])
            body = await reader.readexactly(length)
            answer = json.dumps({"alarm_id": len(body)}).encode()
            writer.write(
                b"HTTP/1.1 201 Created\r\nContent-Type: application/json\r\n"
                b"Content-Length: %d\r\n\r\n%s" % (len(answer), answer)
            )
        writer.close()

    async def scenario() -> list[tuple[int, bytes]]:
        server = await asyncio.start_server(serve, "127.0.0.1", 0)
        conn = HttpConnection(server.sockets[0].getsockname()[1])
        results = [await conn.post("/api/v1/alarms/", "t", f"r{n}", b"{}" * n) for n in (1, 2)]
        conn.close()
        server.close()
        return results

    results = asyncio.run(scenario())
    assert [status for status, _ in results] == [201, 201]
    assert [json.loads(body)["alarm_id"] for _, body in results] == [2, 4]
    assert connections == [1]
