from __future__ import annotations

from django.db import models


class DeviceKind(models.TextChoices):
    APP = "app", "Officer app (PWA)"
    OSMAND = "osmand", "Traccar Client (OsmAnd)"
    DC09 = "dc09", "SIA DC-09 badge / panel"
