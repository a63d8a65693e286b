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
    path("<int:pk>/causes/", views.assess, name="assess"),
    path("<int:pk>/plans/", views.plan, name="plan"),
    path("<int:pk>/referrals/", views.refer, name="refer"),
    path(
        "<int:pk>/referrals/<int:referral>/respond/",
        views.respond_referral,
        name="respond_referral",
    ),
    path(
        "<int:pk>/referrals/<int:referral>/revoke/", views.revoke_referral, name="revoke_referral"
    ),
    path("<int:pk>/meetings/", views.meeting, name="meeting"),
    path("<int:pk>/tasks/", views.add_task, name="add_task"),
    path("<int:pk>/tasks/<int:task>/done/", views.complete_task, name="complete_task"),
    path("<int:pk>/steps/<int:step>/review/", views.review_step, name="review_step"),
    path("letters/bulk/", views.bulk_letters, name="bulk_letters"),
    path("letters/jobs/<int:job>/", views.bulk_status, name="bulk_status"),
    path("templates/", views.template_list, name="templates"),
    path("templates/score/", views.template_score, name="template_score"),
    path("templates/<str:key>/<str:language>/", views.template_edit, name="template_edit"),
]
