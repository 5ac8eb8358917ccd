from django.apps import AppConfig


class ComplianceConfig(AppConfig):
    name = "partnerdesk.compliance"
    label = "compliance"
