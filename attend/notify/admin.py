from __future__ import annotations

from django.contrib import admin

from attend.notify.models import NotifyTarget, Outbox


@admin.register(NotifyTarget)
class NotifyTargetAdmin(admin.ModelAdmin):
    list_display = ["district", "role", "label", "active"]


@admin.register(Outbox)
class OutboxAdmin(admin.ModelAdmin):
    list_display = ["key", "status", "attempts", "next_attempt_at", "last_error"]
    list_filter = ["status"]
