from django.apps import AppConfig


class BillingConfig(AppConfig):
    name = "partnerdesk.billing"
    label = "billing"

    def ready(self) -> None:
        from django.core import checks

        from partnerdesk.billing.checks import supplier_details

        checks.register(supplier_details)
