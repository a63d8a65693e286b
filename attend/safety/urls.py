from django.urls import path

from attend.safety import views

app_name = "safety"
urlpatterns = [
    path("safety/console/", views.console, name="console"),
    path("safety/console/queue/", views.console_queue, name="console_queue"),
    path("safety/alarms/<int:pk>/", views.alarm_detail, name="alarm"),
    path("safety/alarms/<int:pk>/acknowledge/", views.acknowledge, name="acknowledge"),
    path("safety/alarms/<int:pk>/call/", views.call_officer, name="call"),
    path("safety/alarms/<int:pk>/colleagues/", views.send_colleagues, name="colleagues"),
    path("safety/alarms/<int:pk>/dispatch/", views.record_dispatch, name="dispatch"),
    path("safety/alarms/<int:pk>/resolve/", views.resolve, name="resolve"),
    path("safety/alarms/<int:pk>/incident/", views.incident, name="incident"),
    path("safety/audio/<int:pk>/", views.audio, name="audio"),
    path("safety/board/", views.board, name="board"),
    path("safety/policies/", views.policies, name="policies"),
    path("safety/policies/<str:kind>/", views.policy_edit, name="policy_edit"),
    path("field/", views.field_home, name="field"),
    path("field/hazards/", views.field_hazards, name="field_hazards"),
    path("field/visits/new/", views.field_start, name="field_start"),
    path("field/visits/<int:pk>/", views.field_visit, name="field_visit"),
    path("field/visits/<int:pk>/<str:what>/", views.field_visit_action, name="field_visit_action"),
    path("field/pins/", views.field_pins, name="field_pins"),
    path("field/device/", views.field_device, name="field_device"),
    # Public, unnamed: the PWA shell must load before sign-in and outside the role matrix.
    path("sw.js", views.service_worker),
    path("field/manifest.webmanifest", views.manifest),
]
