"""Writes for billing: prices and the practice discount (back office), subscriptions (Manage Subscriptions,
Add subscriptions from the Imported tab) and Direct Debit mandates.

Only the payer side changes a subscription: the practice for an accountant-paying client (through a member
who can see that client), the company's owner when the client pays. Anyone else gets NotFound (or
PermissionDenied when they can see the company but do not pay for it).
"""

from __future__ import annotations

import datetime as dt
import re
import secrets
import string
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from django.db import transaction
from django.db.models import F, Q
from django.http import HttpRequest
from django.utils import timezone

from partnerdesk.audit.models import Action, Event
from partnerdesk.audit.services import record_event
from partnerdesk.billing.grace import company_unsuspend
from partnerdesk.billing.licences import licence_open, overlap_refused
from partnerdesk.billing.models import (
    DirectDebitMandate,
    Licence,
    PracticeDiscount,
    Service,
    ServicePrice,
    SubscriptionItem,
)
from partnerdesk.billing.selectors import (
    RemovalSummary,
    alternatives_in_force,
    discount_rate_in_force,
    payer_for,
    removal_summary,
    today,
)
from partnerdesk.identity.models import Company, CompanyMembership, User
from partnerdesk.lib import crypto
from partnerdesk.lib.errors import Conflict, DomainError, NotFound, PermissionDenied
from partnerdesk.lib.request import client_ip
from partnerdesk.notifications.services import message_post, send_email
from partnerdesk.practice.access import practice_client_for
from partnerdesk.practice.locks import lock_companies
from partnerdesk.practice.models import Client, Practice, PracticeMember
from partnerdesk.practice.selectors import visible_clients

__all__ = [
    "IMPORTED_BATCH_LIMIT",
    "clients_add_subscriptions",
    "mandate_cancel",
    "mandate_create",
    "practice_discount_set",
    "removal_summary",
    "service_price_set",
    "subscription_add",
    "subscriptions_remove",
]


# --- errors -------------------------------------------------------------------------------------------


class NotThePayer(PermissionDenied):
    code = "subscription_not_payer"
    title = "Only whoever pays for this subscription can change its services"


class LastServiceUnconfirmed(DomainError):
    code = "subscription_last_service_unconfirmed"
    status = 409
    title = "This removes the last service: confirm that the subscription will have no services"


class NotSubscribed(DomainError):
    code = "subscription_not_subscribed"
    status = 409
    title = "The subscription does not include that service"


class AlreadySubscribed(Conflict):
    code = "subscription_already_subscribed"
    title = "The subscription already includes that service"


class ServiceNotOffered(DomainError):
    code = "service_not_offered"
    status = 422
    title = "That service is not offered"


class DateInPast(DomainError):
    code = "date_in_past"
    status = 422
    title = "Choose today or a later date"


class TooManyClients(DomainError):
    code = "too_many_clients"
    status = 422
    title = "Choose at most 50 clients at a time"


class NothingChosen(DomainError):
    code = "nothing_chosen"
    status = 422
    title = "Choose at least one client and one service"


class AccessDetailsIncomplete(DomainError):
    code = "client_details_incomplete"
    status = 422
    title = "Amend the client's details before giving client access"


class PayerOneWay(Conflict):
    code = "licence_one_way"
    title = "A client that has paid for itself can never become accountant-paying again"


class ClientPayingNeedsLogin(DomainError):
    code = "client_paying_needs_login"
    status = 422
    title = "A client-paying client needs a login to pay"


class PayerInvalid(DomainError):
    code = "payer_invalid"
    status = 422
    title = "Choose who pays: accountant or client"


class InvalidPrice(DomainError):
    code = "price_invalid"
    status = 422
    title = "The price is not valid"


class InvalidDiscount(DomainError):
    code = "discount_invalid"
    status = 422
    title = "The discount rate must be between 0 and 100 percent"


class InvalidBankDetails(DomainError):
    status = 422
    code = "bank_details_invalid"
    title = "The bank details are not valid"


class NoMandate(NotFound):
    code = "mandate_not_found"
    title = "There is no active Direct Debit mandate"


# --- prices and the practice discount (back office) ----------------------------------------------------


