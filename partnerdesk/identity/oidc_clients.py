"""The products registered as clients of our OpenID Connect provider.

The three products (Business Cloud Accounting, Payroll, Partner Edition) sign their users in
with Partnerdesk. In this repository they are *demo relying parties*: the callback and
signed-out URLs below are where a product would live under ``BASE_URL``; nothing here serves
them. A real deployment registers the products' own URLs (Django admin, "OpenID Connect ->
Clients", or by running this with their base URL).

Policy for every product client (see ``partnerdesk/identity/oidc.py`` for what enforces it):

- authorization code flow only (``response_type=code``); grants ``authorization_code`` and
  ``refresh_token`` — no implicit/hybrid, password, client-credentials or device grants;
- public clients (browser and mobile apps hold no secret), so PKCE is required, S256 only;
- redirect URIs matched exactly (scheme, host, port, path and query);
- scopes ``openid profile email``; consent is skipped because the products are first-party.
"""

from __future__ import annotations

from dataclasses import dataclass

from allauth.idp.oidc.models import Client
from django.db import transaction


@dataclass(frozen=True)
class ProductClient:
    client_id: str
    name: str
    slug: str


PRODUCT_CLIENTS: tuple[ProductClient, ...] = (
    ProductClient("partnerdesk-accounting", "Business Cloud Accounting", "accounting"),
    ProductClient("partnerdesk-payroll", "Payroll", "payroll"),
    ProductClient("partnerdesk-partner-edition", "Partner Edition", "partner-edition"),
)

SCOPES = ["openid", "profile", "email"]
GRANT_TYPES = [Client.GrantType.AUTHORIZATION_CODE.value, Client.GrantType.REFRESH_TOKEN.value]
RESPONSE_TYPES = [Client.ResponseType.CODE.value]


def product_redirect_uri(*, base_url: str, slug: str) -> str:
    return f"{base_url.rstrip('/')}/products/{slug}/callback"


def product_post_logout_redirect_uri(*, base_url: str, slug: str) -> str:
    return f"{base_url.rstrip('/')}/products/{slug}/signed-out"


@transaction.atomic
def ensure_product_clients(*, base_url: str) -> list[Client]:
    """Register (or bring back in line) the product clients; idempotent, stable client ids.

    Running it again with the same ``base_url`` changes nothing; with another ``base_url`` it
    replaces the redirect URIs (the registrations are owned by this code, not hand-edited).
    """
    clients = []
    for product in PRODUCT_CLIENTS:
        client = Client.objects.select_for_update().filter(pk=product.client_id).first()
        if client is None:
            client = Client(id=product.client_id)
        client.name = product.name
        client.type = Client.Type.PUBLIC
        client.skip_consent = True
        client.allow_uri_wildcards = False
        client.owner = None
        client.set_scopes(SCOPES)
        client.set_default_scopes(SCOPES)
        client.set_grant_types(GRANT_TYPES)
        client.set_response_types(RESPONSE_TYPES)
        client.set_redirect_uris([product_redirect_uri(base_url=base_url, slug=product.slug)])
        client.set_post_logout_redirect_uris([product_post_logout_redirect_uri(base_url=base_url, slug=product.slug)])
        client.cors_origins = ""
        client.full_clean(exclude=["secret"])
        client.save()
        clients.append(client)
    return clients
