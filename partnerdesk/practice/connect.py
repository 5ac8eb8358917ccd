"""Connect existing client: a practice asks to manage a company that already has a subscription and an owner.

The practice types the company's Customer Number (or Registration ID) and its owner's email address. Whatever
they match, the practice gets the same answer (``CONNECT_REQUEST_SENT``) and lookups are rate-limited as
linking a subscription is. When they match exactly one company that has an owner who can sign in and no live
practice relationship, a client appears on the practice's Pending tab ("Awaiting client approval"), and the
owner gets an email and a message in their portal with a link to the request, where they **Accept** (the
client moves to Active; the client keeps paying for itself) or **Decline** (the row is removed and the
practice's admins are told). The practice withdraws with Delete Client; requests lapse after 14 days.

Until the owner accepts, the practice's row shows only what the practice typed (the number and the email), not
the company's name or services. Every write is one transaction with its audit event and notifications.
"""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.db.models import OuterRef, Q, QuerySet, Subquery
from django.http import HttpRequest
from django.utils import timezone

from partnerdesk.audit.models import Action, Event
from partnerdesk.audit.services import record_event
from partnerdesk.billing.licences import licence_current, licence_open
from partnerdesk.billing.models import Licence
from partnerdesk.identity.models import Company, CompanyMembership, User
from partnerdesk.identity.selectors import CompanyAccessDisabled, is_access_disabled, membership_for_company
from partnerdesk.identity.services import SubscriptionNumber, parse_subscription_number
from partnerdesk.lib.errors import DomainError, InvalidTransition, NotFound
from partnerdesk.lib.ratelimit import RateLimiter
from partnerdesk.lib.request import client_ip
from partnerdesk.notifications.services import message_post, message_subject, send_email, send_email_each
from partnerdesk.practice.locks import lock_companies
from partnerdesk.practice.models import Client, PracticeMember
from partnerdesk.practice.selectors import admin_recipients, sees_every_client

CONNECT_REQUEST_DAYS = 14
CONNECT_REQUEST_SENT = (
    "Thank you. If those details match a subscription, its owner has been asked to approve. "
    "Requests waiting for approval show on your Pending tab."
)
# As linking a subscription (decision 20): per person and per IP, plus per practice so that many staff
# accounts cannot multiply the allowance.
CONNECT_PER_USER = RateLimiter("practice-connect-user", limit=10, window_seconds=3600)
CONNECT_PER_IP = RateLimiter("practice-connect-ip", limit=30, window_seconds=3600)
CONNECT_PER_PRACTICE = RateLimiter("practice-connect-practice", limit=30, window_seconds=3600)


class ConnectEmailInvalid(DomainError):
    code = "email_invalid"
    status = 422
    title = "Enter the Subscription Owner's email address, like name@example.com."


class ConnectRequestExpired(InvalidTransition):
    code = "connect_request_expired"
    title = "This request has expired. The practice can send a new one."


class ConnectRequestAwaitingClient(InvalidTransition):
    code = "connect_request_awaiting_client"
    title = (
        "This request is waiting for the client's approval: only they can accept it. "
        "You can withdraw it with Delete Client."
    )


class ConnectNotAllowed(NotFound):
    """Restricted staff would not see the pending client they create (as with importing): a 404."""


def may_connect(member: PracticeMember) -> bool:
    """Admins and staff who see every client ask to connect existing clients."""
    return sees_every_client(member)


def request_label(number: SubscriptionNumber) -> str:
    """What the practice's Pending row is called until the owner accepts: what the practice typed."""
    if number.kind == "customer_number":
        return f"Customer Number {number.value}"
    if number.kind == "registration_id":
        return f"Registration ID {number.value}"
    return f"Registration ID ending {number.value}"


def _match_for_update(number: SubscriptionNumber, email: str) -> Company | None:
    """Exactly one company with this number whose owner email (recorded, or the owner's login) is ``email``."""
    companies = (
        Company.objects.select_for_update(of=("self",))
        .select_related("owner")
        .filter(Q(owner_email__iexact=email) | Q(owner__email__iexact=email))
    )
    return number.the_one(companies)


def _refusal(member: PracticeMember, company: Company | None) -> str:
    """Why nothing is requested (for the audit trail only; the practice is never told)."""
    if company is None:
        return "no_match"
    if company.owner is None or not company.owner.is_active:
        return "no_owner"
    if company.pk == member.practice.company_id:
        return "own_practice"
    if Client.objects.filter(company=company).exists():
        return "already_connected"
    return ""


