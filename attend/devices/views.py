"""Handlers of the officer app's API; each validates strictly, then calls one action."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse

from attend.devices.api import ApiError, endpoint, number, only_fields, text, timestamp
from attend.devices.models import Device
from attend.evidence.actions import next_index, receive_chunk
from attend.roster.models import Student
from attend.safety import actions
from attend.safety.models import Alarm, Visit
from attend.safety.queries import current_visit

Result = tuple[int, dict[str, Any]]
ALERT_KINDS = {"red_alert", "medical"}


def visit_json(visit: Visit) -> dict[str, Any]:
    return {
        "id": visit.pk,
        "status": visit.status,
        "address": visit.address,
        "hazards": visit.hazards,
        "expected_end_at": visit.expected_end_at.isoformat() if visit.expected_end_at else None,
    }


def _visit(device: Device, pk: int) -> Visit:
    visit = Visit.objects.filter(pk=pk, officer=device.officer).first()
    if visit is None:
        raise ApiError(404, "not_found", "No such visit for this device's officer")
    return visit


def _alarm(device: Device, pk: int) -> Alarm:
    alarm = Alarm.objects.filter(pk=pk, officer=device.officer).first()
    if alarm is None:
        raise ApiError(404, "not_found", "No such alarm for this device's officer")
    return alarm


def _location(data: dict[str, Any]) -> actions.Location | None:
    lat, lon = number(data, "lat", -90, 90), number(data, "lon", -180, 180)
    if (lat is None) != (lon is None):
        raise ApiError(400, "invalid", "Send lat and lon together")
    if lat is None or lon is None:
        return None
    return actions.Location(lat, lon, number(data, "accuracy", 0, 100000))


def _hazards(data: dict[str, Any]) -> list[str] | None:
    value = data.get("hazards")
    if value is None:
        return None
    if (
        not isinstance(value, list)
        or len(value) > 20
        or not all(isinstance(h, str) and len(h) <= 80 for h in value)
    ):
        raise ApiError(
            400, "invalid", "hazards must be a list of at most 20 short texts", field="hazards"
        )
    return value


def _student(device: Device, data: dict[str, Any]) -> Student | None:
    sid = text(data, "student_id", 32)
    if not sid:
        return None
    student = Student.objects.filter(
        student_unique_id=sid, caseload_assignments__officer=device.officer
    ).first()
    if student is None:
        raise ApiError(
            400, "invalid", "student_id is not on this officer's caseload", field="student_id"
        )
    return student


def start_visit(data: dict[str, Any], device: Device) -> Result:
    fields = {
        "address",
        "expected_minutes",
        "student_id",
        "expected_people",
        "hazards",
        "lat",
        "lon",
        "accuracy",
    }
    only_fields(data, fields)
    minutes = number(data, "expected_minutes", 1, actions.MAX_VISIT_MINUTES, required=True)
    visit = actions.start_visit(
        officer=device.officer,
        address=text(data, "address", 300, required=True),
        expected_minutes=int(minutes or 0),
        student=_student(device, data),
        expected_people=text(data, "expected_people", 300),
        hazards=_hazards(data),
        location=_location(data),
    )
    return 201, visit_json(visit)


def get_current_visit(request: HttpRequest, device: Device) -> Result:
    visit = current_visit(device.officer)
    return 200, {"visit": visit_json(visit) if visit else None}


def check_in(data: dict[str, Any], device: Device, pk: int) -> Result:
    only_fields(data, {"pin"})
    visit = actions.check_in(
        visit=_visit(device, pk), pin=text(data, "pin", 8) or None, device=device
    )
    return 200, visit_json(visit)


def extend(data: dict[str, Any], device: Device, pk: int) -> Result:
    only_fields(data, {"minutes", "pin"})
    minutes = int(number(data, "minutes", 1, 240, required=True) or 0)
    visit = actions.extend_visit(
        visit=_visit(device, pk), minutes=minutes, pin=text(data, "pin", 8) or None, device=device
    )
    return 200, visit_json(visit)


def check_out(data: dict[str, Any], device: Device, pk: int) -> Result:
    """The answer is the same for the normal and the duress PIN: an onlooker learns nothing."""
    only_fields(data, {"pin"})
    visit = _visit(device, pk)
    actions.check_out(visit=visit, pin=text(data, "pin", 8) or None, device=device)
    return 200, {"id": visit.pk, "status": "checked_out"}


def raise_alert(data: dict[str, Any], device: Device) -> Result:
    only_fields(data, {"kind", "lat", "lon", "accuracy", "at"})
    kind = text(data, "kind", 20) or "red_alert"
    if kind not in ALERT_KINDS:
        raise ApiError(400, "invalid", f"kind must be one of {sorted(ALERT_KINDS)}", field="kind")
    alarm = actions.raise_alarm(
        officer=device.officer,
        kind=kind,
        source="app",
        at=timestamp(data, "at"),
        location=_location(data),
        device=device,
    )
    return 201, {"alarm_id": alarm.pk, "status": alarm.status}


def cancel(data: dict[str, Any], device: Device, pk: int) -> Result:
    only_fields(data, {"pin"})
    alarm = _alarm(device, pk)
    actions.cancel_alarm_by_officer(
        alarm=alarm, officer=device.officer, pin=text(data, "pin", 8) or None
    )
    return 200, {"alarm_id": alarm.pk, "status": "cancelled"}


def positions(data: dict[str, Any], device: Device) -> Result:
    only_fields(data, {"positions"})
    items = data.get("positions")
    if not isinstance(items, list) or not 1 <= len(items) <= 100:
        raise ApiError(
            400, "invalid", "positions must be a list of 1 to 100 fixes", field="positions"
        )
    for item in items:
        if not isinstance(item, dict):
            raise ApiError(400, "invalid", "each position must be an object")
        only_fields(item, {"lat", "lon", "accuracy", "battery", "speed", "at"})
        actions.record_position(
            officer=device.officer,
            device=device,
            lat=number(item, "lat", -90, 90, required=True) or 0.0,
            lon=number(item, "lon", -180, 180, required=True) or 0.0,
            at=timestamp(item, "at"),
            accuracy=number(item, "accuracy", 0, 100000),
            battery=number(item, "battery", 0, 100),
            speed=number(item, "speed", 0, 1000),
        )
    return 201, {"stored": len(items)}


def note(data: dict[str, Any], device: Device) -> Result:
    only_fields(data, {"text", "at"})
    saved = actions.add_field_note(
        officer=device.officer,
        text=text(data, "text", 4000, required=True),
        written_at=timestamp(data, "at"),
    )
    return 201, {"id": saved.pk}


def audio_status(request: HttpRequest, device: Device, pk: int) -> Result:
    return 200, {"next_index": next_index(_alarm(device, pk))}


def audio_chunk(request: HttpRequest, device: Device, pk: int, index: int) -> Result:
    """Resumable upload: PUT the raw bytes of chunk `index` with X-Chunk-SHA256."""
    from attend.evidence.actions import MAX_CHUNK_BYTES

    if int(request.headers.get("Content-Length") or 0) > MAX_CHUNK_BYTES:
        raise ApiError(413, "too_large", f"Chunks are at most {MAX_CHUNK_BYTES} bytes")
    claimed = request.headers.get("X-Chunk-SHA256", "")
    if len(claimed) != 64:
        raise ApiError(400, "missing_hash", "Send the chunk's SHA-256 (hex) in X-Chunk-SHA256")
    chunk, created = receive_chunk(
        alarm=_alarm(device, pk),
        index=index,
        data=request.body,
        claimed_sha256=claimed,
        content_type=request.content_type or "",
        device=device,
        actor=f"device:{device.pk}",
    )
    # A mismatch is kept and flagged (SAFETY.md), and the device is told so: 201 all the same.
    return (201 if created else 200), {
        "index": chunk.index,
        "sha256": chunk.sha256,
        "hash_mismatch": chunk.hash_mismatch,
        "next_index": chunk.index + 1,
    }


def openapi(request: HttpRequest) -> HttpResponse:
    from attend.devices.openapi import SCHEMA

    return JsonResponse(SCHEMA)


visits = endpoint({"POST": start_visit})
visit_current = endpoint({"GET": get_current_visit})
visit_check_in = endpoint({"POST": check_in})
visit_extend = endpoint({"POST": extend})
visit_check_out = endpoint({"POST": check_out})
alarms = endpoint({"POST": raise_alert})
alarm_cancel = endpoint({"POST": cancel})
position_list = endpoint({"POST": positions})
notes = endpoint({"POST": note})
audio = endpoint({"GET": audio_status})
audio_put = endpoint({"PUT": audio_chunk}, raw=True)
