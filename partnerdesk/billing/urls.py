from django.urls import path

from partnerdesk.billing import views

app_name = "billing"
urlpatterns = [
    path("partner/clients/imported/subscriptions/", views.imported_subscriptions, name="imported_subscriptions"),
    path("partner/clients/<int:client_id>/subscriptions/", views.client_subscriptions, name="client_subscriptions"),
    path(
        "partner/clients/<int:client_id>/subscriptions/summary/",
        views.client_subscriptions_summary,
        name="client_subscriptions_summary",
    ),
    path(
        "partner/clients/<int:client_id>/subscriptions/add/",
        views.client_subscriptions_add,
        name="client_subscriptions_add",
    ),
    path("partner/payment/", views.practice_payment, name="practice_payment"),
    path("companies/<str:customer_number>/subscriptions/", views.company_subscriptions, name="company_subscriptions"),
    path(
        "companies/<str:customer_number>/subscriptions/summary/",
        views.company_subscriptions_summary,
        name="company_subscriptions_summary",
    ),
    path(
        "companies/<str:customer_number>/subscriptions/add/",
        views.company_subscriptions_add,
        name="company_subscriptions_add",
    ),
]
