"""Traccar Client requests in the shapes the clients really send (both generations)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

import pytest

from attend.devices.osmand import (
    Report,
    ReportError,
    SosRuns,
    handle,
    parse_json_reports,
    parse_query_report,
    parse_timestamp,
)

AT = datetime(2026, 11, 23, 12, 0, 0, tzinfo=UTC)

# Classic Traccar Client (Android/iOS ≤ 8): POST with the parameters on the URL, no body.
CLASSIC = (
    "id=867530&timestamp=1795435200&lat=51.5072&lon=-0.1276&speed=3.2&bearing=180.0"
    "&altitude=35.0&accuracy=12.0&batt=76.0&charge=false"
)

# Traccar Client 9+ body (its location template; `extras` carries the SOS).
MODERN = {
    "location": {
        "timestamp": "2026-11-23T12:00:00.000Z",
        "coords": {
            "latitude": 51.5072,
            "longitude": -0.1276,
            "accuracy": 12.5,
            "speed": 1.5,
            "heading": -1,
            "altitude": 35.2,
        },
        "is_moving": True,
        "odometer": 1234.5,
        "event": "motionchange",
        "battery": {"level": 0.12, "is_charging": False},
        "activity": {"type": "on_foot"},
        "extras": {},
        "_": "&id=867530&lat=51.5072&lon=-0.1276&timestamp=2026-11-23T12:00:00.000Z&",
    },
    "device_id": "867530",
}


class Store:
    def __init__(self, known: tuple[str, ...] = ("867530",)) -> None:
        self.known = known
        self.reports: list[Report] = []

    def lookup(self, device_id: str) -> object:
        return self.reports.append if device_id in self.known else None


def call(
    method: str, query: str = "", body: bytes = b"", ctype: str = "", store: Store | None = None
) -> tuple[int, bytes, Store]:
    store = store or Store()
    status, answer = handle(method, query, body, ctype, store.lookup)  # type: ignore[arg-type]
    return status, answer, store


def test_it_reads_the_classic_query_form() -> None:
    status, _, store = call("POST", CLASSIC)
    assert status == 200
    report = store.reports[0]
    assert (report.device_id, report.latitude, report.longitude) == ("867530", 51.5072, -0.1276)
    assert report.at == AT
    assert (report.speed_knots, report.bearing, report.altitude, report.accuracy) == (
        3.2,
        180,
        35,
        12,
    )
    assert (report.battery_percent, report.charging, report.is_sos) == (76.0, False, False)


def test_it_reads_the_query_form_from_a_form_body() -> None:
    body = CLASSIC.encode()
    status, _, store = call("POST", "", body, "application/x-www-form-urlencoded")
    assert status == 200 and store.reports[0].latitude == 51.5072


def test_it_treats_unknown_parameters_as_attributes_and_alarm_sos_as_sos() -> None:
    status, _, store = call("GET", CLASSIC + "&alarm=sos&hdop=0.9&driverUniqueId=abc&motion=true")
    assert status == 200
    report = store.reports[0]
    assert report.is_sos
    assert report.attributes == {"hdop": 0.9, "driverUniqueId": "abc", "motion": True}


@pytest.mark.parametrize(
    "stamp",
    [
        "1795435200",
        "1795435200000",
        "2026-11-23T12:00:00Z",
        "2026-11-23T12:00:00.000Z",
        "2026-11-23T13:00:00+01:00",
        "2026-11-23 12:00:00",
    ],
)
def test_it_reads_timestamps_in_seconds_milliseconds_and_iso_8601(stamp: str) -> None:
    status, _, store = call(
        "GET", urlencode({"id": "867530", "lat": 1, "lon": 2, "timestamp": stamp})
    )
    assert status == 200
    assert store.reports[0].at == AT


def test_it_reads_the_json_form_of_traccar_client_9() -> None:
    status, _, store = call("POST", "", json.dumps(MODERN).encode(), "application/json")
    assert status == 200
    report = store.reports[0]
    assert report.at == AT
    assert report.speed_knots == pytest.approx(1.5 * 3600 / 1852)
    assert report.bearing is None  # -1: unknown
    assert report.battery_percent == pytest.approx(12.0)
    assert report.charging is False
    assert (report.activity, report.event, report.is_moving) == ("on_foot", "motionchange", True)
    assert report.attributes == {"odometer": 1234.5}
    assert report.low_battery()
    assert not report.is_sos


@pytest.mark.parametrize("where", ["extras", "location"])
def test_it_reads_an_sos_from_json_extras_or_location(where: str) -> None:
    body = json.loads(json.dumps(MODERN))
    (body["location"]["extras"] if where == "extras" else body["location"])["alarm"] = "sos"
    body["location"]["extras"]["heartbeat"] = False
    status, _, store = call(
        "POST", "", json.dumps(body).encode(), "application/json; charset=utf-8"
    )
    assert status == 200
    assert store.reports[0].is_sos


def test_it_reads_a_batch_of_json_locations() -> None:
    body = dict(MODERN, location=[MODERN["location"], MODERN["location"]])
    status, _, store = call("POST", "", json.dumps(body).encode(), "application/json")
    assert status == 200 and len(store.reports) == 2


def test_it_answers_400_to_an_unknown_device_in_the_query_form_and_404_in_json() -> None:
    assert call("GET", "id=nobody&lat=1&lon=2")[0] == 400
    body = json.dumps(dict(MODERN, device_id="nobody")).encode()
    assert call("POST", "", body, "application/json")[0] == 404


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("lat=1&lon=2", b"missing id"),
        ("id=867530&lat=91&lon=0", b"lat must be within -90..90"),
        ("id=867530&lat=1", b"lat and lon come together"),
        ("id=867530&lat=1&lon=abc", b"lon is not a number: 'abc'"),
        ("id=867530&lat=1&lon=2&timestamp=yesterday", b"timestamp not understood"),
        ("id=867530&lat=1&lon=2&batt=140", b"battery must be within 0..100 %"),
        ("id=867530&lat=nan&lon=2", b"lat is not a number"),
    ],
)
def test_it_explains_a_bad_query_report(query: str, message: bytes) -> None:
    status, answer, store = call("GET", query)
    assert status == 400
    assert message in answer
    assert store.reports == []


@pytest.mark.parametrize(
    ("body", "status"),
    [
        (b"not json", 400),
        (b"[]", 400),
        (json.dumps({"location": MODERN["location"]}).encode(), 400),
        (json.dumps({"device_id": "867530"}).encode(), 400),
        (json.dumps({"device_id": "867530", "location": {"coords": {}}}).encode(), 400),
        (json.dumps({"device_id": "867530", "location": {"timestamp": "x"}}).encode(), 400),
    ],
)
def test_it_refuses_bad_json(body: bytes, status: int) -> None:
    assert call("POST", "", body, "application/json")[0] == status


def test_it_accepts_a_report_without_a_fix_so_an_sos_still_counts() -> None:
    status, _, store = call("GET", "id=867530&alarm=sos")
    assert status == 200
    assert store.reports[0].is_sos and not store.reports[0].has_position


def test_it_answers_503_when_the_sink_fails() -> None:
    def lookup(_: str) -> object:
        def sink(_: Report) -> None:
            raise RuntimeError("database down")

        return sink

    assert handle("GET", "id=1&lat=1&lon=2", b"", "", lookup)[0] == 503  # type: ignore[arg-type]


def test_it_refuses_other_methods() -> None:
    assert call("PUT", CLASSIC)[0] == 405


def test_it_makes_consecutive_sos_positions_one_run() -> None:
    runs = SosRuns()
    first = parse_query_report({"id": "1", "alarm": "sos", "timestamp": "1795435200"})
    later = parse_query_report({"id": "1", "alarm": "sos", "timestamp": "1795435260"})
    calm = parse_query_report({"id": "1"})
    key, opened = runs.observe(first, AT) or ("", False)
    assert opened
    assert runs.observe(later, AT) == (key, False)
    assert runs.observe(parse_query_report({"id": "2", "alarm": "sos"}), AT) != (key, False)
    assert runs.observe(calm, AT) is None
    again = runs.observe(later, AT + timedelta(minutes=5))
    assert again is not None and again[1] and again[0] != key


def test_it_flags_low_battery_below_the_threshold_unless_charging() -> None:
    low = parse_query_report({"id": "1", "batt": "14"})
    assert low.low_battery() and not low.low_battery(threshold=10)
    assert not parse_query_report({"id": "1", "batt": "14", "charge": "true"}).low_battery()
    assert not parse_query_report({"id": "1"}).low_battery()


def test_it_parses_timestamps_directly() -> None:
    assert parse_timestamp(1795435200) == AT
    assert parse_timestamp(1795435200000) == AT
    with pytest.raises(ReportError):
        parse_timestamp(True)
    with pytest.raises(ReportError):
        parse_timestamp("-5")
    assert parse_json_reports(MODERN)[0] == "867530"
