from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "partnerdesk.audit"
    label = "audit"
