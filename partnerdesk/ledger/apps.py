from django.apps import AppConfig


class LedgerConfig(AppConfig):
    name = "partnerdesk.ledger"
    label = "ledger"
