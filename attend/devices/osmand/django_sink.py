"""Traccar Client reports into the database through the actions (Django imported lazily).

Use as `handle(method, query, body, content_type, lookup_device)` from whichever view the
project wires; `lookup_device` returns a sink bound to the active device.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from functools import partial
from typing import TYPE_CHECKING

from attend.devices.osmand.handler import Sink
from attend.devices.osmand.report import Report
from attend.devices.osmand.sos import SosRuns

if TYPE_CHECKING:
    from attend.devices.models import Device

__all__ = ["lookup_device", "record_report"]

log = logging.getLogger("attend.devices.osmand")
RUNS = SosRuns()


def lookup_device(osmand_id: str) -> Sink | None:
    """A sink for the active Traccar Client device with this id, or None."""
    from attend.devices.choices import DeviceKind
    from attend.devices.models import Device

    device = (
        Device.objects.select_related("officer")
        .filter(kind=DeviceKind.OSMAND, osmand_id=osmand_id, revoked_at=None)
        .first()
    )
    return None if device is None else partial(record_report, device)


def record_report(device: Device, report: Report) -> None:
    """In one transaction: the SOS (first: it matters most), then the position or a touch.

    Consecutive SOS positions share one run key; an SOS alarm from this device still
    open also counts as the same run, so several web processes or a restart do not
    raise a second alarm.
    """
    from django.db import transaction

    from attend.devices.actions import touch_device
    from attend.safety.actions import record_position

    received = datetime.now(UTC)
    at = min(report.at or received, received)
    with transaction.atomic():
        run = RUNS.observe(report, received)
        if run is not None and not _open_sos(device):
            _raise_sos(device, report, at, run[0])
        if report.latitude is not None and report.longitude is not None:
            record_position(
                officer=device.officer,
                lat=report.latitude,
                lon=report.longitude,
                at=at,
                device=device,
                accuracy=report.accuracy,
                battery=report.battery_percent,
                speed=report.speed_knots,
            )
        else:
            touch_device(device=device, at=received, battery=report.battery_percent)


def _open_sos(device: Device) -> bool:
    from attend.safety.choices import OPEN_ALARM
    from attend.safety.models import Alarm

    return Alarm.objects.filter(
        device=device, source="osmand", kind="red_alert", status__in=OPEN_ALARM
    ).exists()


def _raise_sos(device: Device, report: Report, at: datetime, key: str) -> None:
    from attend.safety.actions import Location, raise_alarm

    location = None
    if report.latitude is not None and report.longitude is not None:
        location = Location(lat=report.latitude, lon=report.longitude, accuracy=report.accuracy)
    raise_alarm(
        officer=device.officer,
        kind="red_alert",
        source="osmand",
        at=at,
        location=location,
        dedupe_key=key,
        device=device,
        note="Traccar Client SOS",
    )
