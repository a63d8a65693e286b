from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin

from attend.accounts.models import User


@admin.register(User)
class UserAdmin(BaseUserAdmin):  # type: ignore[type-arg]
    list_display = ("username", "first_name", "last_name", "role", "district", "is_active")
    list_filter = ("role", "district", "is_active")
    # Secrets and counters are managed by the sign-in flow, never typed in by hand.
    readonly_fields = ("totp_confirmed_at", "failed_logins", "locked_until", "last_login")
    fieldsets = (
        *BaseUserAdmin.fieldsets,  # type: ignore[misc]
        ("Attend", {"fields": ("role", "district", "schools", "staff_unique_id")}),
        ("Sign-in safety", {"fields": ("totp_confirmed_at", "failed_logins", "locked_until")}),
    )
