from django.urls import path

from attend.insights import views

app_name = "insights"
urlpatterns = [
    path("", views.district_dashboard, name="district"),
    path("schools/<str:school_id>/", views.school_dashboard, name="school"),
    path("risk/models/", views.risk_models, name="risk_models"),
    path("risk/models/<int:pk>/", views.risk_model, name="risk_model"),
    path("risk/models/<int:pk>/status/", views.risk_model_status, name="risk_model_status"),
    path("risk/capacity/", views.risk_capacity, name="risk_capacity"),
    path("risk/flags/<int:pk>/confirm/", views.confirm_flag, name="risk_flag_confirm"),
    path("risk/flags/<int:pk>/dismiss/", views.dismiss_flag, name="risk_flag_dismiss"),
]
