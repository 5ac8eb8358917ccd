from django.urls import path

from partnerdesk.notifications import views

app_name = "notifications"
urlpatterns = [
    path("dev/mail/", views.dev_mail_list, name="dev_mail_list"),
    path("dev/mail/<int:mail_id>/", views.dev_mail_detail, name="dev_mail_detail"),
    path("dev/mail/<int:mail_id>/html/", views.dev_mail_html, name="dev_mail_html"),
]
