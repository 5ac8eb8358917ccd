"""Reads of the API's own data (personal access tokens)."""

from __future__ import annotations

from django.db.models import QuerySet

from partnerdesk.api.models import PersonalAccessToken
from partnerdesk.identity.models import User


def tokens_for_user(*, user: User) -> QuerySet[PersonalAccessToken]:
    """A person's API tokens, newest first, each with its ``user`` joined: ``is_usable`` reads the login's
    ``is_active``, which would otherwise be one query per token."""
    return PersonalAccessToken.objects.filter(user=user).select_related("user")
