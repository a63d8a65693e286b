import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "attend.settings")
application = get_wsgi_application()

from attend.lib.startup import ensure_production_ready  # noqa: E402

ensure_production_ready()
