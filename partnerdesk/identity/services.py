"""Writes for identity: companies, linking an account to a subscription, access requests, members."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from allauth.account.models import EmailAddress
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F, QuerySet
from django.http import HttpRequest
from django.utils import timezone

from partnerdesk.audit.models import Action
from partnerdesk.audit.services import record_event
from partnerdesk.identity.models import (
    AccessRequest,
    Company,
    CompanyMembership,
    User,
    _new_customer_number,
    _new_registration_id,
)
from partnerdesk.lib.errors import Conflict, DomainError, InvalidTransition, NotFound
from partnerdesk.lib.ratelimit import LINK_LOOKUP_PER_IP, LINK_LOOKUP_PER_USER
from partnerdesk.lib.request import client_ip
from partnerdesk.notifications.services import message_post, message_subject, send_email, send_email_each

if TYPE_CHECKING:
    from partnerdesk.practice.models import Client

ACCESS_REQUEST_DAYS = 14
NUMBER_FORMAT_MESSAGE = (
    "Enter your 8-digit Customer Number, or your Registration ID: MBR followed by 8 digits, or just its last 6 digits."
)
NO_MATCH_MESSAGE = (
    "We couldn't match those details. Check the Customer Number or Registration ID and the Subscription "
    "Owner's email address, then try again."
)


class InvalidSubscriptionNumber(DomainError):
    code = "subscription_number_format"
    status = 422
    title = NUMBER_FORMAT_MESSAGE


class NoMatch(DomainError):
    code = "link_no_match"
    status = 400
    title = NO_MATCH_MESSAGE


class AlreadyLinked(Conflict):
    code = "already_linked"
    title = "Your account is already linked to this subscription."


class RequestAlreadyOpen(Conflict):
    code = "access_request_open"
    title = "You already asked for access to this subscription; the request is waiting for approval."


def company_create(*, business_name: str, owner_email: str = "", owner: User | None = None) -> Company:
    """Create a company with fresh random customer number and registration id (retrying on a clash)."""
    for _ in range(10):
        try:
            with transaction.atomic():
                return Company.objects.create(
                    business_name=business_name,
                    owner_email=owner_email.strip().lower(),
                    owner=owner,
                    customer_number=_new_customer_number(),
                    registration_id=_new_registration_id(),
                )
        except IntegrityError:
            continue
    raise RuntimeError("could not allocate a unique customer number")


@dataclass(frozen=True)
class SubscriptionNumber:
    kind: str  # "customer_number" | "registration_id" | "registration_suffix"
    value: str

    def the_one(self, companies: QuerySet[Company]) -> Company | None:
        """The single company of ``companies`` this number names; None when none or several match (a suffix of
        a registration id can be shared: never guess)."""
        if self.kind == "customer_number":
            companies = companies.filter(customer_number=self.value)
        elif self.kind == "registration_id":
            companies = companies.filter(registration_id=self.value)
        else:
            companies = companies.filter(registration_id__endswith=self.value)
        found = list(companies.order_by("pk")[:2])
        return found[0] if len(found) == 1 else None


def parse_subscription_number(raw: str) -> SubscriptionNumber:
    """Accept an 8-digit customer number, MBR + 8 digits, or the registration id's last 6 digits."""
    text = re.sub(r"[\s-]", "", raw or "").upper()
    if re.fullmatch(r"[0-9]{8}", text):
        return SubscriptionNumber("customer_number", text)
    if re.fullmatch(r"MBR[0-9]{8}", text):
        return SubscriptionNumber("registration_id", text)
    if re.fullmatch(r"[0-9]{6}", text):
        return SubscriptionNumber("registration_suffix", text)
    raise InvalidSubscriptionNumber(NUMBER_FORMAT_MESSAGE)


def _find_company_for_update(number: SubscriptionNumber, email: str) -> Company | None:
    return number.the_one(Company.objects.select_for_update().filter(owner_email__iexact=email).exclude(owner_email=""))


def _managing_practice_id(company: Company) -> int | None:
    from partnerdesk.practice.models import Client

    return (
        Client.objects.filter(company=company, tab=Client.Tab.ACTIVE)
        .order_by("created_at")
        .values_list("practice_id", flat=True)
        .first()
    )