def service_price_set(
    *,
    service: Service,
    monthly_rrp: Decimal,
    effective_from: dt.date,
    actor: User | None,
    request: HttpRequest | None = None,
) -> ServicePrice:
    """A new price from a date on. History is kept: a new row every time, never an edit of an old one. The
    date cannot be before the current month (earlier months are, or will be, invoiced at the old price)."""
    try:
        rrp = Decimal(monthly_rrp).quantize(Decimal("0.01"))
    except (InvalidOperation, TypeError):
        raise InvalidPrice("Enter the monthly price in pounds, like 30.00.") from None
    if rrp < 0 or rrp >= Decimal("100000000"):
        raise InvalidPrice("Enter a monthly price of £0.00 or more.")
    if effective_from < today().replace(day=1):
        raise DateInPast("A price can start in the current month at the earliest: earlier months are invoiced.")
    with transaction.atomic():
        locked = Service.objects.select_for_update().get(pk=service.pk)
        if ServicePrice.objects.filter(service=locked, effective_from=effective_from).exists():
            raise Conflict(
                f"{locked.name} already has a price from {effective_from:%-d %B %Y}.", code="price_date_taken"
            )
        price = ServicePrice.objects.create(service=locked, monthly_rrp=rrp, effective_from=effective_from)
        record_event(
            action=Action.PRICE_CHANGE,
            actor=actor,
            request=request,
            data={"service": locked.code, "monthly_rrp": str(rrp), "effective_from": effective_from.isoformat()},
        )
    return price


def practice_discount_set(
    *,
    practice: Practice,
    rate: Decimal,
    actor: User | None,
    effective_from: dt.date | None = None,
    request: HttpRequest | None = None,
) -> PracticeDiscount | None:
    """The practice's discount (percent off RRP) on its discounted accountant-paying licences, from a date on
    (today by default). Dated like prices: a new row every time, never an edit of an old one, and not before the
    current month (earlier months are, or will be, invoiced at the old rate). Returns None when the rate in force
    that day is already ``rate`` (nothing changes)."""
    try:
        new_rate = Decimal(rate).quantize(Decimal("0.01"))
    except (InvalidOperation, TypeError):
        raise InvalidDiscount() from None
    if not Decimal("0") <= new_rate <= Decimal("100"):
        raise InvalidDiscount()
    starts = effective_from or today()
    if starts < today().replace(day=1):
        raise DateInPast("A discount rate can start in the current month at the earliest: earlier months are invoiced.")
    with transaction.atomic():
        locked = Practice.objects.select_for_update().get(pk=practice.pk)
        if PracticeDiscount.objects.filter(practice=locked, effective_from=starts).exists():
            raise Conflict(
                f"{locked.name} already has a discount rate from {starts:%-d %B %Y}.", code="discount_date_taken"
            )
        old_rate = discount_rate_in_force(practice=locked, on=starts)
        if old_rate == new_rate:
            return None
        row = PracticeDiscount.objects.create(practice=locked, rate=new_rate, effective_from=starts)
        record_event(
            action=Action.PRACTICE_DISCOUNT_CHANGE,
            actor=actor,
            request=request,
            practice=locked,
            company=locked.company,
            data={"old": str(old_rate), "new": str(new_rate), "effective_from": starts.isoformat()},
        )
    return row


# --- who may change a subscription --------------------------------------------------------------------


@dataclass(frozen=True)
class PayerSide:
    """The actor is allowed to change this company's services: as the practice (with the client row) or owner."""

    side: str  # "practice" | "owner"
    client: Client | None = None


def _is_owner(*, actor: User, company: Company) -> bool:
    return (
        company.owner_id == actor.pk
        or CompanyMembership.objects.filter(user=actor, company=company, role=CompanyMembership.Role.OWNER).exists()
    )


def payer_side(*, actor: User, company: Company) -> PayerSide:
    """May ``actor`` change ``company``'s services? The open licence decides which side pays."""
    if not actor.is_authenticated:
        raise NotFound("No such company")
    client = practice_client_for(user=actor, company=company)
    is_owner = _is_owner(actor=actor, company=company)
    if client is None and not is_owner:
        raise NotFound("No such company")
    payer = payer_for(company=company)
    if payer.payer == Licence.Payer.ACCOUNTANT:
        if client is not None and client.practice_id == payer.practice_id:
            return PayerSide("practice", client)
        raise NotThePayer("Your accountant pays for this subscription: ask them to change its services.")
    if is_owner:
        return PayerSide("owner", client)
    raise NotThePayer(
        "This client pays for their own subscription: only its Subscription Owner can change its services."
    )


