"""The OpenID Connect provider's claims: who the person is and which companies they may use."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Literal

from allauth.idp.oidc.adapter import DefaultOIDCAdapter
from allauth.idp.oidc.models import Client
from django.contrib.auth.models import AbstractBaseUser

from partnerdesk.identity.models import User
from partnerdesk.identity.selectors import companies_claim


class OIDCAdapter(DefaultOIDCAdapter):
    def get_claims(
        self,
        purpose: Literal["id_token", "userinfo"],
        user: AbstractBaseUser,
        client: Client,
        scopes: Iterable[str],
        email: str | None = None,
        **kwargs: Any,
    ) -> dict[str, Any]:
        scopes = list(scopes)
        claims = super().get_claims(purpose, user, client, scopes, email=email, **kwargs)
        if "profile" in scopes and isinstance(user, User):
            claims["name"] = user.full_name or user.email
            claims.pop("given_name", None)
            claims.pop("family_name", None)
            claims.pop("preferred_username", None)
        if isinstance(user, User):
            # Read at token time, so a company whose access was removed disappears from the next token.
            claims["companies"] = companies_claim(user=user)
        return claims