def _managing_client(company: Company) -> Client | None:
    from partnerdesk.identity.selectors import deciding_client

    return deciding_client(company=company)


def _practice_scope(client: Client | None) -> dict[str, Any]:
    """An access request's audit event also belongs to the practice's client when the practice decides it, so it
    shows in the client's History."""
    return {} if client is None else {"practice": client.practice, "client": client}


def _has_verified_email(user: User, email: str) -> bool:
    return EmailAddress.objects.filter(user=user, email__iexact=email, verified=True).exists()


def _deciders(company: Company) -> list[tuple[str, str]]:
    """Whom an access request is emailed to, as (address, name to greet; blank: the address's own, if known)."""
    from partnerdesk.practice.selectors import admin_recipients

    if company.owner is not None:
        return [(company.owner.email, "")]
    practice_id = _managing_practice_id(company)
    if practice_id is not None:
        from partnerdesk.practice.models import Practice

        # As everywhere the practice is written to: its admins, each by name, else its contact address.
        return admin_recipients(practice=Practice.objects.get(pk=practice_id))
    return [(company.owner_email, "")] if company.owner_email else []


@dataclass(frozen=True)
class LinkResult:
    outcome: str  # "owner" | "requested"
    company: Company
    access_request: AccessRequest | None = None
    decided_by: str = ""  # a request's decider: "owner", or "accountant" for a managed company without an owner
    first_admin_of: str = ""  # the practice whose first admin the new Subscription Owner became (its name)


def _become_first_admin(*, user: User, company: Company, request: HttpRequest | None) -> str:
    """The company is a practice's own and the practice has no admin yet (set up by customer services, its invited
    admin not in yet): its Subscription Owner becomes its first admin, in the caller's transaction (the company is
    locked; the practice is locked next, as every change to its people does). Not when they belong to another
    practice (a person belongs to one). Returns the practice's name, or "" when nothing changed."""
    from partnerdesk.practice.models import Practice, PracticeMember

    practice = Practice.objects.select_for_update().filter(company=company).first()
    if practice is None or PracticeMember.objects.filter(practice=practice, role=PracticeMember.Role.ADMIN).exists():
        return ""
    if PracticeMember.objects.filter(user=user).exists():
        return ""
    PracticeMember.objects.create(practice=practice, user=user, role=PracticeMember.Role.ADMIN, sees_all_clients=True)
    record_event(
        action=Action.PRACTICE_FIRST_ADMIN,
        actor=user,
        request=request,
        practice=practice,
        company=company,
        data={"email": user.email, "role": PracticeMember.Role.ADMIN},
    )
    return practice.name


def company_link(*, user: User, number: str, email: str, request: HttpRequest | None = None) -> LinkResult:
    """Link the person to a subscription: as its owner at once, or by asking whoever decides for it."""
    parsed = parse_subscription_number(number)
    user_key, ip_key = str(user.pk), client_ip(request) or "unknown"
    LINK_LOOKUP_PER_USER.hit(user_key)
    LINK_LOOKUP_PER_IP.hit(ip_key)
    email = email.strip().lower()
    matched = False
    try:
        with transaction.atomic():
            company = _find_company_for_update(parsed, email)
            if company is None:
                raise NoMatch(NO_MATCH_MESSAGE)
            matched = True
            return _company_link_matched(user=user, company=company, email=email, request=request)
    finally:
        # A match is no guess: only misses use up the allowance. Given back after the transaction, which may have
        # rolled back (already linked, request already open) and the cache may be the database's.
        if matched:
            LINK_LOOKUP_PER_USER.refund(user_key)
            LINK_LOOKUP_PER_IP.refund(ip_key)


