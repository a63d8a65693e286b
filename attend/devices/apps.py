from django.apps import AppConfig


class DevicesConfig(AppConfig):
    name = "attend.devices"
    label = "devices"
    verbose_name = "Devices: officer app API, Traccar Client, SIA DC-09"
