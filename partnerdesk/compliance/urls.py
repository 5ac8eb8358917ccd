from django.urls import path

from partnerdesk.compliance import views

app_name = "compliance"
urlpatterns = [
    path("partner/clients/<int:client_id>/final-accounts/", views.final_accounts, name="final_accounts"),
    path("partner/clients/<int:client_id>/final-accounts/periods/add/", views.period_add, name="period_add"),
    path(
        "partner/clients/<int:client_id>/final-accounts/periods/<int:period_id>/delete/",
        views.period_delete,
        name="period_delete",
    ),
    path(
        "partner/clients/<int:client_id>/final-accounts/periods/<int:period_id>/submissions/add/",
        views.submission_add,
        name="submission_add",
    ),
    path(
        "partner/clients/<int:client_id>/final-accounts/submissions/<int:submission_id>/delete/",
        views.submission_delete,
        name="submission_delete",
    ),
]
