"""Device registration and lifecycle. Tokens are random, shown once, stored as SHA-256."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from typing import TYPE_CHECKING

from django.db import transaction
from django.utils import timezone

from attend.audit.actions import record_change
from attend.devices.choices import DeviceKind
from attend.devices.models import Device

if TYPE_CHECKING:
    from attend.accounts.models import User

LOW_BATTERY = 0.15


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@transaction.atomic
def register_app_device(*, officer: User, label: str, by: User | None = None) -> tuple[Device, str]:
    """Return the device and its bearer token; the token is never retrievable again."""
    token = "att_" + secrets.token_urlsafe(32)
    device = Device.objects.create(
        kind=DeviceKind.APP, officer=officer, label=label[:120], token_hash=hash_token(token)
    )
    record_change(
        actor=by or officer, action="device.register", target=device, data={"kind": "app"}
    )
    return device, token


@transaction.atomic
def register_osmand_device(
    *, officer: User, osmand_id: str, label: str = "", by: User | None = None
) -> Device:
    device = Device.objects.create(
        kind=DeviceKind.OSMAND, officer=officer, osmand_id=osmand_id, label=label[:120]
    )
    record_change(actor=by, action="device.register", target=device, data={"kind": "osmand"})
    return device


@transaction.atomic
def register_dc09_device(
    *,
    officer: User,
    account: str,
    receiver: str = "",
    line: str = "",
    key_hex: str = "",
    supervision_seconds: int | None = None,
    label: str = "",
    by: User | None = None,
) -> Device:
    if key_hex and len(key_hex) not in (32, 48, 64):
        raise ValueError("DC-09 AES key must be 128, 192 or 256 bits (32/48/64 hex digits)")
    device = Device.objects.create(
        kind=DeviceKind.DC09,
        officer=officer,
        dc09_account=account,
        dc09_receiver=receiver,
        dc09_line=line,
        dc09_key_hex=key_hex.lower(),
        supervision_seconds=supervision_seconds,
        label=label[:120],
    )
    record_change(actor=by, action="device.register", target=device, data={"kind": "dc09"})
    return device


@transaction.atomic
def revoke_device(*, device: Device, by: User | None) -> Device:
    if device.revoked_at is None:
        Device.objects.filter(pk=device.pk, revoked_at=None).update(revoked_at=timezone.now())
        device.refresh_from_db()
        record_change(actor=by, action="device.revoke", target=device)
    return device


def touch_device(
    *, device: Device, at: dt.datetime | None = None, battery: float | None = None
) -> None:
    """Mark the device as heard from. Not audited: it happens on every request."""
    fields: dict[str, object] = {"last_seen_at": at or timezone.now()}
    if battery is not None:
        level = battery / 100 if battery > 1 else battery
        fields["battery"] = level
        fields["low_battery"] = level < LOW_BATTERY
    Device.objects.filter(pk=device.pk).update(**fields)
    for name, value in fields.items():
        setattr(device, name, value)


def device_for_token(token: str) -> Device | None:
    """The active app device holding this bearer token, or None."""
    if not token:
        return None
    return (
        Device.objects.select_related("officer")
        .filter(token_hash=hash_token(token), revoked_at=None, kind=DeviceKind.APP)
        .first()
    )
