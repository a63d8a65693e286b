from django.urls import path

from attend.insights import views

app_name = "insights"
urlpatterns = [
    path("", views.district_dashboard, name="district"),
    path("schools/<str:school_id>/", views.school_dashboard, name="school"),
]
