from django.urls import path

from attend.roster import views

app_name = "roster"
urlpatterns = [
    path("schools/", views.school_list, name="schools"),
    path("students/", views.student_list, name="students"),
    path("students/<str:student_id>/", views.student_detail, name="student"),
]