def _company_link_matched(*, user: User, company: Company, email: str, request: HttpRequest | None) -> LinkResult:
    """company_link, in its transaction, once the number and email matched a company (locked)."""
    if CompanyMembership.objects.filter(user=user, company=company).exists():
        raise AlreadyLinked()
    managed_without_owner = company.owner_id is None and _managing_practice_id(company) is not None
    if company.owner_id is None and not managed_without_owner and _has_verified_email(user, email):
        company.owner = user
        company.save(update_fields=["owner"])
        CompanyMembership.objects.create(user=user, company=company, role=CompanyMembership.Role.OWNER)
        record_event(action=Action.COMPANY_LINK_OWNER, actor=user, request=request, company=company)
        return LinkResult(
            "owner", company, first_admin_of=_become_first_admin(user=user, company=company, request=request)
        )
    if AccessRequest.objects.filter(requester=user, company=company, status=AccessRequest.Status.PENDING).exists():
        raise RequestAlreadyOpen()
    now = timezone.now()
    access_request = AccessRequest.objects.create(
        requester=user, company=company, created_at=now, expires_at=now + timedelta(days=ACCESS_REQUEST_DAYS)
    )
    record_event(
        action=Action.ACCESS_REQUEST_CREATE,
        actor=user,
        request=request,
        company=company,
        data={"access_request": str(access_request.public_id), "requester": user.email},
        **_practice_scope(_managing_client(company)),
    )
    # With nobody to write to, the request waits in the deciders' portal (Home, "Waiting for your approval").
    send_email_each(
        template="access-request-approval",
        recipients=_deciders(company),
        context={
            "requester_name": user.full_name or user.email,
            "requester_email": user.email,
            "business_name": company.business_name,
            "request_path": f"/account/requests/{access_request.public_id}/",
            "expires_on": f"{timezone.localtime(access_request.expires_at):%-d %B %Y}",
            # The practice decides for a client without an owner: approving makes the requester its owner.
            "decided_by_accountant": managed_without_owner,
        },
    )
    return LinkResult(
        "requested", company, access_request, decided_by="accountant" if managed_without_owner else "owner"
    )


def may_decide(*, user: User, access_request: AccessRequest) -> bool:
    """The subscription owner decides; for an ownerless company, its managing practice's admins or the
    person who holds the recorded owner email."""
    from partnerdesk.practice.access import client_side_blocked
    from partnerdesk.practice.models import PracticeMember

    company = access_request.company
    if company.owner_id is not None:  # an owner whose access is disabled can't reach the company at all
        return company.owner_id == user.pk and not client_side_blocked(company=company)
    practice_id = _managing_practice_id(company)
    if practice_id is not None:
        return PracticeMember.objects.filter(
            practice_id=practice_id, user=user, role=PracticeMember.Role.ADMIN
        ).exists()
    return bool(company.owner_email) and _has_verified_email(user, company.owner_email)


def _lock_request(public_id: uuid.UUID | str) -> AccessRequest:
    """Lock the request's own row only (not its company's: whoever needs the company locks it first, decision 74)."""
    try:
        found = (
            AccessRequest.objects.select_for_update(of=("self",))
            .select_related("company", "requester")
            .get(public_id=public_id)
        )
    except (AccessRequest.DoesNotExist, ValueError, TypeError, ValidationError):
        raise NotFound("No such request") from None
    return found


def _lock_company_of_request(public_id: uuid.UUID | str) -> Company | None:
    """Lock the company a request is about, before the request itself (decision 74: company, client, links)."""
    try:
        company_id = AccessRequest.objects.filter(public_id=public_id).values_list("company_id", flat=True).first()
    except (ValueError, TypeError, ValidationError):
        return None
    if company_id is None:
        return None
    return Company.objects.select_for_update().get(pk=company_id)


def _lock_managing_client(company: Company) -> Client | None:
    """Lock the client through which a practice decides for this company (after the company), or None."""
    from partnerdesk.practice.models import Client

    if company.owner_id is None:
        client = (
            Client.objects.select_for_update(of=("self",))
            .select_related("practice")
            .filter(company=company, tab=Client.Tab.ACTIVE)
            .order_by("created_at")
            .first()
        )
        if client is not None:
            client.company = company
            return client
    return None


def _expire_if_due(access_request: AccessRequest, now: datetime) -> None:
    if access_request.status == AccessRequest.Status.PENDING and access_request.expires_at <= now:
        access_request.status = AccessRequest.Status.EXPIRED
        access_request.decided_at = now
        access_request.save(update_fields=["status", "decided_at"])
        record_event(
            action=Action.ACCESS_REQUEST_EXPIRE,
            company=access_request.company,
            data={"access_request": str(access_request.public_id), "requester": access_request.requester.email},
            **_practice_scope(_managing_client(access_request.company)),
        )


