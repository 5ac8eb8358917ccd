"""The client access lifecycle: give client access and activation, disable/enable, Stop Managing This
Client (participating: Yes; non-participating: transfer or delete), and the client removing the practice.

Every function is one transaction that locks the client row, checks the transition, writes the change,
the licence change (``billing.licences``), the audit event and the notifications together.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from allauth.account.models import EmailAddress
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.db.models import F, Q, Value
from django.db.models.functions import Greatest
from django.http import HttpRequest
from django.utils import timezone

from partnerdesk.audit.models import Action
from partnerdesk.audit.services import record_event
from partnerdesk.billing.grace import last_free_day
from partnerdesk.billing.licences import licence_close, licence_move_to_client
from partnerdesk.billing.models import DirectDebitMandate, SubscriptionItem
from partnerdesk.billing.selectors import active_services, mandate_active
from partnerdesk.identity.models import Company, CompanyMembership, User
from partnerdesk.identity.services import product_tokens_revoke
from partnerdesk.lib.errors import DomainError, InvalidTransition, NotFound
from partnerdesk.lib.tokens import hash_token, new_token
from partnerdesk.notifications.services import message_post, message_subject, send_email, send_email_each
from partnerdesk.practice.locks import lock_companies, lock_company_of
from partnerdesk.practice.models import Client, ClientAccessInvitation, PracticeMember
from partnerdesk.practice.permissions import require_may_stop_managing
from partnerdesk.practice.selectors import admin_recipients, visible_clients

ACTIVATION_DAYS = 14
GRACE_DAYS = 30
# Give client access needs these business details first (the email is asked in the invite window).
REQUIRED_FOR_ACCESS = ["business_name", "contact_name", "address", "postcode"]


class ClientDetailsIncomplete(DomainError):
    code = "client_details_incomplete"
    status = 409
    title = "Amend the client's business details before you give them access."


class EmailsDoNotMatch(DomainError):
    code = "emails_do_not_match"
    status = 422
    title = "The two email addresses do not match."


class EmailInvalid(DomainError):
    code = "email_invalid"
    status = 422
    title = "Enter a valid email address, like name@example.com."


class EmailIsPracticeMember(DomainError):
    code = "email_is_practice_member"
    status = 422
    title = "That address belongs to someone in your practice. Enter your client's own email address."


class RequesterIsPracticeMember(DomainError):
    code = "requester_is_practice_member"
    status = 409
    title = (
        "This person works in your practice: they already reach this client through Partner Edition. "
        "Decline the request; to give your client access, use Manage → Give client access."
    )


class ClientEmailMissing(DomainError):
    code = "client_email_missing"
    status = 409
    title = "Add your client's email address to their details first: the transfer is sent to it."


class BusinessNameMismatch(DomainError):
    code = "business_name_mismatch"
    status = 422
    title = "Type the business name exactly as shown to confirm."


class FinalAccountsDataExists(DomainError):
    code = "final_accounts_data_exists"
    status = 409
    title = (
        "This client has Final Accounts data or submissions. Delete them in Final Accounts first: "
        "the data cannot be recovered."
    )


class ActivationClosed(DomainError):
    """A link that was used, cancelled, replaced by a newer one, or is too old."""

    code = "activation_link_closed"
    status = 410


class ActivationEmailMismatch(DomainError):
    code = "activation_email_mismatch"
    status = 403
    title = "This invitation was sent to a different email address. Sign out and sign in with that address."


class AccountExists(DomainError):
    code = "account_exists"
    status = 409
    title = "An account already uses this email address. Sign in to accept the invitation."


CLOSED_MESSAGES = {
    ClientAccessInvitation.Status.ACCEPTED: "This invitation has already been used.",
    ClientAccessInvitation.Status.CANCELLED: "This invitation was cancelled by the practice.",
    ClientAccessInvitation.Status.SUPERSEDED: "A newer invitation was sent: use the link in the latest email.",
    ClientAccessInvitation.Status.EXPIRED: "This invitation has expired. Ask your accountant to resend it.",
}


def _today() -> dt.date:
    return timezone.localdate()


def client_gone(*, member: PracticeMember, client_id: int) -> DomainError:
    """Why a client the member looked for is not there: ``client_already_ended`` for one the practice managed
    until someone stopped (or the client removed it), NotFound for anything else."""
    if visible_clients(member=member, include_ended=True).filter(pk=client_id, ended_at__isnull=False).exists():
        return InvalidTransition(
            "Your practice no longer manages this client: someone has just stopped managing it.",
            code="client_already_ended",
        )
    return NotFound("No such client")


def _lock_client(*, member: PracticeMember, client_id: int) -> Client:
    """Lock one live client the member may see (its company's row, then its own: ``locks``), or say why not."""
    lock_company_of(visible_clients(member=member), client_id)
    client = (
        visible_clients(member=member)
        .select_for_update(of=("self",))
        .select_related("company", "company__owner", "practice")
        .filter(pk=client_id)
        .first()
    )
    if client is None:
        raise client_gone(member=member, client_id=client_id)
    return client


def is_participating(client: Client) -> bool:
    """Derived: the company has an owner who can sign in."""
    owner = client.company.owner
    return owner is not None and owner.is_active


def field_label(field: str) -> str:
    """A client detail field's human name ("postcode" -> "Postcode")."""
    return str(getattr(Client._meta.get_field(field), "verbose_name", field)).capitalize()


def missing_for_access(client: Client) -> list[str]:
    """The business details still to fill in before Give client access (field names)."""
    return [field for field in REQUIRED_FOR_ACCESS if not str(getattr(client, field)).strip()]


def _normalise_email(email: str, confirm: str) -> str:
    email = (email or "").strip().lower()
    if email != (confirm or "").strip().lower():
        raise EmailsDoNotMatch()
    try:
        validate_email(email)
    except ValidationError:
        raise EmailInvalid() from None
    return email


def _issue_invitation(
    *, client: Client, email: str, purpose: str, actor: User | None, days: int = ACTIVATION_DAYS
) -> str:
    """Supersede any pending link for this client and issue a new one. Returns the token (never stored)."""
    ClientAccessInvitation.objects.filter(client=client, status=ClientAccessInvitation.Status.PENDING).update(
        status=ClientAccessInvitation.Status.SUPERSEDED
    )
    token = new_token()
    now = timezone.now()
    ClientAccessInvitation.objects.create(
        client=client,
        company=client.company,
        email=email,
        purpose=purpose,
        token_hash=hash_token(token),
        invited_by=actor,
        created_at=now,
        expires_at=now + dt.timedelta(days=days),
    )
    return token


def _send_activation(
    *, client: Client, email: str, token: str, purpose: str, grace_ends_on: dt.date | None, resent: bool = False
) -> None:
    """The activation (or transfer) email: the link's expiry as a date, and on a resend that the earlier link no
    longer works (``_issue_invitation`` superseded it)."""
    invitation = ClientAccessInvitation.objects.get(token_hash=hash_token(token))
    # A client who pays is told so: the full price of their services, and the Direct Debit asked after activating.
    client_pays = purpose == ClientAccessInvitation.Purpose.ACCESS and client.payer == Client.Payer.CLIENT
    services = [item.service.name for item in active_services(company=client.company)] if client_pays else []
    send_email(
        template="client-activation" if purpose == ClientAccessInvitation.Purpose.ACCESS else "client-transfer",
        to=email,
        context={
            "business_name": client.business_name,
            "practice_name": client.practice.name,
            "customer_number": client.company.customer_number,
            "activation_path": f"/activate/{token}/",
            "days": ACTIVATION_DAYS,
            "expires_on": f"{timezone.localtime(invitation.expires_at):%-d %B %Y}",
            "resent": resent,
            "grace_ends_on": grace_ends_on.isoformat() if grace_ends_on else "",
            "client_pays": client_pays,
            "services": services,
            "needs_mandate": client_pays and mandate_active(company=client.company) is None,
        },
        about=invitation,
    )


def _event(
    action: Action, *, member: PracticeMember, client: Client, request: HttpRequest | None, **data: object
) -> None:
    record_event(
        action=action,
        actor=member.user,
        request=request,
        practice=client.practice,
        company=client.company,
        client=client,
        data={"business_name": client.business_name, **data},
    )


def _touch(client: Client, *fields: str) -> None:
    """Save these fields; a change to the client's details (the email given access) is a new version of them, so
    a Details form opened before it is refused as stale instead of writing the old address back."""
    client.updated_at = timezone.now()
    if set(fields) & set(Client.DETAIL_FIELDS):
        client.version += 1
        fields = (*fields, "version")
    client.save(update_fields=[*fields, "updated_at"])


# --- Give client access ---------------------------------------------------------------------------


def client_access_invite(
    *, member: PracticeMember, client_id: int, email: str, email_confirm: str, request: HttpRequest | None = None
) -> tuple[Client, str]:
    """Manage -> Give client access -> Invite & Continue. Returns the client and the link's token."""
    with transaction.atomic():
        client = _lock_client(member=member, client_id=client_id)
        if client.access == Client.Access.INVITED:  # e.g. Invite & Continue again after Back
            raise InvalidTransition(
                f"{client.business_name} is already Awaiting Client Activation ({client.email}). "
                "To send the email again, use Manage → Resend invitation.",
                code="client_not_invitable",
            )
        if client.tab != Client.Tab.ACTIVE or client.access != Client.Access.NONE or is_participating(client):
            raise InvalidTransition(
                "Only a non-participating client on the Active tab without access can be invited.",
                code="client_not_invitable",
            )
        missing = missing_for_access(client)
        if missing:
            labels = ", ".join(field_label(f) for f in missing)
            raise ClientDetailsIncomplete(f"Amend the client's details first: {labels} missing.", missing=missing)
        address = _normalise_email(email, email_confirm)
        if PracticeMember.objects.filter(practice=client.practice, user__email__iexact=address).exists():
            raise EmailIsPracticeMember()
        token = _issue_invitation(
            client=client, email=address, purpose=ClientAccessInvitation.Purpose.ACCESS, actor=member.user
        )
        client.access = Client.Access.INVITED
        client.email = address
        _touch(client, "access", "email")
        Company.objects.filter(pk=client.company_id).update(owner_email=address)
        _event(Action.CLIENT_ACCESS_INVITE, member=member, client=client, request=request, email=address)
        _send_activation(client=client, email=address, token=token, purpose="access", grace_ends_on=None)
    return client, token


def client_access_from_request(
    *, client: Client, requester: User, actor: User, request: HttpRequest | None = None
) -> dict[str, object]:
    """A practice admin approved ``requester``'s request to use the subscription of a client the practice manages
    that has no owner yet (non-participating; DESIGN.md, "Link to a subscription"). Giving the client a login is
    Give client access and its activation in one step, so the state is theirs: the requester becomes the company's
    Subscription Owner (its owner email and the client's email become their login address), any invitation awaiting
    activation is cancelled, and access is "My company and client both have access". Who pays does not change.

    The same rules as Give client access: complete business details first, and not someone of the practice itself.
    Runs inside the caller's transaction (``identity.services.access_request_approve``), which has locked the
    company and then this client (decision 74) and records the audit event with what this returns."""
    if client.tab != Client.Tab.ACTIVE or client.access not in (Client.Access.NONE, Client.Access.INVITED):
        raise InvalidTransition(
            "Only a non-participating client on the Active tab without access can be given access.",
            code="client_not_invitable",
        )
    missing = missing_for_access(client)
    if missing:
        labels = ", ".join(field_label(f) for f in missing)
        raise ClientDetailsIncomplete(
            f"Amend {client.business_name}'s business details before you give them access: {labels} missing.",
            missing=missing,
        )
    if PracticeMember.objects.filter(practice_id=client.practice_id, user=requester).exists():
        raise RequesterIsPracticeMember()
    company = client.company
    company.owner = requester
    company.owner_email = requester.email
    company.save(update_fields=["owner", "owner_email"])
    CompanyMembership.objects.update_or_create(
        user=requester, company=company, defaults={"role": CompanyMembership.Role.OWNER}
    )
    cancelled = ClientAccessInvitation.objects.filter(
        client=client, status=ClientAccessInvitation.Status.PENDING, purpose=ClientAccessInvitation.Purpose.ACCESS
    ).update(status=ClientAccessInvitation.Status.CANCELLED)
    was = client.access
    client.access = Client.Access.BOTH
    client.email = requester.email
    _touch(client, "access", "email")
    name = requester.get_full_name()
    message_post(
        client=client,
        practice=client.practice,
        subject=f"{client.business_name} now has access",
        body=f"{actor.get_full_name()} approved {name}'s request to use {client.business_name}: {name} is its "
        "Subscription Owner. You and your client both have access.",
        link=f"/partner/clients/{client.pk}/",
    )
    return {
        "business_name": client.business_name,
        "owner": requester.email,
        "access": {"from": was, "to": Client.Access.BOTH.value},
        "invitation_cancelled": bool(cancelled),
    }


def client_access_resend(*, member: PracticeMember, client_id: int, request: HttpRequest | None = None) -> str:
    """Resend invitation: a new link; the old one stops working."""
    with transaction.atomic():
        client = _lock_client(member=member, client_id=client_id)
        if client.access != Client.Access.INVITED:
            raise InvalidTransition("This client is not awaiting activation.", code="client_not_invited")
        if not client.email:
            raise InvalidTransition(
                "This client has no email address to send the invitation to. Cancel the invitation, then "
                "Give client access again.",
                code="client_email_missing",
            )
        token = _issue_invitation(
            client=client, email=client.email, purpose=ClientAccessInvitation.Purpose.ACCESS, actor=member.user
        )
        _event(Action.CLIENT_ACCESS_RESEND, member=member, client=client, request=request, email=client.email)
        _send_activation(
            client=client, email=client.email, token=token, purpose="access", grace_ends_on=None, resent=True
        )
    return token


def client_access_cancel(*, member: PracticeMember, client_id: int, request: HttpRequest | None = None) -> Client:
    """Cancel invitation: back to "No client access"; the link stops working."""
    with transaction.atomic():
        client = _lock_client(member=member, client_id=client_id)
        if client.access != Client.Access.INVITED:
            raise InvalidTransition("This client is not awaiting activation.", code="client_not_invited")
        ClientAccessInvitation.objects.filter(client=client, status=ClientAccessInvitation.Status.PENDING).update(
            status=ClientAccessInvitation.Status.CANCELLED
        )
        client.access = Client.Access.NONE
        _touch(client, "access")
        _event(Action.CLIENT_ACCESS_CANCEL, member=member, client=client, request=request)
    return client


def client_access_invitations_expire(*, now: dt.datetime | None = None) -> int:
    """Periodic: links past their 14 days expire; a client still awaiting activation returns to "No client
    access". Each expiry is its own small transaction (rows locked, skipped if someone else got there)."""
    now = now or timezone.now()
    due = list(
        ClientAccessInvitation.objects.filter(
            status=ClientAccessInvitation.Status.PENDING, expires_at__lte=now
        ).values_list("pk", flat=True)[:1000]
    )
    expired = 0
    for pk in due:
        with transaction.atomic():
            # The company, the client, then the link (``locks``), as the practice's and the client's own changes.
            lock_companies(ClientAccessInvitation.objects.filter(pk=pk).values_list("company_id", flat=True))
            client_ids = ClientAccessInvitation.objects.filter(pk=pk).values_list("client_id", flat=True)
            client = Client.all_objects.select_for_update().select_related("practice", "company").get(pk__in=client_ids)
            invitation = (
                ClientAccessInvitation.objects.select_for_update()
                .filter(pk=pk, status=ClientAccessInvitation.Status.PENDING, expires_at__lte=now)
                .first()
            )
            if invitation is None:
                continue
            invitation.status = ClientAccessInvitation.Status.EXPIRED
            invitation.save(update_fields=["status"])
            if invitation.purpose == ClientAccessInvitation.Purpose.ACCESS and client.access == Client.Access.INVITED:
                client.access = Client.Access.NONE
                _touch(client, "access")
            record_event(
                action=Action.CLIENT_ACCESS_EXPIRE,
                practice=client.practice,
                company=client.company,
                client=client,
                data={"email": invitation.email, "purpose": invitation.purpose},
            )
            expired += 1
    return expired


# --- Activation (the client's side) ----------------------------------------------------------------


@dataclass(frozen=True)
class ActivationView:
    """What the activation page shows for a link."""

    invitation: ClientAccessInvitation
    business_name: str
    practice_name: str
    account_exists: bool


def activation_for_token(*, token: str) -> ActivationView:
    """Look a link up for its page: NotFound for an unknown token, ActivationClosed for a dead one."""
    invitation = (
        ClientAccessInvitation.objects.select_related("client__practice", "company")
        .filter(token_hash=hash_token(token or ""))
        .first()
    )
    if invitation is None:
        raise NotFound("This link is not valid. Check you copied the whole link from the email.")
    status = invitation.status
    if status == ClientAccessInvitation.Status.PENDING and invitation.expires_at <= timezone.now():
        status = ClientAccessInvitation.Status.EXPIRED
    if status != ClientAccessInvitation.Status.PENDING:
        raise ActivationClosed(CLOSED_MESSAGES[ClientAccessInvitation.Status(status)])
    return ActivationView(
        invitation=invitation,
        business_name=invitation.company.business_name,
        practice_name=invitation.client.practice.name,
        account_exists=User.objects.filter(email__iexact=invitation.email).exists(),
    )


def _lock_link(token: str) -> tuple[Company, Client, ClientAccessInvitation]:
    """Lock a pending link's company (as the owner's side does), its client, then the link itself: the order of
    the practice's changes (``locks``), so that cancelling or stopping at the same moment waits or makes it wait,
    never both. NotFound for an unknown token, ActivationClosed for a used, cancelled, replaced or old link."""
    token_hash = hash_token(token or "")
    found = ClientAccessInvitation.objects.filter(token_hash=token_hash).values_list("company_id", "client_id").first()
    if found is None:
        raise NotFound("This link is not valid.")
    company = Company.objects.select_for_update(of=("self",)).select_related("owner").get(pk=found[0])
    client = Client.all_objects.select_for_update(of=("self",)).select_related("practice").get(pk=found[1])
    invitation = ClientAccessInvitation.objects.select_for_update().get(token_hash=token_hash)
    if invitation.status == ClientAccessInvitation.Status.PENDING and invitation.expires_at <= timezone.now():
        raise ActivationClosed(CLOSED_MESSAGES[ClientAccessInvitation.Status.EXPIRED])
    if invitation.status != ClientAccessInvitation.Status.PENDING:
        raise ActivationClosed(CLOSED_MESSAGES[ClientAccessInvitation.Status(invitation.status)])
    return company, client, invitation


def client_access_accept(*, token: str, user: User, request: HttpRequest | None = None) -> Company:
    """The invited person (signed in with the invited, verified address) becomes the company's owner.

    The link's rows are locked first: of two simultaneous acceptances one wins, the other sees a used link."""
    with transaction.atomic():
        company, client, invitation = _lock_link(token)
        if not EmailAddress.objects.filter(user=user, email__iexact=invitation.email, verified=True).exists():
            raise ActivationEmailMismatch()
        # A deactivated former owner cannot sign in (the client is non-participating): the invitee replaces them.
        if company.owner is not None and company.owner_id != user.pk and company.owner.is_active:
            raise ActivationClosed("This business already has an owner.")
        company.owner = user
        company.owner_email = invitation.email
        company.save(update_fields=["owner", "owner_email"])
        CompanyMembership.objects.update_or_create(
            user=user, company=company, defaults={"role": CompanyMembership.Role.OWNER}
        )
        invitation.status = ClientAccessInvitation.Status.ACCEPTED
        invitation.accepted_at = timezone.now()
        invitation.accepted_by = user
        invitation.save(update_fields=["status", "accepted_at", "accepted_by"])
        if invitation.purpose == ClientAccessInvitation.Purpose.ACCESS and client.ended_at is None:
            client.access = Client.Access.BOTH
            _touch(client, "access")
        record_event(
            action=Action.CLIENT_ACCESS_ACCEPT,
            actor=user,
            request=request,
            practice=client.practice,
            company=company,
            client=client,
            data={"business_name": company.business_name, "purpose": invitation.purpose},
        )
        if client.ended_at is None:
            message_post(
                client=client,
                practice=client.practice,
                subject=message_subject("{business} activated their access", business=company.business_name),
                body=f"{user.get_full_name() or user.email} accepted your invitation. "
                "You and your client both have access.",
                link=f"/partner/clients/{client.pk}/",
            )
    return company


def client_access_activate_new_account(
    *, token: str, full_name: str, password: str, request: HttpRequest | None = None
) -> User:
    """No account yet for the invited address: the link proves the email, so the account is created
    verified (no code), and becomes the company's owner, all in one transaction. The link is locked before the
    account is made: of two people choosing a password on one link at once, the second sees a used link."""
    with transaction.atomic():
        _, _, invitation = _lock_link(token)
        email = invitation.email
        if User.objects.filter(email__iexact=email).exists():
            raise AccountExists()
        user = User.objects.create_user(email=email, password=password, full_name=full_name.strip())
        EmailAddress.objects.create(user=user, email=email, verified=True, primary=True)
        record_event(action=Action.IDENTITY_SIGNUP, actor=user, request=request, data={"via": "client_activation"})
        client_access_accept(token=token, user=user, request=request)
    return user


# --- Disable / Enable ------------------------------------------------------------------------------


def _revoke_product_tokens(company: Company) -> None:
    """Products hold OIDC tokens whose claims list this company: end them so the next refresh or sign-in
    gets claims without it (existing sessions included)."""
    product_tokens_revoke(user_ids=CompanyMembership.objects.filter(company=company).values("user_id"))


def client_access_disable(*, member: PracticeMember, client_id: int, request: HttpRequest | None = None) -> Client:
    """Manage -> Disable -> Yes: the client's users lose the company everywhere; the practice keeps it and pays."""
    with transaction.atomic():
        client = _lock_client(member=member, client_id=client_id)
        if client.tab != Client.Tab.ACTIVE or client.access != Client.Access.BOTH:
            raise InvalidTransition("Only a client with access can be disabled.", code="client_not_enabled")
        if client.payer != Client.Payer.ACCOUNTANT:
            # The spec's Disable is for clients "you are paying" for: one who pays keeps what they pay for.
            raise InvalidTransition(
                "Your client pays for this subscription themselves, so you can't remove their access.",
                code="client_pays",
            )
        client.access = Client.Access.DISABLED
        _touch(client, "access")
        _revoke_product_tokens(client.company)
        _event(Action.CLIENT_DISABLE, member=member, client=client, request=request)
        # Where to ask: the practice's proven contact address, as the disabled company's page shows it.
        _email_owner(client, template="client-access-disabled", practice_email=client.practice.contact_email)
    return client


def client_access_enable(*, member: PracticeMember, client_id: int, request: HttpRequest | None = None) -> Client:
    """Enable -> Yes: the client's users can use the company again."""
    with transaction.atomic():
        client = _lock_client(member=member, client_id=client_id)
        if client.access != Client.Access.DISABLED:
            raise InvalidTransition("This client's access is not disabled.", code="client_not_disabled")
        client.access = Client.Access.BOTH
        _touch(client, "access")
        _event(Action.CLIENT_ENABLE, member=member, client=client, request=request)
        _email_owner(client, template="client-access-enabled")
    return client


def _email_owner(client: Client, *, template: str, **extra: object) -> None:
    owner = client.company.owner
    if owner is None:
        return
    send_email(
        template=template,
        to=owner.email,
        context={
            "business_name": client.company.business_name,
            "practice_name": client.practice.name,
            "customer_number": client.company.customer_number,
            **extra,
        },
    )


# --- Stop Managing This Client ---------------------------------------------------------------------


class StopMode:
    PARTICIPATING = "participating"
    TRANSFER = "transfer"
    DELETE = "delete"
    ALL = (PARTICIPATING, TRANSFER, DELETE)


@dataclass(frozen=True)
class StopResult:
    client: Client
    mode: str
    grace_ends_on: dt.date | None = None
    ledger_entries_deleted: int = 0
    token: str = ""


def _end(client: Client, reason: str, *, grace_ends_on: dt.date | None = None) -> None:
    client.ended_at = timezone.now()
    client.ended_reason = reason
    client.grace_ends_on = grace_ends_on
    client.payer = Client.Payer.CLIENT
    if client.access == Client.Access.INVITED:
        client.access = Client.Access.NONE
    client.updated_at = client.ended_at
    client.save(update_fields=["ended_at", "ended_reason", "grace_ends_on", "payer", "access", "updated_at"])


def client_stop_managing(
    *,
    member: PracticeMember,
    client_id: int,
    mode: str,
    confirm_business_name: str = "",
    request: HttpRequest | None = None,
) -> StopResult:
    """Stop Managing This Client (Active tab). Participating: Yes. Non-participating: transfer the data and
    subscription to the client, or delete the data and cancel the subscription. A second person stopping
    the same client at the same time waits on the row lock, then gets ``client_already_ended`` (409). Admins only
    (``permissions.require_may_stop_managing``)."""
    if mode not in StopMode.ALL:
        raise DomainError("Choose how to stop managing this client.", code="stop_mode_invalid")
    with transaction.atomic():
        client = _lock_client(member=member, client_id=client_id)  # a client they can't see is a 404 first
        require_may_stop_managing(member)
        if client.tab != Client.Tab.ACTIVE:
            raise InvalidTransition(
                "Only Active clients can be stopped. Pending and Imported clients are deleted instead.",
                code="client_not_active",
            )
        participating = is_participating(client)
        if participating and mode != StopMode.PARTICIPATING:
            raise InvalidTransition(
                "This client has their own login: stopping hands the subscription to them.",
                code="client_is_participating",
            )
        if not participating and mode == StopMode.PARTICIPATING:
            raise InvalidTransition(
                "Choose whether to transfer this client's data and subscription or delete them.",
                code="client_is_not_participating",
            )
        today = _today()
        if mode == StopMode.PARTICIPATING:
            return _stop_participating(member=member, client=client, today=today, request=request)
        if mode == StopMode.TRANSFER:
            return _stop_transfer(member=member, client=client, today=today, request=request)
        return _stop_delete(
            member=member, client=client, today=today, confirm_business_name=confirm_business_name, request=request
        )


def _cancel_open_invitations(client: Client) -> None:
    ClientAccessInvitation.objects.filter(client=client, status=ClientAccessInvitation.Status.PENDING).update(
        status=ClientAccessInvitation.Status.CANCELLED
    )


def _stop_participating(
    *, member: PracticeMember, client: Client, today: dt.date, request: HttpRequest | None
) -> StopResult:
    was_accountant = client.payer == Client.Payer.ACCOUNTANT
    if was_accountant:
        licence_move_to_client(company=client.company, stopped_on=today, client_pays_from=today + dt.timedelta(days=1))
    _cancel_open_invitations(client)
    _end(client, Client.Ended.TRANSFERRED)
    _event(
        Action.CLIENT_STOP,
        member=member,
        client=client,
        request=request,
        licence="client",
        was_accountant=was_accountant,
    )
    _tell_client_they_pay(client)
    return StopResult(client=client, mode=StopMode.PARTICIPATING)


def _tell_client_they_pay(client: Client) -> None:
    company = client.company
    message_post(
        company=company,
        subject=message_subject(
            "{practice} no longer manages {business}", practice=client.practice.name, business=company.business_name
        ),
        body="Your subscription continues at the full price. Enter your Direct Debit details to keep using it; "
        "you will receive your own invoices from now on.",
        link=f"/companies/{company.customer_number}/payment/",
    )
    _email_owner(
        client, template="client-practice-stopped", payment_path=f"/companies/{company.customer_number}/payment/"
    )


def _stop_transfer(
    *, member: PracticeMember, client: Client, today: dt.date, request: HttpRequest | None
) -> StopResult:
    if not client.email:
        raise ClientEmailMissing()
    grace_ends_on = today + dt.timedelta(days=GRACE_DAYS)
    if client.payer == Client.Payer.ACCOUNTANT:
        licence_move_to_client(company=client.company, stopped_on=today, client_pays_from=grace_ends_on)
    token = _issue_invitation(
        client=client, email=client.email, purpose=ClientAccessInvitation.Purpose.TRANSFER, actor=member.user
    )
    Company.objects.filter(pk=client.company_id).update(owner_email=client.email)
    _end(client, Client.Ended.TRANSFERRED, grace_ends_on=grace_ends_on)
    _event(
        Action.CLIENT_TRANSFER,
        member=member,
        client=client,
        request=request,
        email=client.email,
        grace_ends_on=grace_ends_on.isoformat(),
    )
    message_post(
        company=client.company,
        subject=message_subject(
            "{practice} transferred {business} to you", practice=client.practice.name, business=client.business_name
        ),
        body=f"You have free access up to and including {last_free_day(grace_ends_on):%-d %B %Y}. Enter your Direct "
        "Debit details by then to keep using it.",
        link=f"/companies/{client.company.customer_number}/payment/",
        owner_only=True,
    )
    _send_activation(client=client, email=client.email, token=token, purpose="transfer", grace_ends_on=grace_ends_on)
    return StopResult(client=client, mode=StopMode.TRANSFER, grace_ends_on=grace_ends_on, token=token)


def _stop_delete(
    *,
    member: PracticeMember,
    client: Client,
    today: dt.date,
    confirm_business_name: str,
    request: HttpRequest | None,
) -> StopResult:
    from partnerdesk.compliance.selectors import has_final_accounts_data
    from partnerdesk.ledger.services import ledger_delete_for_company

    if " ".join(confirm_business_name.split()).casefold() != " ".join(client.business_name.split()).casefold():
        raise BusinessNameMismatch()
    if has_final_accounts_data(client=client):
        raise FinalAccountsDataExists()
    company = client.company
    entries = ledger_delete_for_company(company=company)
    # Billed up to and including today; an item due to start later, or to end later, is cut to nothing
    # or to tomorrow (never ending before it starts).
    tomorrow = today + dt.timedelta(days=1)
    cancelled = (
        SubscriptionItem.objects.filter(company=company)
        .filter(Q(ends_on__isnull=True) | Q(ends_on__gt=tomorrow))
        .update(ends_on=Greatest(F("starts_on"), Value(tomorrow)))
    )
    licence_close(company=company, ends_on=tomorrow)
    _cancel_open_invitations(client)
    client.access = Client.Access.NONE
    client.ended_at = timezone.now()
    client.ended_reason = Client.Ended.DELETED
    client.updated_at = client.ended_at
    client.save(update_fields=["access", "ended_at", "ended_reason", "updated_at"])
    # Who, when and counts, never the data itself.
    _event(
        Action.CLIENT_DELETE_DATA,
        member=member,
        client=client,
        request=request,
        ledger_entries_deleted=entries,
        services_cancelled=cancelled,
    )
    return StopResult(client=client, mode=StopMode.DELETE, ledger_entries_deleted=entries)


# --- The client removes the practice ---------------------------------------------------------------


def accountant_remove(*, actor: User, company: Company, request: HttpRequest | None = None) -> Client:
    """My accountant -> Remove my accountant (the company's owner, e.g. changing accountant). Same licence
    effect as the practice stopping; the practice is told and keeps its Final Accounts data."""
    with transaction.atomic():
        locked = Company.objects.select_for_update().get(pk=company.pk)
        if locked.owner_id != actor.pk:
            raise NotFound("No such company")
        client = (
            Client.objects.select_for_update(of=("self",))
            .select_related("practice", "company", "company__owner")
            .filter(company=locked, tab=Client.Tab.ACTIVE)
            .first()
        )
        if client is None:
            raise InvalidTransition("No accountant manages this subscription.", code="no_accountant")
        today = _today()
        was_accountant = client.payer == Client.Payer.ACCOUNTANT
        if was_accountant:
            licence_move_to_client(company=locked, stopped_on=today, client_pays_from=today + dt.timedelta(days=1))
        _cancel_open_invitations(client)
        _end(client, Client.Ended.REVOKED_BY_CLIENT)
        record_event(
            action=Action.CLIENT_REVOKED,
            actor=actor,
            request=request,
            practice=client.practice,
            company=locked,
            client=client,
            data={"business_name": locked.business_name, "was_accountant": was_accountant},
        )
        message_post(
            client=client,
            practice=client.practice,
            subject=message_subject("{business} removed your practice", business=locked.business_name),
            body=f"{actor.get_full_name() or actor.email} removed your practice as accountant for "
            f"{locked.business_name}. You no longer have access to their data; any Final Accounts data stays "
            "with you.",
        )
        send_email_each(
            template="practice-client-left",
            recipients=admin_recipients(practice=client.practice),
            context={"business_name": locked.business_name, "practice_name": client.practice.name},
        )
        if was_accountant:
            has_mandate = DirectDebitMandate.objects.filter(company=locked, cancelled_at__isnull=True).exists()
            message_post(
                company=locked,
                subject="You now pay for your subscription",
                body="You will receive your own invoices, collected by your Direct Debit."
                if has_mandate
                else "Enter your Direct Debit details to keep using your services; you will receive your own invoices.",
                link=f"/companies/{locked.customer_number}/{'invoices' if has_mandate else 'payment'}/",
                owner_only=True,
            )
    return client
