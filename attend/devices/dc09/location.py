"""Location extended data: `[X…]` longitude and `[Y…]` latitude.

Devices write either decimal degrees (`X-0.1276`, `Y51.5072`) or degrees, a
hemisphere letter and decimal minutes (`X093W23.456`, `Y45N23.456`).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass

__all__ = ["Location", "parse_coordinate", "parse_location"]

_DEG_MIN = re.compile(r"(\d{1,3})([NSEW])(\d{1,2}(?:\.\d+)?)")
_DECIMAL = re.compile(r"([+-]?\d{1,3}(?:\.\d+)?)([NSEW]?)")


@dataclass(frozen=True, slots=True)
class Location:
    latitude: float
    longitude: float


def parse_coordinate(text: str, limit: float) -> float | None:
    """One coordinate in either form, or None when unreadable or beyond ±`limit`."""
    text = text.strip().upper()
    match = _DEG_MIN.fullmatch(text)
    if match:
        degrees, hemisphere, minutes = match.groups()
        value = int(degrees) + float(minutes) / 60
    else:
        match = _DECIMAL.fullmatch(text)
        if match is None:
            return None
        value, hemisphere = float(match.group(1)), match.group(2)
    if hemisphere in ("S", "W"):
        value = -abs(value)
    return value if math.isfinite(value) and abs(value) <= limit else None


def parse_location(xdata: Iterable[str]) -> Location | None:
    """The location in a frame's extended data, or None when absent or unreadable."""
    fields = {item[:1]: item[1:] for item in xdata if item[:1] in ("X", "Y")}
    if "X" not in fields or "Y" not in fields:
        return None
    longitude = parse_coordinate(fields["X"], 180.0)
    latitude = parse_coordinate(fields["Y"], 90.0)
    if longitude is None or latitude is None:
        return None
    return Location(latitude=latitude, longitude=longitude)
