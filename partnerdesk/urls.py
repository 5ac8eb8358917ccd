from django.contrib import admin
from django.urls import include, path

from partnerdesk import views
from partnerdesk.api.api import api

admin.site.site_header = "Partnerdesk back office"
admin.site.site_title = "Partnerdesk back office"

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("accounts/", include("allauth.urls")),
    path("", include("allauth.idp.urls")),
    path("_allauth/", include("allauth.headless.urls")),
    path("", include("partnerdesk.identity.urls")),
    path("", include("partnerdesk.practice.urls")),
    path("api/v1/", api.urls),
    path("admin/", admin.site.urls),
    path("", include("partnerdesk.notifications.urls")),
]