def _refuse_if_closed(access_request: AccessRequest) -> None:
    if access_request.status != AccessRequest.Status.PENDING:
        raise InvalidTransition(
            f"This request is {access_request.get_status_display().lower()} and can no longer be changed.",
            code=f"access_request_{access_request.status}",
        )


def _lock_for_decision(*, actor: User, public_id: uuid.UUID | str, now: datetime) -> AccessRequest:
    """Lock a request for ``actor`` to decide on (404 for anyone else), expiring it first if its time is up."""
    access_request = _lock_request(public_id)
    if access_request.decided_by_id == actor.pk:
        # Their own decision, sent again (a double click; the practice's approval made the requester the owner, who
        # decides from then on): its outcome, or why it can no longer be changed, rather than a 404.
        return access_request
    if not may_decide(user=actor, access_request=access_request):
        raise NotFound("No such request")
    _expire_if_due(access_request, now)  # committed with the caller's block, even when it then refuses
    return access_request


def access_request_approve(
    *, actor: User, public_id: uuid.UUID | str, request: HttpRequest | None = None
) -> AccessRequest:
    """Approve: the requester becomes a user of the company; or, when the managing practice decides for a client
    with no owner yet, its Subscription Owner with access given (``practice.lifecycle.client_access_from_request``).
    """
    now = timezone.now()
    with transaction.atomic():
        # The company, then the practice's client, then the request (decision 74), as the practice's changes to the
        # client and the owner's own: a Stop Managing or Give client access at the same moment waits or makes it wait.
        company = _lock_company_of_request(public_id)
        client = _lock_managing_client(company) if company is not None else None
        access_request = _lock_for_decision(actor=actor, public_id=public_id, now=now)
        if access_request.status == AccessRequest.Status.PENDING:
            company = company or Company.objects.select_for_update().get(pk=access_request.company_id)
            access_request.company = company
            details: dict[str, object] = {}
            if client is not None:
                from partnerdesk.practice.lifecycle import client_access_from_request

                # The practice gives its client access by approving: the requester is the owner, access "both".
                details = client_access_from_request(
                    client=client, requester=access_request.requester, actor=actor, request=request
                )
            elif company.owner_id is None:
                # The holder of the recorded owner email decides for the first time: they become the owner.
                company.owner = actor
                company.save(update_fields=["owner"])
                CompanyMembership.objects.update_or_create(
                    user=actor, company=company, defaults={"role": CompanyMembership.Role.OWNER}
                )
                record_event(action=Action.COMPANY_LINK_OWNER, actor=actor, request=request, company=company)
            CompanyMembership.objects.get_or_create(
                user=access_request.requester, company=company, defaults={"role": CompanyMembership.Role.USER}
            )
            _decide(
                access_request,
                AccessRequest.Status.APPROVED,
                actor=actor,
                now=now,
                request=request,
                client=client,
                details=details,
            )
    if access_request.status != AccessRequest.Status.APPROVED:  # approving twice is harmless
        _refuse_if_closed(access_request)
    return access_request


def access_request_decline(
    *, actor: User, public_id: uuid.UUID | str, request: HttpRequest | None = None
) -> AccessRequest:
    now = timezone.now()
    with transaction.atomic():
        access_request = _lock_for_decision(actor=actor, public_id=public_id, now=now)
        if access_request.status == AccessRequest.Status.PENDING:
            _decide(
                access_request,
                AccessRequest.Status.DECLINED,
                actor=actor,
                now=now,
                request=request,
                client=_managing_client(access_request.company),
            )
    if access_request.status != AccessRequest.Status.DECLINED:
        _refuse_if_closed(access_request)
    return access_request


