"""Traccar Client (OsmAnd protocol) reports: the query-string form and the JSON form.

Query form (classic clients, OsmAnd): `?id=…&lat=…&lon=…&timestamp=…&speed=…` on the URL,
or the same as a form body; `speed` in knots, `batt` in percent; any other parameter is
an attribute, so `alarm=sos` is an SOS.

JSON form (Traccar Client 9+, built on a background-geolocation library):
`{"device_id": …, "location": {"timestamp": ISO, "coords": {…}, "battery": {"level": 0..1,
"is_charging": …}, "activity": {"type": …}, "event": …, "is_moving": …, "odometer": …,
"extras": {"alarm": "sos"}}}`; `coords.speed` in m/s and -1 (like `heading` and
`battery.level`) for unknown. `location` may also be a list (batched uploads).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

__all__ = [
    "LOW_BATTERY_PERCENT",
    "Attribute",
    "Report",
    "ReportError",
    "parse_json_reports",
    "parse_query_report",
    "parse_timestamp",
]

LOW_BATTERY_PERCENT = 15.0
KNOTS_PER_MPS = 3600 / 1852
# Traccar's rule: an integer below 2**31 is epoch seconds, otherwise milliseconds.
SECONDS_LIMIT = 2**31 - 1

Attribute = str | float | bool
_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")


class ReportError(ValueError):
    """The request is not a report we can use; the message says why (sent back as 400)."""


@dataclass(frozen=True, slots=True)
class Report:
    """One position report, whichever form it came in."""

    device_id: str
    latitude: float | None = None
    longitude: float | None = None
    at: datetime | None = None
    speed_knots: float | None = None
    bearing: float | None = None
    altitude: float | None = None
    accuracy: float | None = None
    battery_percent: float | None = None
    charging: bool | None = None
    is_moving: bool | None = None
    event: str = ""
    activity: str = ""
    alarm: str = ""
    attributes: Mapping[str, Attribute] = field(default_factory=dict)

    @property
    def has_position(self) -> bool:
        return self.latitude is not None and self.longitude is not None

    @property
    def is_sos(self) -> bool:
        return self.alarm.strip().lower() == "sos"

    def low_battery(self, threshold: float = LOW_BATTERY_PERCENT) -> bool:
        """True below `threshold` percent (and not charging)."""
        if self.battery_percent is None or self.charging:
            return False
        return self.battery_percent < threshold


# -- values ----------------------------------------------------------------------------


def parse_timestamp(value: object) -> datetime:
    """Epoch seconds or milliseconds (number or digits), ISO 8601, or `YYYY-MM-DD HH:MM:SS`
    (UTC) → aware datetime."""
    if isinstance(value, bool):
        raise ReportError("timestamp is not a time")
    if isinstance(value, int | float):
        return _epoch(float(value))
    text = str(value).strip()
    if _NUMBER.fullmatch(text):
        return _epoch(float(text))
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError as exc:
        raise ReportError(f"timestamp not understood: {text[:40]!r}") from exc
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _epoch(number: float) -> datetime:
    if not math.isfinite(number) or number < 0:
        raise ReportError("timestamp out of range")
    seconds = number if number < SECONDS_LIMIT else number / 1000
    try:
        return datetime.fromtimestamp(seconds, tz=UTC)
    except (OverflowError, OSError, ValueError) as exc:
        raise ReportError("timestamp out of range") from exc


def _number(name: str, value: object) -> float:
    if isinstance(value, bool):
        raise ReportError(f"{name} is not a number")
    text = str(value).strip() if isinstance(value, int | float | str) else ""
    if not _NUMBER.fullmatch(text):
        raise ReportError(f"{name} is not a number: {str(value)[:40]!r}")
    number = float(text)
    if not math.isfinite(number):
        raise ReportError(f"{name} is not a finite number")
    return number


def _optional(name: str, value: object, *, unknown_below_zero: bool = False) -> float | None:
    if value is None or value == "":
        return None
    number = _number(name, value)
    return None if unknown_below_zero and number < 0 else number


def _flag(value: object) -> bool | None:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "1", "false", "0"):
        return value.lower() in ("true", "1")
    return None


def _check_position(latitude: float | None, longitude: float | None) -> None:
    if (latitude is None) != (longitude is None):
        raise ReportError("lat and lon come together")
    if latitude is not None and not -90 <= latitude <= 90:
        raise ReportError("lat must be within -90..90")
    if longitude is not None and not -180 <= longitude <= 180:
        raise ReportError("lon must be within -180..180")


def _check_battery(percent: float | None) -> float | None:
    if percent is not None and not 0 <= percent <= 100:
        raise ReportError("battery must be within 0..100 %")
    return percent


def _attribute(value: str) -> Attribute:
    if value in ("true", "false"):
        return value == "true"
    if _NUMBER.fullmatch(value):
        number = float(value)
        return number if math.isfinite(number) else value
    return value


# -- query form ------------------------------------------------------------------------

KNOWN_QUERY = frozenset(
    [
        "id",
        "deviceid",
        "lat",
        "lon",
        "location",
        "timestamp",
        "speed",
        "bearing",
        "heading",
        "altitude",
        "accuracy",
        "batt",
        "charge",
        "alarm",
        "event",
        "activity",
        "is_moving",
    ]
)


def parse_query_report(params: Mapping[str, str]) -> Report:
    """One report from decoded query parameters (the last value of each name)."""
    device_id = (params.get("id") or params.get("deviceid") or "").strip()
    if not device_id:
        raise ReportError("missing id")
    latitude, longitude = _query_position(params)
    _check_position(latitude, longitude)
    heading = params.get("bearing", params.get("heading"))
    return Report(
        device_id=device_id,
        latitude=latitude,
        longitude=longitude,
        at=parse_timestamp(params["timestamp"]) if params.get("timestamp") else None,
        speed_knots=_optional("speed", params.get("speed"), unknown_below_zero=True),
        bearing=_optional("bearing", heading, unknown_below_zero=True),
        altitude=_optional("altitude", params.get("altitude")),
        accuracy=_optional("accuracy", params.get("accuracy"), unknown_below_zero=True),
        battery_percent=_check_battery(_optional("batt", params.get("batt"))),
        charging=_flag(params.get("charge")),
        is_moving=_flag(params.get("is_moving")),
        event=params.get("event", ""),
        activity=params.get("activity", ""),
        alarm=params.get("alarm", ""),
        attributes={k: _attribute(v) for k, v in params.items() if k not in KNOWN_QUERY},
    )


def _query_position(params: Mapping[str, str]) -> tuple[float | None, float | None]:
    if params.get("location") and not params.get("lat"):
        parts = params["location"].split(",")
        if len(parts) != 2:
            raise ReportError("location must be 'lat,lon'")
        return _number("lat", parts[0]), _number("lon", parts[1])
    return _optional("lat", params.get("lat")), _optional("lon", params.get("lon"))


# -- JSON form -------------------------------------------------------------------------


def parse_json_reports(root: object) -> tuple[str, list[Report]]:
    """(device_id, reports) from a decoded JSON body; `location` may be one object or a list."""
    if not isinstance(root, dict):
        raise ReportError("body must be a JSON object")
    device_id = root.get("device_id")
    if not isinstance(device_id, str | int) or isinstance(device_id, bool) or device_id == "":
        raise ReportError("missing device_id")
    locations = root.get("location")
    if isinstance(locations, dict):
        locations = [locations]
    if not isinstance(locations, list) or not locations:
        raise ReportError("missing location")
    return str(device_id), [_json_report(str(device_id), item) for item in locations]


def _json_report(device_id: str, location: object) -> Report:
    if not isinstance(location, dict):
        raise ReportError("location must be an object")
    coords = _object(location, "coords")
    battery = _object(location, "battery")
    extras = _object(location, "extras")
    latitude = _optional("latitude", coords.get("latitude"))
    longitude = _optional("longitude", coords.get("longitude"))
    _check_position(latitude, longitude)
    level = _optional("battery.level", battery.get("level"), unknown_below_zero=True)
    speed = _optional("speed", coords.get("speed"), unknown_below_zero=True)
    if "timestamp" not in location:
        raise ReportError("missing location.timestamp")
    return Report(
        device_id=device_id,
        latitude=latitude,
        longitude=longitude,
        at=parse_timestamp(location["timestamp"]),
        speed_knots=None if speed is None else speed * KNOTS_PER_MPS,
        bearing=_optional("heading", coords.get("heading"), unknown_below_zero=True),
        altitude=_optional("altitude", coords.get("altitude")),
        accuracy=_optional("accuracy", coords.get("accuracy"), unknown_below_zero=True),
        battery_percent=_check_battery(None if level is None else level * 100),
        charging=_flag(battery.get("is_charging")),
        is_moving=_flag(location.get("is_moving")),
        event=_text(location.get("event")),
        activity=_text(_object(location, "activity").get("type")),
        alarm=_text(location.get("alarm") or extras.get("alarm")),
        attributes=_json_attributes(location, extras),
    )


def _object(parent: Mapping[str, Any], name: str) -> Mapping[str, Any]:
    value = parent.get(name)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ReportError(f"{name} must be an object")
    return value


def _text(value: object) -> str:
    return "" if value is None else str(value)[:100]


def _json_attributes(
    location: Mapping[str, Any], extras: Mapping[str, Any]
) -> dict[str, Attribute]:
    """Scalar extras plus `odometer` and `mock`: what a console might show."""
    attributes: dict[str, Attribute] = {}
    for source in ({k: location.get(k) for k in ("odometer", "mock")}, extras):
        for key, value in source.items():
            if isinstance(value, str | bool) or (
                isinstance(value, int | float) and math.isfinite(value)
            ):
                attributes[str(key)[:64]] = value if isinstance(value, str | bool) else float(value)
    return attributes
