"""The officer app's JSON API (`/api/v1/`): per-device bearer tokens, strict validation,
replay protection by `X-Request-Id`, clear JSON errors. Every write goes through an action."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from typing import Any

from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.views.decorators.csrf import csrf_exempt

from attend.devices.actions import device_for_token, touch_device
from attend.devices.models import ApiRequest, Device

MAX_JSON_BYTES = 16 * 1024
REQUEST_ID = re.compile(r"^[A-Za-z0-9_-]{8,64}$")
Result = tuple[int, dict[str, Any]]
Handler = Callable[..., Result]


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.extra = status, code, message, extra


def error(status: int, code: str, message: str, **extra: Any) -> JsonResponse:
    return JsonResponse({"error": {"code": code, "message": message, **extra}}, status=status)


def _device(request: HttpRequest) -> Device:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    device = device_for_token(token.strip()) if scheme.lower() == "bearer" else None
    if device is None:
        raise ApiError(
            401, "unauthorized", "A valid device token is required (Authorization: Bearer …)"
        )
    return device


def _json(request: HttpRequest) -> dict[str, Any]:
    import json

    if len(request.body) > MAX_JSON_BYTES:
        raise ApiError(413, "too_large", f"JSON bodies are at most {MAX_JSON_BYTES} bytes")
    if not request.body:
        return {}
    if request.content_type != "application/json":
        raise ApiError(415, "bad_type", "Send Content-Type: application/json")
    try:
        data = json.loads(request.body)
    except (ValueError, UnicodeDecodeError):
        raise ApiError(400, "invalid_json", "The body is not valid JSON") from None
    if not isinstance(data, dict):
        raise ApiError(400, "invalid_json", "The body must be a JSON object")
    return data


def _request_id(request: HttpRequest) -> str:
    value = request.headers.get("X-Request-Id", "")
    if not REQUEST_ID.match(value):
        raise ApiError(400, "request_id", "X-Request-Id must be 8-64 letters, digits, '-' or '_'")
    return value


def _replayed(device: Device, request_id: str) -> JsonResponse:
    seen = ApiRequest.objects.filter(device=device, request_id=request_id).first()
    result = seen.result if seen else {}
    return JsonResponse(
        {"error": {"code": "replay", "message": "This request id was already used"}, **result},
        status=409,
    )


def _run_write(device: Device, request_id: str, handler: Handler, *args: Any) -> JsonResponse:
    """The request id, the device's "last heard" and the action commit together: a failed
    action leaves the id unused, and a write request costs one commit (one WAL flush)."""
    try:
        with transaction.atomic():
            touch_device(device=device)
            nonce = ApiRequest.objects.create(device=device, request_id=request_id)
            status, body = handler(*args)
            nonce.result = body
            nonce.save(update_fields=["result"])
    except IntegrityError:
        return _replayed(device, request_id)
    return JsonResponse(body, status=status)


def endpoint(methods: dict[str, Handler], *, raw: bool = False) -> Callable[..., HttpResponse]:
    """A device API view: authenticate, then dispatch by method (writes need a request id)."""

    @csrf_exempt
    def view(request: HttpRequest, **kwargs: Any) -> HttpResponse:
        handler = methods.get(request.method or "")
        if handler is None:
            response = error(405, "method", f"Use {', '.join(methods)}")
            response["Allow"] = ", ".join(methods)
            return response
        try:
            device = _device(request)
            if request.method == "GET":
                touch_device(device=device)
                status, body = handler(request, device, **kwargs)
                return JsonResponse(body, status=status)
            request_id = _request_id(request)
            data: Any = request if raw else _json(request)
            return _run_write(device, request_id, handler, data, device, *kwargs.values())
        except ApiError as exc:
            return error(exc.status, exc.code, exc.message, **exc.extra)
        except ValueError as exc:  # SafetyError / EvidenceError are ValueErrors with a message
            status = getattr(exc, "status", 400)
            return error(
                status, getattr(exc, "code", "invalid"), str(exc), **getattr(exc, "extra", {})
            )

    view.methods = sorted(methods)  # type: ignore[attr-defined]  # read by the OpenAPI test
    return view


# --- field validation ---------------------------------------------------------------------


def only_fields(data: dict[str, Any], allowed: set[str]) -> None:
    unknown = set(data) - allowed
    if unknown:
        raise ApiError(400, "unknown_field", f"Unknown field(s): {', '.join(sorted(unknown))}")


def number(
    data: dict[str, Any], key: str, lo: float, hi: float, *, required: bool = False
) -> float | None:
    value = data.get(key)
    if value is None:
        if required:
            raise ApiError(400, "missing", f"{key} is required", field=key)
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not lo <= value <= hi:
        raise ApiError(400, "invalid", f"{key} must be a number from {lo} to {hi}", field=key)
    return float(value)


def text(data: dict[str, Any], key: str, max_length: int, *, required: bool = False) -> str:
    value = data.get(key, "")
    if not isinstance(value, str) or len(value) > max_length:
        raise ApiError(
            400, "invalid", f"{key} must be text of at most {max_length} characters", field=key
        )
    if required and not value.strip():
        raise ApiError(400, "missing", f"{key} is required", field=key)
    return value


def timestamp(data: dict[str, Any], key: str) -> dt.datetime:
    """ISO 8601 with an offset; absent means now. Far-future times are refused."""
    value = data.get(key)
    if value is None:
        return timezone.now()
    parsed = parse_datetime(value) if isinstance(value, str) else None
    if parsed is None or parsed.tzinfo is None:
        raise ApiError(400, "invalid", f"{key} must be ISO 8601 with a time zone", field=key)
    if parsed > timezone.now() + dt.timedelta(minutes=5):
        raise ApiError(400, "invalid", f"{key} is in the future", field=key)
    return parsed