def connect_request_create(
    *, member: PracticeMember, number: str, owner_email: str, request: HttpRequest | None = None
) -> Client | None:
    """Connect existing client. Returns the Pending client when the details matched (callers must show the
    same answer either way: ``CONNECT_REQUEST_SENT``). A malformed number or email is refused as such (it
    reveals nothing); too many attempts raise RateLimited."""
    if not may_connect(member):
        raise ConnectNotAllowed("No such page")
    parsed = parse_subscription_number(number)
    email = (owner_email or "").strip().lower()
    try:
        validate_email(email)
    except ValidationError:
        raise ConnectEmailInvalid() from None
    CONNECT_PER_USER.hit(str(member.user_id))
    CONNECT_PER_PRACTICE.hit(str(member.practice_id))
    CONNECT_PER_IP.hit(client_ip(request) or "unknown")
    with transaction.atomic():
        company = _match_for_update(parsed, email)
        refusal = _refusal(member, company)
        if refusal or company is None or company.owner is None:
            record_event(
                action=Action.CONNECT_REQUEST_UNMATCHED,
                actor=member.user,
                request=request,
                practice=member.practice,
                data={"reason": refusal or "no_match", "number_kind": parsed.kind},
            )
            return None
        owner = company.owner
        now = timezone.now()
        expires_at = now + dt.timedelta(days=CONNECT_REQUEST_DAYS)
        label = request_label(parsed)
        client = Client.objects.create(
            practice=member.practice,
            company=company,
            business_name=label,
            email=email,
            tab=Client.Tab.PENDING,
            access=Client.Access.BOTH,
            payer=Client.Payer.CLIENT,
            requested_by=Client.RequestedBy.PRACTICE,
            request_expires_at=expires_at,
            created_at=now,
            updated_at=now,
        )
        record_event(
            action=Action.CLIENT_CONNECT_REQUEST,
            actor=member.user,
            request=request,
            practice=member.practice,
            company=company,
            client=client,
            data={"request": label, "expires_at": expires_at.isoformat()},
        )
        request_path = f"/companies/{company.customer_number}/accountant/requests/{client.pk}/"
        expires_on = f"{timezone.localtime(expires_at):%-d %B %Y}"
        practice_name = member.practice.name
        message_post(
            company=company,
            subject=message_subject("{practice} asks to be your accountant", practice=practice_name),
            body=f"{practice_name} asked to manage {company.business_name} in Partner Edition. "
            f"Accept or decline by {expires_on}.",
            link=request_path,
            owner_only=True,  # the owner decides
        )
        send_email(
            template="practice-connect-request",
            to=owner.email,
            context={
                "business_name": company.business_name,
                "practice_name": practice_name,
                "requester_name": member.user.get_full_name(),
                "requester_email": member.user.email,
                "request_path": request_path,
                "expires_on": expires_on,
            },
        )
    return client


# --- The owner's side --------------------------------------------------------------------------------


def _open_requests(now: dt.datetime | None = None) -> QuerySet[Client]:
    """Practices' requests to manage a company that still wait for its owner."""
    return Client.objects.filter(
        tab=Client.Tab.PENDING, requested_by=Client.RequestedBy.PRACTICE, request_expires_at__gt=now or timezone.now()
    )


def connect_requests_for_company(*, company: Company, now: dt.datetime | None = None) -> QuerySet[Client]:
    """Practices' requests to manage this company that still wait for its owner, oldest first, each with
    ``requester_email`` (who in the practice asked, from the audit trail)."""
    asked_by = Event.objects.filter(client=OuterRef("pk"), action=Action.CLIENT_CONNECT_REQUEST).order_by("at")
    return (
        _open_requests(now)
        .filter(company=company)
        .select_related("practice")
        .annotate(requester_email=Subquery(asked_by.values("actor_email")[:1]))
        .order_by("created_at", "pk")
    )


def connect_requests_for_owner(*, memberships: list[CompanyMembership]) -> QuerySet[Client]:
    """The open requests to every company of these memberships that the person owns and may reach (home page)."""
    owned = [m.company_id for m in memberships if m.role == CompanyMembership.Role.OWNER and not is_access_disabled(m)]
    return (
        _open_requests().filter(company_id__in=owned).select_related("practice", "company").order_by("created_at", "pk")
    )


def company_for_owner(*, user: User, customer_number: str) -> Company:
    """The company whose Subscription Owner this person is, and whose users may reach it; NotFound otherwise
    (another person's company, a user who is not the owner); ``CompanyAccessDisabled`` while disabled or suspended."""
    membership = membership_for_company(user=user, customer_number=customer_number)
    if membership.role != CompanyMembership.Role.OWNER:
        raise NotFound("No such company")
    if is_access_disabled(membership):
        raise CompanyAccessDisabled(CompanyAccessDisabled.default_message)
    return membership.company


def connect_request_for_owner(*, company: Company, client_id: int) -> Client:
    """One open request for this company (NotFound for anything else: another company's, decided, withdrawn)."""
    client = connect_requests_for_company(company=company).filter(pk=client_id).first()
    if client is None:
        raise NotFound("No such request")
    return client


def _lock_request(*, actor: User, company: Company, client_id: int) -> tuple[Company, Client]:
    locked = Company.objects.select_for_update().filter(pk=company.pk).first()
    if locked is None or locked.owner_id != actor.pk:
        raise NotFound("No such request")
    client = (
        Client.objects.select_for_update(of=("self",))
        .select_related("practice")
        .filter(pk=client_id, company=locked, tab=Client.Tab.PENDING, requested_by=Client.RequestedBy.PRACTICE)
        .first()
    )
    if client is None:
        raise NotFound("No such request")
    if client.request_expires_at is None or client.request_expires_at <= timezone.now():
        raise ConnectRequestExpired()
    return locked, client


