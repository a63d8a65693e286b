from django.contrib import admin
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import include, path

from attend.roster import views as roster_views


def healthz(request: HttpRequest) -> HttpResponse:
    return JsonResponse({"ok": True})


urlpatterns = [
    path("", roster_views.home, name="home"),
    path("healthz", healthz, name="healthz"),
    path("accounts/", include("attend.accounts.urls")),
    path("audit/", include("attend.audit.urls")),
    path("jobs/", include("attend.jobs.urls")),
    path("cases/", include("attend.cases.urls")),
    path("insights/", include("attend.insights.urls")),
    path("imports/", include("attend.roster.importers.urls")),
    path("", include("attend.roster.urls")),
    path("", include("attend.safety.urls")),  # console, board, /field/, /sw.js
    path("api/v1/", include("attend.devices.urls")),  # officer app JSON API (bearer tokens)
    path("django-admin/", admin.site.urls),
]
