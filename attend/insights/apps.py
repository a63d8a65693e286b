from django.apps import AppConfig


class InsightsConfig(AppConfig):
    name = "attend.insights"
    label = "insights"
    verbose_name = "Attendance insights"
