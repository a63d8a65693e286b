from __future__ import annotations

from django.contrib import admin

from attend.safety.models import (
    Alarm,
    EscalationPolicy,
    EscalationStep,
    Incident,
    SafetydHeartbeat,
    Visit,
)


class StepInline(admin.TabularInline):
    model = EscalationStep
    extra = 1


@admin.register(EscalationPolicy)
class EscalationPolicyAdmin(admin.ModelAdmin):
    list_display = ["name", "district", "kind", "updated_at"]
    inlines = [StepInline]


@admin.register(Alarm)
class AlarmAdmin(admin.ModelAdmin):
    # Alarms change only through actions (console); the admin is for reading.
    list_display = ["pk", "kind", "officer", "status", "raised_at", "next_step_at"]
    list_filter = ["status", "kind", "source"]

    def has_change_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False


@admin.register(Visit)
class VisitAdmin(admin.ModelAdmin):
    list_display = ["pk", "officer", "address", "status", "escalate_after"]
    list_filter = ["status"]

    def has_change_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False


admin.site.register(Incident)
admin.site.register(SafetydHeartbeat)
