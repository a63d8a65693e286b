from __future__ import annotations

from django.contrib import admin

from attend.devices.models import Device


@admin.register(Device)
class DeviceAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ["pk", "kind", "officer", "label", "last_seen_at", "revoked_at", "low_battery"]
    list_filter = ["kind"]
    exclude = ["token_hash"]
