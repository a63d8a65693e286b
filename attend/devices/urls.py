"""`/api/v1/`: device-token API. Routes are unnamed on purpose: they are not pages, the
permission matrix (session roles) does not apply, and `tests/test_openapi.py` covers each one."""

from django.urls import path

from attend.devices import views

app_name = "devices"
urlpatterns = [
    path("openapi.json", views.openapi),
    path("visits/", views.visits),
    path("visits/current", views.visit_current),
    path("visits/<int:pk>/check-in", views.visit_check_in),
    path("visits/<int:pk>/extend", views.visit_extend),
    path("visits/<int:pk>/check-out", views.visit_check_out),
    path("alarms/", views.alarms),
    path("alarms/<int:pk>/cancel", views.alarm_cancel),
    path("alarms/<int:pk>/audio", views.audio),
    path("alarms/<int:pk>/audio/<int:index>", views.audio_put),
    path("positions/", views.position_list),
    path("notes/", views.notes),
]
