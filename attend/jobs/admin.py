from django.contrib import admin

from attend.jobs.models import Job, Schedule


@admin.register(Job)
class JobAdmin(admin.ModelAdmin):
    list_display = ("title", "kind", "status", "created_at", "finished_at")
    list_filter = ("kind", "status")
    readonly_fields = [f.name for f in Job._meta.fields]


@admin.register(Schedule)
class ScheduleAdmin(admin.ModelAdmin):
    list_display = ("kind", "at_time", "next_run_at", "last_run_at", "last_job")
    # The time of day comes from ATTEND_NIGHTLY_AT; the worker resets an edit on restart.
    readonly_fields = ("kind", "at_time", "next_run_at", "last_run_at", "last_job")
