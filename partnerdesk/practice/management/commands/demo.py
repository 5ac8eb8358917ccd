from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from partnerdesk.identity.oidc_clients import ensure_product_clients
from partnerdesk.practice.demo import DEMO_PASSWORD, LOGINS, load_demo


class Command(BaseCommand):
    help = "Load the demo practice, staff and clients (idempotent) and print the demo logins."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--force", action="store_true", help="Allow loading demo data with DEBUG off.")

    def handle(self, *args: Any, force: bool = False, **options: Any) -> None:
        if not settings.DEBUG and not force:
            raise CommandError("Demo data uses a published password: refusing with DEBUG off (use --force).")
        created = load_demo()
        self.stdout.write("Demo data loaded." if created else "Demo data already present.")
        self.stdout.write(f"Demo logins (password for all: {DEMO_PASSWORD}):")
        for login in LOGINS:
            self.stdout.write(f"  {login.email:<32} {login.role}")
        self.stdout.write("OpenID Connect clients (public, authorization code + PKCE S256):")
        for oidc_client in ensure_product_clients(base_url=settings.BASE_URL):
            self.stdout.write(f"  {oidc_client.id:<32} {oidc_client.name:<28} {oidc_client.get_redirect_uris()[0]}")
