from django.apps import AppConfig


class NotifyConfig(AppConfig):
    name = "attend.notify"
    label = "notify"
    verbose_name = "Notifications: outbox delivered with Apprise"
