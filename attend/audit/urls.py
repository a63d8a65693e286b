from django.urls import path

from attend.audit import views

app_name = "audit"
urlpatterns = [
    path("access/", views.access_log, name="access"),
    path("changes/", views.change_log, name="changes"),
]
