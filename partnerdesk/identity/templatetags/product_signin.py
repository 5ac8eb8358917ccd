"""The product a page is part of signing in to: the reauthentication page says "Sign in again to continue to
Business Cloud Accounting" when it was reached from the authorization endpoint (prompt=login, max_age)."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

from allauth.idp.oidc.models import Client
from django import template
from django.urls import reverse

register = template.Library()


@register.simple_tag(takes_context=True)
def signin_product_name(context: dict[str, Any]) -> str:
    """The name of the client whose authorization request ``next`` returns to, or ""."""
    request = context.get("request")
    if request is None:
        return ""
    next_url = request.POST.get("next") or request.GET.get("next") or ""
    parts = urlsplit(next_url)
    if parts.scheme or parts.netloc or parts.path != reverse("idp:oidc:authorization"):
        return ""
    client_id = parse_qs(parts.query).get("client_id", [""])[0]
    if not client_id:
        return ""
    client = Client.objects.filter(pk=client_id).only("name").first()
    return client.name if client is not None else ""