def _lock_company(company: Company) -> Company:
    return Company.objects.select_for_update().get(pk=company.pk)


def _practice_of(side: PayerSide) -> Practice | None:
    """A change made by the practice shows in the client's History (practice= and client= on the event)."""
    return side.client.practice if side.side == "practice" and side.client is not None else None


def _client_of(side: PayerSide) -> Client | None:
    return side.client if side.side == "practice" else None


def subscription_add(
    *,
    actor: User,
    company: Company,
    service: Service,
    starts_on: dt.date | None = None,
    request: HttpRequest | None = None,
) -> SubscriptionItem:
    """Add a service from ``starts_on`` (today by default; never in the past). A service whose removal is
    scheduled for a later day is kept instead (the removal is cancelled)."""
    start = starts_on or today()
    if start < today():
        raise DateInPast("A service can be added from today at the earliest.")
    with transaction.atomic():
        locked = _lock_company(company)
        side = payer_side(actor=actor, company=locked)
        if not service.is_active:
            raise ServiceNotOffered(f"{service.name} is no longer offered.")
        current = (
            SubscriptionItem.objects.select_for_update()
            .filter(company=locked, service=service)
            .filter(Q(ends_on__isnull=True) | Q(ends_on__gt=start))
            .exclude(ends_on=F("starts_on"))  # cancelled before it started: covers no day
            .order_by("-starts_on")
            .first()
        )
        if current is not None and current.ends_on is None:
            raise AlreadySubscribed(f"{locked.business_name} already has {service.name}.")
        # One plan per product: Accounting Plus replaces Accounting Standard from the same day.
        replaced = alternatives_in_force(company=locked, service=service, on=start)
        for other in replaced:
            other.ends_on = max(start, other.starts_on)
            other.ended_by = actor
        SubscriptionItem.objects.bulk_update(replaced, ["ends_on", "ended_by"])
        if current is not None and current.starts_on <= start:
            current.ends_on = None
            current.ended_by = None
            with overlap_refused():
                current.save(update_fields=["ends_on", "ended_by"])
            item = current
        elif current is not None:
            raise AlreadySubscribed(f"{service.name} is already due to start on {current.starts_on:%-d %B %Y}.")
        else:
            with overlap_refused():
                item = SubscriptionItem.objects.create(
                    company=locked, service=service, starts_on=start, created_by=actor
                )
        record_event(
            action=Action.SUBSCRIPTION_ADD,
            actor=actor,
            request=request,
            company=locked,
            data={
                "services": [service.code],
                "starts_on": start.isoformat(),
                "by": side.side,
                **({"replaces": [other.service.code for other in replaced]} if replaced else {}),
            },
            practice=_practice_of(side),
            client=_client_of(side),
        )
        instead = f", instead of {', '.join(o.service.name for o in replaced)}" if replaced else ""
        message_post(
            company=locked,
            subject=f"{service.name} added",
            body=f"{service.name} was added to {locked.business_name} from {start:%-d %B %Y}{instead}.",
        )
    return item


