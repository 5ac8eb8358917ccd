from django.apps import AppConfig


class IdentityConfig(AppConfig):
    name = "partnerdesk.identity"
    label = "identity"

    def ready(self) -> None:
        from partnerdesk.identity import audit_hooks, ratelimits, usersessions

        audit_hooks.connect()
        ratelimits.install()
        usersessions.connect()
