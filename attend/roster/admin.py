"""Admin for district structure only. Students, guardians and attendance are deliberately not
registered: their records are viewed through Attend's own pages, which log every look (FERPA)."""

from django.contrib import admin

from attend.roster.models import Calendar, District, School


@admin.register(District)
class DistrictAdmin(admin.ModelAdmin):
    list_display = ("name", "lea_id", "state", "current_school_year")


@admin.register(School)
class SchoolAdmin(admin.ModelAdmin):
    list_display = ("name", "school_id", "level", "district")
    list_filter = ("district", "level")


@admin.register(Calendar)
class CalendarAdmin(admin.ModelAdmin):
    list_display = ("school", "school_year", "code")