def subscriptions_remove(
    *,
    actor: User,
    company: Company,
    services: Sequence[Service],
    effective_on: dt.date | None = None,
    confirm_no_service: bool = False,
    request: HttpRequest | None = None,
) -> RemovalSummary:
    """Manage Subscriptions -> Remove -> Continue -> Finish: the services end on ``effective_on`` (the first day
    without them; billed up to the day before). Removing the last service needs ``confirm_no_service``.
    Returns the summary that was applied."""
    day = effective_on or today()
    if day < today():
        raise DateInPast("Services can be removed from today at the earliest.")
    if not services:
        raise NothingChosen("Choose a service to remove.")
    with transaction.atomic():
        locked = _lock_company(company)
        side = payer_side(actor=actor, company=locked)
        ids = [s.pk for s in services]
        items = list(
            SubscriptionItem.objects.select_for_update()
            .filter(company=locked, service_id__in=ids)
            .filter(Q(ends_on__isnull=True) | Q(ends_on__gt=day))
        )
        summary = removal_summary(company=locked, services=services, effective_on=day)
        if summary.not_subscribed:
            names = ", ".join(s.name for s in summary.not_subscribed)
            raise NotSubscribed(f"{locked.business_name} does not have {names}.")
        if summary.removes_last_service and not confirm_no_service:
            raise LastServiceUnconfirmed(
                f"This removes the last service from {locked.business_name}. Confirm that it will have no services."
            )
        for item in items:
            item.ends_on = max(day, item.starts_on)
            item.ended_by = actor
        SubscriptionItem.objects.bulk_update(items, ["ends_on", "ended_by"])
        names = ", ".join(line.service.name for line in summary.lines)
        record_event(
            action=Action.SUBSCRIPTION_REMOVE,
            actor=actor,
            request=request,
            company=locked,
            data={
                "services": [line.service.code for line in summary.lines],
                "effective_on": day.isoformat(),
                "saving": str(summary.saving),
                "by": side.side,
            },
            practice=_practice_of(side),
            client=_client_of(side),
        )
        message_post(
            company=locked,
            subject="Services removed",
            body=f"{names} will no longer be part of {locked.business_name} from {day:%-d %B %Y}.",
        )
    return summary


# --- Imported tab -> Add subscriptions ------------------------------------------------------------------

IMPORTED_BATCH_LIMIT = 50


class PlansConflict(DomainError):
    code = "plans_conflict"
    status = 422
    title = "Choose one plan per product."


def _one_plan_per_product(services: Sequence[Service]) -> None:
    """Accounting Start, Standard and Plus are plans of one product: a company has one of them."""
    by_product: dict[str, list[str]] = {}
    for service in services:
        if service.product:
            by_product.setdefault(service.product, []).append(service.name)
    for names in by_product.values():
        if len(names) > 1:
            raise PlansConflict(f"Choose one of {', '.join(names)}: a client has one of these plans at a time.")


class ClientsNotImported(Conflict):
    code = "clients_not_imported"
    title = "Those clients are no longer on your Imported tab: their subscriptions were already added."


def _refuse_not_imported(*, member: PracticeMember, ids: set[int]) -> None:
    """Some chosen clients are not on the Imported tab: when they all moved on to the Active tab (the same request
    sent twice, or a colleague was quicker) say so; anything else (another practice's, a Pending client) is
    NotFound as before."""
    moved = list(
        visible_clients(member=member)
        .filter(pk__in=ids, tab=Client.Tab.ACTIVE)
        .order_by("business_name", "pk")
        .values_list("business_name", flat=True)
    )
    if len(moved) == len(ids):
        raise ClientsNotImported(
            f"Subscriptions were already added for {', '.join(moved)}: "
            f"{'they are' if len(moved) > 1 else 'it is'} on your Active tab, no longer on your Imported tab.",
            client_ids=sorted(ids),
        )
    raise NotFound("Some of those clients are not on your Imported tab.")


