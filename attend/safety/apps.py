from django.apps import AppConfig


class SafetyConfig(AppConfig):
    name = "attend.safety"
    label = "safety"
    verbose_name = "Field safety: visits, alarms, escalation, console"
