from io import StringIO

import pytest
from allauth.idp.oidc.models import Client
from django.core.management import call_command

from partnerdesk.identity.oidc_clients import ensure_product_clients

pytestmark = pytest.mark.django_db


def test_products_are_registered_as_public_code_flow_clients():
    clients = ensure_product_clients(base_url="https://partnerdesk.example/")
    assert [c.id for c in clients] == ["partnerdesk-accounting", "partnerdesk-payroll", "partnerdesk-partner-edition"]
    assert [c.name for c in clients] == ["Business Cloud Accounting", "Payroll", "Partner Edition"]
    accounting = Client.objects.get(pk="partnerdesk-accounting")
    assert accounting.type == Client.Type.PUBLIC
    assert accounting.skip_consent is True
    assert accounting.allow_uri_wildcards is False
    assert accounting.get_grant_types() == ["authorization_code", "refresh_token"]
    assert accounting.get_response_types() == ["code"]
    assert accounting.get_scopes() == ["openid", "profile", "email"]
    assert accounting.get_redirect_uris() == ["https://partnerdesk.example/products/accounting/callback"]
    assert accounting.get_post_logout_redirect_uris() == ["https://partnerdesk.example/products/accounting/signed-out"]


def test_ensure_product_clients_is_idempotent():
    first = ensure_product_clients(base_url="https://partnerdesk.example")
    secrets = {c.id: c.secret for c in first}
    second = ensure_product_clients(base_url="https://partnerdesk.example")
    assert Client.objects.count() == 3
    assert [c.id for c in second] == [c.id for c in first]
    assert {c.id: c.secret for c in second} == secrets
    assert [c.redirect_uris for c in second] == [c.redirect_uris for c in first]


def test_ensure_product_clients_resets_drifted_settings():
    ensure_product_clients(base_url="https://old.example")
    Client.objects.filter(pk="partnerdesk-payroll").update(
        grant_types="authorization_code\nclient_credentials", response_types="code\ntoken", type="confidential"
    )
    ensure_product_clients(base_url="https://new.example")
    payroll = Client.objects.get(pk="partnerdesk-payroll")
    assert payroll.get_grant_types() == ["authorization_code", "refresh_token"]
    assert payroll.get_response_types() == ["code"]
    assert payroll.type == Client.Type.PUBLIC
    assert payroll.get_redirect_uris() == ["https://new.example/products/payroll/callback"]


def test_demo_command_registers_and_prints_the_clients(settings):
    settings.DEBUG = True
    out = StringIO()
    call_command("demo", stdout=out)
    call_command("demo", stdout=out)
    assert Client.objects.count() == 3
    text = out.getvalue()
    for client_id in ("partnerdesk-accounting", "partnerdesk-payroll", "partnerdesk-partner-edition"):
        assert client_id in text
    assert f"{settings.BASE_URL}/products/accounting/callback" in text