def clients_add_subscriptions(
    *,
    member: PracticeMember,
    client_ids: Iterable[int],
    services: Sequence[Service],
    payer: str,
    give_access: Iterable[int] = (),
    request: HttpRequest | None = None,
) -> list[Client]:
    """Set up to 50 imported clients at once: their services and who pays. They move to the Active tab.
    Accountant-paying opens a discounted licence billed to the practice; client-paying a full-RRP one.
    The clients in ``give_access`` also get a login: Give client access to their details' email, in the
    same transaction (all or nothing)."""
    from partnerdesk.practice.lifecycle import client_access_invite, field_label, missing_for_access

    ids = sorted({int(i) for i in client_ids})
    access_ids = sorted({int(i) for i in give_access})
    if not set(access_ids) <= set(ids):
        raise NotFound("Give client access only to clients you are adding subscriptions for.")
    if len(ids) > IMPORTED_BATCH_LIMIT:
        raise TooManyClients(f"Choose at most {IMPORTED_BATCH_LIMIT} clients at a time (you chose {len(ids)}).")
    if not ids or not services:
        raise NothingChosen()
    if payer not in Licence.Payer.values:
        raise PayerInvalid()
    inactive = [s.name for s in services if not s.is_active]
    if inactive:
        raise ServiceNotOffered(f"{', '.join(inactive)} is no longer offered.")
    _one_plan_per_product(services)
    start = today()
    with transaction.atomic():
        # Their companies first, then the clients (``practice.locks``): the licences lock the companies.
        lock_companies(visible_clients(member=member).filter(pk__in=ids).values_list("company_id", flat=True))
        clients = list(
            visible_clients(member=member)
            .select_for_update(of=("self",))
            .filter(pk__in=ids, tab=Client.Tab.IMPORTED)
            .select_related("company")
            .order_by("pk")
        )
        if len(clients) != len(ids):
            _refuse_not_imported(member=member, ids=set(ids) - {c.pk for c in clients})
        missing = {c.pk: missing_for_access(c) + ([] if c.email else ["email"]) for c in clients if c.pk in access_ids}
        not_ready = [
            f"{c.business_name} ({', '.join(field_label(f) for f in missing[c.pk])})"
            for c in clients
            if missing.get(c.pk)
        ]
        if not_ready:
            raise AccessDetailsIncomplete(
                "To give client access, amend these clients' details first (missing): " + "; ".join(not_ready) + "."
            )
        if payer == Licence.Payer.CLIENT:
            # A client pays through its own login (payment details, invoices, Manage Subscriptions): without one
            # nobody could see, pay or change a client-paying subscription, and it can never go back to the practice.
            no_login = [c.business_name for c in clients if c.company.owner_id is None and c.pk not in access_ids]
            if no_login:
                raise ClientPayingNeedsLogin(
                    "Client paying needs the client to have a login, to pay and manage their subscription: tick "
                    "Client access for " + ", ".join(no_login) + ", or choose Accountant paying."
                )
        company_ids = [c.company_id for c in clients]
        if payer == Licence.Payer.ACCOUNTANT and (
            Licence.objects.filter(company_id__in=company_ids, payer=Licence.Payer.CLIENT).exists()
            or any(c.payer == Client.Payer.CLIENT for c in clients)
        ):
            raise PayerOneWay("Some of those clients already pay for themselves: choose Client paying for them.")
        for client in clients:  # at most 50: a licence each (closing any open one)
            licence_open(
                company=client.company,
                payer=payer,
                practice=member.practice if payer == Licence.Payer.ACCOUNTANT else None,
                starts_on=start,
            )
        already, reopen = _items_in_force_from(clients=clients, services=services, start=start)
        with overlap_refused():
            SubscriptionItem.objects.bulk_update(reopen, ["ends_on", "ended_by"])
            SubscriptionItem.objects.bulk_create(
                [
                    SubscriptionItem(company_id=cid, service=service, starts_on=start, created_by=member.user)
                    for cid in company_ids
                    for service in services
                    if (cid, service.pk) not in already
                ]
            )
        now = timezone.now()
        Client.objects.filter(pk__in=ids).update(tab=Client.Tab.ACTIVE, payer=payer, updated_at=now)
        codes = [s.code for s in services]
        Event.objects.bulk_create(
            [
                Event(
                    at=now,
                    action=Action.SUBSCRIPTION_ADD,
                    actor=member.user,
                    actor_email=member.user.email,
                    ip=client_ip(request),
                    practice=member.practice,
                    company_id=client.company_id,
                    client_id=client.pk,
                    data={"services": codes, "starts_on": start.isoformat(), "payer": payer, "from": "imported"},
                )
                for client in clients
            ]
        )
        from partnerdesk.notifications.models import Message

        names = ", ".join(s.name for s in services)
        Message.objects.bulk_create(
            [
                Message(
                    company_id=client.company_id,
                    subject="Services added",
                    body=f"{names} added to {client.business_name} by {member.practice.name}.",
                )
                for client in clients
            ]
        )
        for client in clients:
            client.tab = Client.Tab.ACTIVE
            client.payer = payer
            if client.pk in access_ids:  # Invite & Continue for each: "Awaiting Client Activation"
                invited, _token = client_access_invite(
                    member=member, client_id=client.pk, email=client.email, email_confirm=client.email, request=request
                )
                client.access = invited.access
    return clients