def _decide(
    access_request: AccessRequest,
    status: str,
    *,
    actor: User,
    now: datetime,
    request: HttpRequest | None,
    client: Client | None = None,
    details: dict[str, object] | None = None,
) -> None:
    """Record the decision, its audit event (also the practice's client's, when the practice decided) and the
    requester's email. ``details``: what approving changed for the practice's client (its audit data)."""
    access_request.status = status
    access_request.decided_at = now
    access_request.decided_by = actor
    access_request.save(update_fields=["status", "decided_at", "decided_by"])
    approved = status == AccessRequest.Status.APPROVED
    record_event(
        action=Action.ACCESS_REQUEST_APPROVE if approved else Action.ACCESS_REQUEST_DECLINE,
        actor=actor,
        request=request,
        company=access_request.company,
        data={
            "access_request": str(access_request.public_id),
            "requester": access_request.requester.email,
            **(details or {}),
        },
        **_practice_scope(client),
    )
    send_email(
        template="access-request-approved" if approved else "access-request-declined",
        to=access_request.requester.email,
        context={
            "business_name": access_request.company.business_name,
            "requester_name": access_request.requester.full_name or access_request.requester.email,
            # Approved by the practice that manages it: the requester is now its Subscription Owner.
            "practice_name": client.practice.name if client is not None else "",
            "owner": approved and client is not None,
        },
    )


def access_request_cancel(
    *, actor: User, public_id: uuid.UUID | str, request: HttpRequest | None = None
) -> AccessRequest:
    with transaction.atomic():
        access_request = _lock_request(public_id)
        if access_request.requester_id != actor.pk:
            raise NotFound("No such request")
        if access_request.status == AccessRequest.Status.CANCELLED:
            return access_request
        _refuse_if_closed(access_request)
        access_request.status = AccessRequest.Status.CANCELLED
        access_request.decided_at = timezone.now()
        access_request.save(update_fields=["status", "decided_at"])
        record_event(
            action=Action.ACCESS_REQUEST_CANCEL,
            actor=actor,
            request=request,
            company=access_request.company,
            data={"access_request": str(access_request.public_id), "requester": access_request.requester.email},
            **_practice_scope(_managing_client(access_request.company)),
        )
    return access_request


def access_requests_expire(*, now: datetime | None = None) -> int:
    """Mark every pending request past its 14 days as expired (the periodic task). Returns how many."""
    now = now or timezone.now()
    expired = 0
    with transaction.atomic():
        due = list(
            AccessRequest.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("company", "requester")
            .filter(status=AccessRequest.Status.PENDING, expires_at__lte=now)[:1000]
        )
        for access_request in due:
            _expire_if_due(access_request, now)
            expired += 1
    return expired


def product_tokens_revoke(*, user_ids: Iterable[int] | QuerySet[Any]) -> int:
    """End the products' OpenID Connect sessions of these people (access and refresh tokens): their next refresh or
    request fails and the product signs them in again, getting claims as they are now. For whatever changes what a
    person may reach (a company's access disabled, a member removed) or proves their old credentials unsafe (a new
    password). Returns how many tokens were deleted."""
    from allauth.idp.oidc.models import Token

    deleted, _ = Token.objects.filter(user_id__in=user_ids).delete()
    return deleted


def company_member_remove(*, actor: User, company: Company, user_id: int, request: HttpRequest | None = None) -> None:
    """The subscription owner removes a user from the company (never the owner themself)."""
    with transaction.atomic():
        if company.owner_id != actor.pk:
            raise NotFound("No such company")
        membership = (
            CompanyMembership.objects.select_for_update()
            .select_related("user")
            .filter(company=company, user_id=user_id)
            .first()
        )
        if membership is None:
            raise NotFound("No such user")
        if membership.role == CompanyMembership.Role.OWNER:
            raise InvalidTransition("The Subscription Owner cannot be removed.", code="owner_cannot_be_removed")
        removed_email = membership.user.email
        membership.delete()
        product_tokens_revoke(user_ids=[user_id])  # their products' claims still list the company
        record_event(
            action=Action.COMPANY_MEMBER_REMOVE,
            actor=actor,
            request=request,
            company=company,
            data={"user": removed_email},
        )


