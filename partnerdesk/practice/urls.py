from django.urls import path

from partnerdesk.practice import views

app_name = "practice"
urlpatterns = [
    path("partner/clients/", views.clients, name="clients"),
]
