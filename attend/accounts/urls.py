from django.urls import path

from attend.accounts import views

app_name = "accounts"
urlpatterns = [
    path("login/", views.login_view, name="login"),
    path("logout/", views.logout_view, name="logout"),
    path("two-factor/", views.verify_view, name="verify"),
    path("two-factor/enrol/", views.enrol_view, name="enrol"),
]
