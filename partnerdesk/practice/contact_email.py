"""The practice's contact email is only ever one it has proven it receives.

An owner's "Invite your accountant" lands on the practice whose address they typed, with the owner's details, so an
address a practice merely typed into its settings must not count: a changed contact email waits, unused, until
someone opens the single-use link emailed to it (stored hashed, expiring, as staff invitation links); meanwhile the
old, proven one stays in use. An admin's own verified login address needs no link. Two practices never hold the
same contact email (database constraint, case-insensitive)."""

from __future__ import annotations

from datetime import timedelta

from allauth.account.models import EmailAddress
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.http import HttpRequest
from django.utils import timezone

from partnerdesk.audit.models import Action
from partnerdesk.audit.services import record_event
from partnerdesk.identity.models import User
from partnerdesk.lib.errors import Conflict, InvalidTransition, NotFound
from partnerdesk.lib.tokens import hash_token, new_token
from partnerdesk.notifications.services import send_email
from partnerdesk.practice.models import Practice, PracticeMember

CONFIRMATION_DAYS = 7
TOKEN_PREFIX = "pdc_"


class ContactEmailTaken(Conflict):
    code = "contact_email_taken"
    title = "This address is already another practice's contact email, so it can't be this practice's too."


class ContactEmailLinkClosed(InvalidTransition):
    code = "contact_email_link_closed"
    title = "This confirmation link can no longer be used: it has been used, replaced by a newer one, or has expired."


def confirmation_path(token: str) -> str:
    return f"/partner/contact-email/{token}/"


def practice_for_address(email: str) -> Practice | None:
    """The practice an address proven to be its own belongs to: an admin's verified login address first (a person
    belongs to one practice), else a confirmed contact email (unique). Ordered, so the answer never depends on the
    database's whim."""
    email = (email or "").strip().lower()
    if not email:
        return None
    verified_users = EmailAddress.objects.filter(email__iexact=email, verified=True).values("user_id")
    by_member = (
        Practice.objects.filter(members__role=PracticeMember.Role.ADMIN, members__user_id__in=verified_users)
        .order_by("pk")
        .first()
    )
    if by_member is not None:
        return by_member
    return Practice.objects.filter(contact_email__iexact=email).order_by("pk").first()


def request_change(
    *,
    practice: Practice,
    actor: User,
    email: str,
    resend: bool = False,
    requester_name: str = "",
    actor_login_proves: bool = True,
) -> dict[str, object]:
    """Inside the settings service's transaction, with ``practice`` locked. ``email`` is clean and lower-case, or
    empty to remove the contact email. The address already waiting keeps waiting (saving the settings again sends
    nothing) unless its link has expired or ``resend`` asks for a new link. Returns the audit diff (empty when
    nothing changed).

    ``requester_name``: who asked, as the emails name them (the actor's name by default). ``actor_login_proves``:
    an admin's own verified login address is proven already; customer services' is not the practice's (False: a
    link, whatever the address)."""
    requester_name = requester_name or actor.full_name or actor.email
    current, pending = practice.contact_email, practice.contact_email_pending
    expires_at = practice.contact_email_token_expires_at
    if email and email == pending and not resend and expires_at is not None and expires_at > timezone.now():
        return {}
    if email == current or not email:
        # Keeping the proven address, or removing it (which claims nothing): at once; a waiting change is dropped.
        diff: dict[str, object] = {}
        if email != current:
            diff["contact_email"] = {"from": current, "to": email}
        if pending:
            diff["contact_email_pending"] = {"from": pending, "to": ""}
        practice.contact_email = email
        _clear_pending(practice)
        practice.save(update_fields=["contact_email", *PENDING_FIELDS])
        return diff
    if actor_login_proves and EmailAddress.objects.filter(user=actor, email__iexact=email, verified=True).exists():
        # The admin's own verified login address: proven already.
        _refuse_taken(practice=practice, email=email)
        practice.contact_email = email
        _clear_pending(practice)
        _save_refusing_taken(practice, ["contact_email", *PENDING_FIELDS])
        return {"contact_email": {"from": current, "to": email}, "proven_by": "admin_login"}
    # Any other address: a fresh link (the previous one, if any, stops working).
    token = new_token(TOKEN_PREFIX)
    practice.contact_email_pending = email
    practice.contact_email_token_hash = hash_token(token)
    practice.contact_email_token_expires_at = timezone.now() + timedelta(days=CONFIRMATION_DAYS)
    practice.save(update_fields=PENDING_FIELDS)
    send_email(
        template="practice-contact-email-confirm",
        to=email,
        context={
            "practice_name": practice.name,
            "requester_name": requester_name,
            "confirmation_path": confirmation_path(token),
            "expires_on": f"{timezone.localtime(practice.contact_email_token_expires_at):%-d %B %Y}",
        },
    )
    if current and current != email:
        # The proven address hears of it first: a change it didn't ask for is somebody's attempt to take it over.
        send_email(
            template="practice-contact-email-change-requested",
            to=current,
            context={
                "practice_name": practice.name,
                "requester_name": requester_name,
                "new_email": email,
            },
        )
    return {"contact_email_pending": {"from": pending, "to": email}}


PENDING_FIELDS = ["contact_email_pending", "contact_email_token_hash", "contact_email_token_expires_at"]


def _clear_pending(practice: Practice) -> None:
    practice.contact_email_pending = ""
    practice.contact_email_token_hash = ""
    practice.contact_email_token_expires_at = None


def _refuse_taken(*, practice: Practice, email: str) -> None:
    if Practice.objects.filter(contact_email__iexact=email).exclude(pk=practice.pk).exists():
        raise ContactEmailTaken()


def _save_refusing_taken(practice: Practice, fields: list[str]) -> None:
    """The unique constraint decides a race between two practices confirming one address at once."""
    try:
        with transaction.atomic():
            practice.save(update_fields=fields)
    except IntegrityError:
        raise ContactEmailTaken() from None


def pending_for_token(*, token: str) -> Practice | None:
    """The practice whose pending contact email this link confirms, while the link is usable."""
    if not token:
        return None
    return (
        Practice.objects.filter(
            contact_email_token_hash=hash_token(token), contact_email_token_expires_at__gt=timezone.now()
        )
        .exclude(Q(contact_email_pending=""))
        .first()
    )


def contact_email_confirm(*, token: str, request: HttpRequest | None = None) -> Practice:
    """Someone who received the link confirms the address: it becomes the contact email in use, the link is spent.
    No sign-in: the link in that mailbox is the proof (it may be a shared office inbox without an account)."""
    with transaction.atomic():
        practice = (
            Practice.objects.select_for_update().filter(contact_email_token_hash=hash_token(token or "")).first()
            if token
            else None
        )
        if practice is None or not practice.contact_email_pending:
            raise NotFound("This confirmation link is not valid.", code="contact_email_link_not_found")
        expires_at = practice.contact_email_token_expires_at
        if expires_at is None or expires_at <= timezone.now():
            raise ContactEmailLinkClosed()
        address, previous = practice.contact_email_pending, practice.contact_email
        _refuse_taken(practice=practice, email=address)
        practice.contact_email = address
        _clear_pending(practice)
        _save_refusing_taken(practice, ["contact_email", *PENDING_FIELDS])
        record_event(
            action=Action.PRACTICE_SETTINGS_UPDATE,
            request=request,
            practice=practice,
            data={"contact_email": {"from": previous, "to": address}, "proven_by": "confirmation_link"},
        )
    return practice