def connect_request_accept(
    *, actor: User, company: Company, client_id: int, request: HttpRequest | None = None
) -> Client:
    """Accept: the client moves to the practice's Active tab with both having access. The client keeps paying
    for itself (a client-paying licence is opened if the company has none), as with a client's invitation."""
    with transaction.atomic():
        locked, client = _lock_request(actor=actor, company=company, client_id=client_id)
        now = timezone.now()
        client.tab = Client.Tab.ACTIVE
        client.access = Client.Access.BOTH
        client.request_expires_at = None
        # The practice now manages the company: its real name and owner replace what the practice typed.
        client.business_name = locked.business_name
        client.contact_name = actor.full_name
        client.email = actor.email
        client.version = client.version + 1
        client.updated_at = now
        client.save(
            update_fields=[
                "tab",
                "access",
                "request_expires_at",
                "business_name",
                "contact_name",
                "email",
                "version",
                "updated_at",
            ]
        )
        if licence_current(company=locked) is None:
            licence_open(company=locked, payer=Licence.Payer.CLIENT, starts_on=timezone.localdate())
        from partnerdesk.practice.services import accountant_invitation_close  # services imports this module

        accountant_invitation_close(company=locked)
        record_event(
            action=Action.CLIENT_CONNECT_ACCEPT,
            actor=actor,
            request=request,
            practice=client.practice,
            company=locked,
            client=client,
        )
        client_path = f"/partner/clients/{client.pk}/"
        message_post(
            client=client,
            practice=client.practice,
            subject=message_subject("{business} accepted your request", business=locked.business_name),
            body=f"{actor.get_full_name()} accepted your request to manage {locked.business_name}. It is on your "
            "Active tab; they keep paying for their own subscription.",
            link=client_path,
        )
        send_email_each(
            template="practice-connect-accepted",
            recipients=admin_recipients(practice=client.practice),
            context={
                "business_name": locked.business_name,
                "owner_name": actor.get_full_name(),
                "practice_name": client.practice.name,
                "client_path": client_path,
            },
        )
    return client


def connect_request_decline(
    *, actor: User, company: Company, client_id: int, request: HttpRequest | None = None
) -> Client:
    """Decline: the practice's Pending row is removed and its admins are told (by what they typed: declining
    never tells the practice the company's name)."""
    with transaction.atomic():
        locked, client = _lock_request(actor=actor, company=company, client_id=client_id)
        label = client.business_name
        record_event(
            action=Action.CLIENT_CONNECT_DECLINE,
            actor=actor,
            request=request,
            practice=client.practice,
            company=locked,
            client=client,
            data={"request": label},
        )
        message_post(
            client=client,
            practice=client.practice,
            subject="Your request to manage a client was declined",
            body=f"The owner of the subscription with {label} declined your request to manage it.",
        )
        send_email_each(
            template="practice-connect-declined",
            recipients=admin_recipients(practice=client.practice),
            context={"request_label": label, "practice_name": client.practice.name},
        )
        client.delete()
    return client


# --- Withdrawal and expiry ----------------------------------------------------------------------------


def connect_request_withdrawn(*, client: Client) -> None:
    """Delete Client on a request still awaiting approval: the owner's portal says it was withdrawn. Runs
    inside the deleting service's transaction, before the row goes."""
    message_post(
        company=client.company,
        subject=message_subject("{practice} withdrew its request", practice=client.practice.name),
        body=f"{client.practice.name} no longer asks to manage {client.company.business_name}. "
        "You do not need to do anything.",
        owner_only=True,
    )


def connect_requests_expire(*, now: dt.datetime | None = None) -> int:
    """Periodic: requests unanswered after 14 days are removed and the practice is told. Each in its own small
    transaction (row locked, skipped when the owner or the practice got there first)."""
    now = now or timezone.now()
    due_filter = Q(tab=Client.Tab.PENDING, requested_by=Client.RequestedBy.PRACTICE, request_expires_at__lte=now)
    due = list(Client.objects.filter(due_filter).order_by("request_expires_at").values_list("pk", flat=True)[:1000])
    expired = 0
    for pk in due:
        with transaction.atomic():
            # The company first (``locks``), as the owner accepting or declining at the same moment.
            lock_companies(Client.objects.filter(pk=pk).values_list("company_id", flat=True))
            client = (
                Client.objects.select_for_update(of=("self",))
                .select_related("practice", "company")
                .filter(due_filter, pk=pk)
                .first()
            )
            if client is None:
                continue
            label = client.business_name
            record_event(
                action=Action.CLIENT_CONNECT_EXPIRE,
                practice=client.practice,
                company=client.company,
                client=client,
                data={"request": label},
            )
            message_post(
                client=client,
                practice=client.practice,
                subject="Your request to manage a client expired",
                body=f"The owner of the subscription with {label} did not answer within {CONNECT_REQUEST_DAYS} "
                "days, so the request was removed from your Pending tab. You can ask again.",
            )
            client.delete()
            expired += 1
    return expired
