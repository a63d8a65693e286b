"""Traccar Client (OsmAnd protocol): parse both request forms, SOS runs, a framework-free handler.

No Django import here; `django_sink` adapts reports to the actions and imports lazily.
"""

from __future__ import annotations

from attend.devices.osmand.handler import LookupDevice, Sink, handle, parse_params
from attend.devices.osmand.report import (
    LOW_BATTERY_PERCENT,
    Report,
    ReportError,
    parse_json_reports,
    parse_query_report,
    parse_timestamp,
)
from attend.devices.osmand.sos import SosRuns

__all__ = [
    "LOW_BATTERY_PERCENT",
    "LookupDevice",
    "Report",
    "ReportError",
    "Sink",
    "SosRuns",
    "handle",
    "parse_json_reports",
    "parse_params",
    "parse_query_report",
    "parse_timestamp",
]
