from django.apps import AppConfig


class BackofficeConfig(AppConfig):
    name = "partnerdesk.backoffice"
    label = "backoffice"
