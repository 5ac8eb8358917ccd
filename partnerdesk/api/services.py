from __future__ import annotations

from datetime import timedelta

from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from partnerdesk.api.models import PersonalAccessToken
from partnerdesk.audit.models import Action
from partnerdesk.audit.services import record_event
from partnerdesk.identity.models import User
from partnerdesk.lib.errors import DomainError, NotFound
from partnerdesk.lib.tokens import hash_token, new_token
from partnerdesk.notifications.services import send_email

MAX_TOKEN_DAYS = 366
MAX_TOKENS_PER_USER = 20


class TokenLimitReached(DomainError):
    code = "token_limit_reached"
    status = 409
    title = f"You already have {MAX_TOKENS_PER_USER} active API tokens; revoke one first"


def token_create(
    *, user: User, name: str, days: int = 90, request: HttpRequest | None = None
) -> tuple[PersonalAccessToken, str]:
    """Create a personal access token. Returns the row and the plaintext, which is never stored."""
    name = name.strip()
    if not name:
        raise DomainError("Give the token a name", code="token_name_required")
    if not 1 <= days <= MAX_TOKEN_DAYS:
        raise DomainError(f"A token lasts between 1 and {MAX_TOKEN_DAYS} days", code="token_lifetime_invalid")
    with transaction.atomic():
        User.objects.select_for_update().filter(pk=user.pk).first()  # serialise concurrent creations per user
        now = timezone.now()
        active = PersonalAccessToken.objects.filter(user=user, revoked_at__isnull=True, expires_at__gt=now).count()
        if active >= MAX_TOKENS_PER_USER:
            raise TokenLimitReached()
        plaintext = new_token(PersonalAccessToken.PREFIX)
        token = PersonalAccessToken.objects.create(
            user=user,
            name=name[:100],
            token_hash=hash_token(plaintext),
            hint=plaintext[:10],
            created_at=now,
            expires_at=now + timedelta(days=days),
        )
        record_event(
            action=Action.API_TOKEN_CREATE, actor=user, request=request, data={"token_id": token.pk, "name": token.name}
        )
        send_email(
            template="api-token-created",
            to=user.email,
            context={
                "email": user.email,
                "full_name": user.full_name,
                "token_name": token.name,
                "token_hint": token.hint,
                "created_at": f"{timezone.localtime(token.created_at):%-d %B %Y at %H:%M}",
                "expires_at": f"{timezone.localtime(token.expires_at):%-d %B %Y}",
            },
        )
    return token, plaintext


def token_revoke(*, user: User, token_id: int, request: HttpRequest | None = None) -> PersonalAccessToken:
    with transaction.atomic():
        token = PersonalAccessToken.objects.select_for_update().filter(pk=token_id, user=user).first()
        if token is None:
            raise NotFound("No such token")
        if token.revoked_at is None:
            token.revoked_at = timezone.now()
            token.save(update_fields=["revoked_at"])
            record_event(
                action=Action.API_TOKEN_REVOKE,
                actor=user,
                request=request,
                data={"token_id": token.pk, "name": token.name},
            )
    return token


def token_authenticate(*, plaintext: str) -> User | None:
    """The active user a bearer token belongs to, or None. Records last use at most once a minute."""
    if not plaintext.startswith(PersonalAccessToken.PREFIX) or len(plaintext) > 100:
        return None
    now = timezone.now()
    token = (
        PersonalAccessToken.objects.select_related("user")
        .filter(token_hash=hash_token(plaintext), revoked_at__isnull=True, expires_at__gt=now, user__is_active=True)
        .first()
    )
    if token is None:
        return None
    if token.last_used_at is None or now - token.last_used_at > timedelta(minutes=1):
        PersonalAccessToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token.user
