from django.apps import AppConfig


class AttendanceConfig(AppConfig):
    name = "attend.attendance"
    label = "attendance"
    verbose_name = "Attendance ledger"
