"""One HTTP request from a Traccar Client → (status, body); no web framework involved.

`lookup_device(id)` returns a sink for that device's reports (which commits them) or
None for an unknown device: 400 for the query form, 404 for the JSON form, as Traccar
answers. A sink that fails gets 503 so the client keeps the report and retries.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from urllib.parse import parse_qsl

from attend.devices.osmand.report import (
    Report,
    ReportError,
    parse_json_reports,
    parse_query_report,
)

__all__ = ["LookupDevice", "Sink", "handle", "parse_params"]

log = logging.getLogger("attend.devices.osmand")

Sink = Callable[[Report], None]
LookupDevice = Callable[[str], Sink | None]
MAX_BODY = 256 * 1024


def handle(
    method: str,
    query: str,
    body: bytes,
    content_type: str,
    lookup_device: LookupDevice,
) -> tuple[int, bytes]:
    """Answer one request: 200 once every report in it is committed."""
    if method.upper() not in ("GET", "POST"):
        return 405, b"GET or POST\n"
    if len(body) > MAX_BODY:
        return 413, b"body too large\n"
    if content_type.split(";")[0].strip().lower() == "application/json":
        return _handle_json(body, lookup_device)
    return _handle_query(query, body, lookup_device)


def parse_params(query: str, body: bytes) -> dict[str, str]:
    """Query parameters, or the form body when the URL has none (as Traccar reads them)."""
    pairs = parse_qsl(query.lstrip("?"), keep_blank_values=True)
    if not pairs and body:
        pairs = parse_qsl(body.decode("ascii", errors="replace"), keep_blank_values=True)
    return dict(pairs)


def _handle_query(query: str, body: bytes, lookup_device: LookupDevice) -> tuple[int, bytes]:
    params = parse_params(query, body)
    device_id = (params.get("id") or params.get("deviceid") or "").strip()
    if not device_id:
        return 400, b"missing id\n"
    sink = lookup_device(device_id)
    if sink is None:
        return 400, b"unknown device\n"
    try:
        report = parse_query_report(params)
    except ReportError as exc:
        return 400, f"{exc}\n".encode()
    return _deliver(sink, [report])


def _handle_json(body: bytes, lookup_device: LookupDevice) -> tuple[int, bytes]:
    try:
        root = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return 400, b"body is not JSON\n"
    device_id = root.get("device_id") if isinstance(root, dict) else None
    if not isinstance(device_id, str | int) or isinstance(device_id, bool) or device_id == "":
        return 400, b"missing device_id\n"
    sink = lookup_device(str(device_id))
    if sink is None:
        return 404, b"unknown device\n"
    try:
        _, reports = parse_json_reports(root)
    except ReportError as exc:
        return 400, f"{exc}\n".encode()
    return _deliver(sink, reports)


def _deliver(sink: Sink, reports: list[Report]) -> tuple[int, bytes]:
    try:
        for report in reports:
            sink(report)
    except Exception:
        log.exception("Traccar Client report from %s not recorded", reports[0].device_id)
        return 503, b"try again\n"
    return 200, b""