def _items_in_force_from(
    *, clients: Sequence[Client], services: Sequence[Service], start: dt.date
) -> tuple[set[tuple[int, int]], list[SubscriptionItem]]:
    """The (company, service) pairs that already run on ``start`` or later, and the items among them whose
    removal is scheduled (they are kept instead: the removal is cancelled, as ``subscription_add`` does). A
    pair whose service is only due to start later is refused: adding it from today would overlap it."""
    names = {c.company_id: c.business_name for c in clients}
    by_pair: dict[tuple[int, int], list[SubscriptionItem]] = {}
    for item in (
        SubscriptionItem.objects.select_for_update(of=("self",))
        .filter(company_id__in=list(names), service__in=list(services))
        .filter(Q(ends_on__isnull=True) | Q(ends_on__gt=start))
        .exclude(ends_on=F("starts_on"))
        .select_related("service")
        .order_by("company_id", "service_id", "-starts_on")
    ):
        by_pair.setdefault((item.company_id, item.service_id), []).append(item)
    reopen: list[SubscriptionItem] = []
    for items in by_pair.values():
        latest = items[0]
        if latest.ends_on is None:
            continue
        if len(items) > 1 or latest.starts_on > start:
            raise AlreadySubscribed(
                f"{names[latest.company_id]} already has {latest.service.name} due to start on "
                f"{latest.starts_on:%-d %B %Y}: change it from that client's Manage Subscriptions."
            )
        latest.ends_on = None
        latest.ended_by = None
        reopen.append(latest)
    return set(by_pair), reopen


# --- Direct Debit mandates ------------------------------------------------------------------------------

DECLARATION = "I am the account holder and the only person required to authorise debits from this account"
_SORT_CODE = re.compile(r"^[0-9]{2}([- ]?)[0-9]{2}\1[0-9]{2}$")


def normalise_sort_code(value: str) -> str:
    """``123456``, ``12-34-56`` or ``12 34 56`` -> ``123456``; anything else is refused."""
    text = (value or "").strip()
    if not _SORT_CODE.match(text):
        raise InvalidBankDetails(
            "Enter the sort code as 6 digits, like 12-34-56.", code="sort_code_invalid", field="sort_code"
        )
    return re.sub(r"[^0-9]", "", text)


def normalise_account_number(value: str) -> str:
    text = (value or "").replace(" ", "").strip()
    if not (len(text) == 8 and text.isascii() and text.isdigit()):
        raise InvalidBankDetails(
            "Enter the account number as exactly 8 digits.", code="account_number_invalid", field="account_number"
        )
    return text


def normalise_account_holder(value: str) -> str:
    text = " ".join((value or "").split())
    if not text:
        raise InvalidBankDetails(
            "Enter the name of the account holder.", code="account_holder_required", field="account_holder"
        )
    if len(text) > 140:
        raise InvalidBankDetails(
            "The account holder's name can be at most 140 characters.",
            code="account_holder_too_long",
            field="account_holder",
        )
    return text


def _new_reference() -> str:
    alphabet = string.ascii_uppercase + string.digits
    while True:
        reference = "PD" + "".join(secrets.choice(alphabet) for _ in range(8))
        if not DirectDebitMandate.objects.filter(reference=reference).exists():
            return reference


def may_manage_mandate(*, actor: User, company: Company) -> bool:
    """The company's Subscription Owner, or an admin of the practice whose own company this is."""
    if not actor.is_authenticated:
        return False
    if _is_owner(actor=actor, company=company):
        return True
    return PracticeMember.objects.filter(
        user=actor, role=PracticeMember.Role.ADMIN, practice__company_id=company.pk
    ).exists()


def _mandate_recipients(company: Company, practice: Practice | None) -> list[tuple[str, str]]:
    """Who is told about a company's mandate, as (address, name): a practice's admins for the practice's own
    company (each by name, as every email to a practice), otherwise the Subscription Owner (or the owner's address on
    record, nameless, before one is linked)."""
    if practice is not None:
        from partnerdesk.practice.selectors import admin_recipients

        return admin_recipients(practice=practice)
    if company.owner_id is not None:
        owner = User.objects.get(pk=company.owner_id)
        return [(owner.email, owner.full_name)]
    return [(company.owner_email, "")] if company.owner_email else []


def next_invoice_date(today: dt.date) -> dt.date:
    """Invoices are issued in arrears on the 1st of each month (Europe/London): the next one after today."""
    return (today.replace(day=1) + dt.timedelta(days=32)).replace(day=1)


