"""Repeated SOS on consecutive positions is one alarm.

Traccar Client keeps `alarm=sos` on the positions that follow a press until the phone
sends one without it. `SosRuns` gives every position of one run the same dedupe key,
so `raise_alarm(dedupe_key=…)` returns the alarm already raised instead of a new one.
"""

from __future__ import annotations

from datetime import datetime

from attend.devices.osmand.report import Report

__all__ = ["SosRuns"]


class SosRuns:
    """Per device: the start of the current SOS run, if one is in progress."""

    def __init__(self) -> None:
        self._started: dict[str, str] = {}

    def observe(self, report: Report, received_at: datetime) -> tuple[str, bool] | None:
        """For an SOS report: (dedupe key of its run, True if it opens the run); else None
        (and any run of that device ends)."""
        if not report.is_sos:
            self._started.pop(report.device_id, None)
            return None
        started = self._started.get(report.device_id)
        if started is not None:
            return f"osmand-sos:{report.device_id}:{started}", False
        stamp = (report.at or received_at).isoformat()
        self._started[report.device_id] = stamp
        return f"osmand-sos:{report.device_id}:{stamp}", True