def user_session_end(*, user: User, session_id: int, request: HttpRequest | None = None) -> None:
    """End one of the person's other signed-in sessions (device)."""
    from allauth.usersessions.models import UserSession

    with transaction.atomic():
        session = UserSession.objects.select_for_update().filter(pk=session_id, user=user).first()
        if session is None:
            raise NotFound("No such session")
        if request is not None and session.session_key == request.session.session_key:
            raise InvalidTransition("This is the device you are using: use Sign out instead.", code="current_session")
        data = {"ip": session.ip, "user_agent": session.user_agent[:200]}
        session.end()
        record_event(action=Action.IDENTITY_SESSION_END, actor=user, request=request, data=data)


def sessions_clear_expired() -> int:
    """Delete expired sessions and every device row without a live session; returns the device rows deleted.

    Nothing else removes them: Django leaves expired rows to ``clearsessions``, and a device row is purged only
    when its person signs in again or opens the Security page.
    """
    from allauth.usersessions.models import UserSession
    from django.contrib.sessions.models import Session

    from partnerdesk.identity.usersessions import ended

    with transaction.atomic():
        Session.objects.filter(expire_date__lte=timezone.now()).delete()
        deleted, _ = UserSession.objects.filter(ended()).delete()
    return deleted


BUSINESS_NAME_MAX = Company._meta.get_field("business_name").max_length or 200


def company_business_name_apply(*, company: Company, business_name: str) -> None:
    """Give a company a new business name, and the practices' client records of it with it (customer services'
    rename, and a practice renaming itself in Settings: its own company). The caller holds the company's row (the
    first lock, decision 74), records the audit event and tells whoever needs telling."""
    from partnerdesk.practice.models import Client

    company.business_name = business_name
    company.save(update_fields=["business_name"])
    # A new version of the practices' details: a Details form opened before it can't write the old name back.
    Client.objects.filter(company=company).update(
        business_name=business_name, version=F("version") + 1, updated_at=timezone.now()
    )


def company_rename(*, actor: User, company_id: int, business_name: str, request: HttpRequest | None = None) -> Company:
    """Customer services renames a business (participating clients cannot rename themselves): recorded and
    the owner is told (email and a message on the company's page). The practices' client records follow the new
    name, and so does the practice whose own company this is (Partner Edition and its emails use its name)."""
    from partnerdesk.practice.models import Practice

    business_name = " ".join(business_name.split())
    if not business_name:
        raise DomainError("Enter the business name.", code="business_name_required")
    if len(business_name) > BUSINESS_NAME_MAX:  # the column's size: on PostgreSQL a longer one is a DataError
        raise DomainError(
            f"Enter a business name of up to {BUSINESS_NAME_MAX} characters.", code="business_name_too_long"
        )
    with transaction.atomic():
        company = Company.objects.select_for_update(of=("self",)).select_related("owner").get(pk=company_id)
        old = company.business_name
        if old == business_name:
            return company
        company_business_name_apply(company=company, business_name=business_name)
        record_event(
            action=Action.COMPANY_RENAME,
            actor=actor,
            request=request,
            company=company,
            data={"from": old, "to": business_name},
        )
        practice = Practice.objects.select_for_update().filter(company=company).first()
        if practice is not None and practice.name != business_name:
            # As the practice's Settings would record it (practice.settings.update), by customer services.
            record_event(
                action=Action.PRACTICE_SETTINGS_UPDATE,
                actor=actor,
                request=request,
                practice=practice,
                company=company,
                data={"name": {"from": practice.name, "to": business_name}},
            )
            practice.name = business_name
            practice.save(update_fields=["name"])
        recipient = company.owner.email if company.owner else company.owner_email
        if recipient:
            send_email(
                template="company-renamed",
                to=recipient,
                context={
                    "old_name": old,
                    "business_name": business_name,
                    "customer_number": company.customer_number,
                    "recipient_name": company.owner.full_name if company.owner else "",
                },
            )
        message_post(
            company=company,
            subject=message_subject("Your business name is now {name}", name=business_name),
            body=f'Customer Services changed the business name on your subscription from "{old}" to '
            f'"{business_name}". If you did not ask for this, contact Customer Services at '
            f"{settings.CUSTOMER_SERVICES_EMAIL}.",
            owner_only=True,
        )
    return company
