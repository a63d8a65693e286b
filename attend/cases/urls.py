from django.urls import path

from attend.cases import views

app_name = "cases"
urlpatterns = [
    path("", views.worklist, name="worklist"),
    path("open/", views.open_case, name="open"),
    path("assign/", views.bulk_assign, name="assign"),
    path("director/", views.director_view, name="director"),
    path("<int:pk>/", views.case_detail, name="detail"),
    path("<int:pk>/contacts/", views.add_contact, name="add_contact"),
    path("<int:pk>/rules/", views.apply_rules, name="apply_rules"),
    path("<int:pk>/steps/<int:step>/done/", views.complete_step, name="complete_step"),
    path("<int:pk>/letters/", views.send_letter, name="send_letter"),
    path("<int:pk>/letters/<int:letter>.pdf", views.letter_pdf, name="letter_pdf"),
    path("students/<str:student_id>/disclosures.csv", views.disclosures_csv, name="disclosures"),
]
