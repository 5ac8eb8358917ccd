from django.apps import AppConfig


class IdentityConfig(AppConfig):
    name = "partnerdesk.identity"
    label = "identity"

    def ready(self) -> None:
        from partnerdesk.identity import audit_hooks

        audit_hooks.connect()
