from django.apps import AppConfig


class IdentityConfig(AppConfig):
    name = "partnerdesk.identity"
    label = "identity"
