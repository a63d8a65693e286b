"""ASGI entry point: HTTP through Django, WebSockets through Channels (routes added by apps)."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "attend.settings")
# Static files are served by the app itself so one small server needs no web server in front.
from django.contrib.staticfiles.handlers import ASGIStaticFilesHandler

django_asgi = ASGIStaticFilesHandler(get_asgi_application())

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402

from attend.lib.startup import ensure_production_ready  # noqa: E402
from attend.safety.routing import websocket_urlpatterns  # noqa: E402

ensure_production_ready()
application = ProtocolTypeRouter(
    {
        "http": django_asgi,
        # Session-authenticated; the origin check stops other sites opening the console socket.
        "websocket": AllowedHostsOriginValidator(
            AuthMiddlewareStack(URLRouter(websocket_urlpatterns))
        ),
    }
)
