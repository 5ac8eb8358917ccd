from django.contrib import admin
from django.urls import include, path

from partnerdesk import views
from partnerdesk.api.api import api
from partnerdesk.identity.oidc import device_flow_not_offered
from partnerdesk.identity.signup import AtomicLoginView, ConfirmEmailCodeView

admin.site.site_header = "Partnerdesk back office"
admin.site.site_title = "Partnerdesk back office"

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("favicon.ico", views.favicon, name="favicon"),
    path("accounts/login/", AtomicLoginView.as_view(), name="account_login"),
    path("accounts/confirm-email/", ConfirmEmailCodeView.as_view(), name="account_email_verification_sent"),
    path("accounts/", include("allauth.urls")),
    # No device flow: allauth would serve these to any client (decision 60); the names stay allauth's.
    path("identity/o/api/device/code", device_flow_not_offered),
    path("identity/o/device", device_flow_not_offered),
    path("", include("allauth.idp.urls")),
    path("_allauth/", include("allauth.headless.urls")),
    path("", include("partnerdesk.identity.urls")),
    path("", include("partnerdesk.practice.urls")),
    path("", include("partnerdesk.billing.invoice_urls")),
    path("", include("partnerdesk.billing.urls")),
    path("", include("partnerdesk.ledger.urls")),
    path("", include("partnerdesk.compliance.urls")),
    path("api/v1/", api.urls),
    path("admin/", admin.site.urls),
    path("", include("partnerdesk.notifications.urls")),
]

handler429 = "partnerdesk.views.too_many_requests"