def _email_mandate(
    *, template: str, company: Company, practice: Practice | None, mandate: DirectDebitMandate, **extra: object
) -> None:
    """The confirmation of a mandate set up or cancelled, in the mandate's transaction (masked details only)."""
    for address, name in _mandate_recipients(company, practice):
        send_email(
            template=template,
            to=address,
            context={
                "recipient_name": name,
                "business_name": practice.name if practice else company.business_name,
                "customer_number": company.customer_number,
                "reference": mandate.reference,
                "account_holder": mandate.account_holder,
                "sort_code": mandate.sort_code_masked,
                "account_number": mandate.account_number_masked,
                "payment_path": "/partner/payment/" if practice else f"/companies/{company.customer_number}/payment/",
                **extra,
            },
        )


def mandate_create(
    *,
    actor: User,
    company: Company,
    account_holder: str,
    sort_code: str,
    account_number: str,
    declaration: bool,
    request: HttpRequest | None = None,
) -> DirectDebitMandate:
    """Set up (or replace) the Direct Debit mandate. Bank details are stored encrypted, with masks in clear.
    A suspended company gets its access back in the same transaction."""
    holder = normalise_account_holder(account_holder)
    sort_digits = normalise_sort_code(sort_code)
    account_digits = normalise_account_number(account_number)
    if declaration is not True:
        raise InvalidBankDetails(f"Confirm: {DECLARATION}.", code="declaration_required", field="declaration")
    with transaction.atomic():
        locked = _lock_company(company)
        if not may_manage_mandate(actor=actor, company=locked):
            raise NotFound("No such company")
        now = timezone.now()
        replaced = list(
            DirectDebitMandate.objects.select_for_update()
            .filter(company=locked, status=DirectDebitMandate.Status.ACTIVE)
            .values_list("reference", flat=True)
        )
        DirectDebitMandate.objects.filter(company=locked, status=DirectDebitMandate.Status.ACTIVE).update(
            status=DirectDebitMandate.Status.CANCELLED, cancelled_at=now
        )
        mandate = DirectDebitMandate.objects.create(
            company=locked,
            reference=_new_reference(),
            account_holder=holder,
            sort_code_encrypted=crypto.encrypt(sort_digits),
            account_number_encrypted=crypto.encrypt(account_digits),
            sort_code_masked=mask_sort_code(sort_digits),
            account_number_masked=mask_account_number(account_digits),
            declaration_accepted_at=now,
            created_by=actor,
            created_at=now,
        )
        practice = Practice.objects.filter(company=locked).first()
        record_event(
            action=Action.MANDATE_CREATE,
            actor=actor,
            request=request,
            company=locked,
            practice=practice,
            data={
                "reference": mandate.reference,
                "sort_code": mandate.sort_code_masked,
                "account_number": mandate.account_number_masked,
                "replaced": replaced,
            },
        )
        _email_mandate(
            template="mandate-created",
            company=locked,
            practice=practice,
            mandate=mandate,
            first_collection_on=next_invoice_date(today()).isoformat(),
            replaced=bool(replaced),
        )
        company_unsuspend(company=locked, actor=actor, request=request)
    company.suspended_at = locked.suspended_at
    return mandate


def mandate_cancel(*, actor: User, company: Company, request: HttpRequest | None = None) -> DirectDebitMandate:
    with transaction.atomic():
        locked = _lock_company(company)
        if not may_manage_mandate(actor=actor, company=locked):
            raise NotFound("No such company")
        mandate = (
            DirectDebitMandate.objects.select_for_update()
            .filter(company=locked, status=DirectDebitMandate.Status.ACTIVE)
            .first()
        )
        if mandate is None:
            raise NoMandate()
        mandate.status = DirectDebitMandate.Status.CANCELLED
        mandate.cancelled_at = timezone.now()
        mandate.save(update_fields=["status", "cancelled_at"])
        practice = Practice.objects.filter(company=locked).first()
        record_event(
            action=Action.MANDATE_CANCEL,
            actor=actor,
            request=request,
            company=locked,
            practice=practice,
            data={"reference": mandate.reference},
        )
        _email_mandate(template="mandate-cancelled", company=locked, practice=practice, mandate=mandate)
    return mandate


def mask_sort_code(digits: str) -> str:
    return f"**-**-{digits[-2:]}"


def mask_account_number(digits: str) -> str:
    return f"******{digits[-2:]}"
