from __future__ import annotations

from django.contrib import admin

from attend.evidence.models import AudioChunk, CustodyEvent


@admin.register(CustodyEvent)
class CustodyEventAdmin(admin.ModelAdmin):
    # Append-only: the admin may read the chain, never edit it.
    list_display = ["pk", "at", "kind", "alarm_id", "actor", "hash"]

    def has_change_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False

    def has_delete_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False


admin.site.register(AudioChunk)
