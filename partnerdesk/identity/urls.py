from django.urls import path

from partnerdesk.billing import invoice_views
from partnerdesk.billing import views as billing_views
from partnerdesk.identity import views
from partnerdesk.practice import connect_views

app_name = "identity"
urlpatterns = [
    path("signin/", views.signin, name="signin"),
    path("products/<slug:product>/", views.product_home, name="product_home"),
    path("account/link/", views.link_subscription, name="link_subscription"),
    path("account/security/", views.security, name="security"),
    path("account/sessions/<int:session_id>/end/", views.session_end, name="session_end"),
    path("account/requests/<uuid:public_id>/", views.access_request_detail, name="access_request"),
    path("account/requests/<uuid:public_id>/approve/", views.access_request_approve, name="access_request_approve"),
    path("account/requests/<uuid:public_id>/decline/", views.access_request_decline, name="access_request_decline"),
    path("account/requests/<uuid:public_id>/cancel/", views.access_request_cancel, name="access_request_cancel"),
    path("companies/<str:customer_number>/", views.company, name="company"),
    path("companies/<str:customer_number>/users/", views.company_users, name="company_users"),
    path(
        "companies/<str:customer_number>/users/<int:user_id>/remove/",
        views.company_user_remove,
        name="company_user_remove",
    ),
    path("companies/<str:customer_number>/payment/", billing_views.company_payment, name="company_payment"),
    path("companies/<str:customer_number>/invoices/", invoice_views.company_invoice_list, name="company_invoices"),
    path("companies/<str:customer_number>/accountant/", views.company_accountant, name="company_accountant"),
    path(
        "companies/<str:customer_number>/accountant/remove/",
        views.company_accountant_remove,
        name="company_accountant_remove",
    ),
    path(
        "companies/<str:customer_number>/accountant/invitation/withdraw/",
        views.company_accountant_invitation_withdraw,
        name="company_accountant_invitation_withdraw",
    ),
    path(
        "companies/<str:customer_number>/accountant/requests/<int:client_id>/",
        connect_views.company_connect_request,
        name="company_connect_request",
    ),
    path("companies/<str:customer_number>/details/", views.company_details, name="company_details"),
    path("account/api-tokens/", views.api_tokens, name="api_tokens"),
    path("account/api-tokens/<int:token_id>/revoke/", views.api_token_revoke, name="api_token_revoke"),
]
