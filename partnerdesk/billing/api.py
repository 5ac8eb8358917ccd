"""JSON API for billing: the catalogue, a company's services (owner side and practice side), the removal
summary (dry run of the wizard's Finish), Add subscriptions from the Imported tab, and Direct Debit mandates
(shown masked). The same services as the UI; another tenant's company or client is a 404."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated, Any, Literal

from django.http import HttpRequest
from ninja import Field, Path, Router, Schema, Status
from pydantic import StrictBool

from partnerdesk.api.auth import api_user
from partnerdesk.api.schemas import PathId, StrictDbId, problems
from partnerdesk.billing import selectors, services
from partnerdesk.billing.models import DirectDebitMandate, Service, SubscriptionItem
from partnerdesk.billing.selectors import RemovalSummary
from partnerdesk.identity.models import Company, CompanyMembership, User
from partnerdesk.identity.selectors import CompanyAccessDisabled, membership_for_company
from partnerdesk.lib.errors import DomainError, NotFound
from partnerdesk.practice.access import company_for_user
from partnerdesk.practice.models import Client
from partnerdesk.practice.permissions import practice_admin
from partnerdesk.practice.selectors import client_for_member, member_for_user

router = Router(tags=["billing"])
ERRORS = problems(400, 401, 403, 404, 409, 422)

CustomerNumber = Annotated[str, Path(pattern=r"^[0-9]{8}$", description="The company's 8-digit Customer Number")]
ServiceCode = Annotated[str, Field(min_length=1, max_length=40, pattern=r"^[-a-zA-Z0-9_]+$")]


class ServiceOut(Schema):
    id: int
    code: str
    name: str
    product: str
    monthly_rrp: Decimal | None = Field(None, description="Pounds per month ex VAT, in force today")

    @staticmethod
    def resolve_monthly_rrp(obj: Service) -> Decimal | None:
        rrp = getattr(obj, "monthly_rrp", None)
        return None if rrp is None else Decimal(rrp).quantize(Decimal("0.01"))


class SubscriptionOut(Schema):
    service: str = Field(description="The service's code")
    name: str
    starts_on: dt.date
    ends_on: dt.date | None = Field(None, description="First day without the service (exclusive), if ending")


class SubscriptionsOut(Schema):
    customer_number: str
    business_name: str
    payer: Literal["accountant", "client"]
    may_change: bool = Field(description="Whether you are on the paying side and may change the services")
    services: list[SubscriptionOut]


class AddIn(Schema):
    service: ServiceCode
    starts_on: dt.date | None = Field(None, description="Today (the default) or later")


class RemoveIn(Schema):
    services: list[ServiceCode] = Field(min_length=1, max_length=50)
    effective_on: dt.date | None = Field(None, description="First day without the services: today (default) or later")
    confirm_no_service: StrictBool = Field(False, description="Required when this removes the last service")


class RemovalLineOut(Schema):
    service: str
    name: str
    ends_on: dt.date
    monthly_rrp: Decimal
    saving: Decimal


class RemovalOut(Schema):
    effective_on: dt.date
    payer: Literal["accountant", "client"]
    discount_rate: Decimal
    invoice_period: dt.date = Field(description="First day of the month whose invoice changes")
    invoice_date: dt.date
    removed: list[RemovalLineOut]
    remaining: list[str]
    not_subscribed: list[str]
    removes_last_service: bool
    saving: Decimal = Field(description="How much less the next invoice is, ex VAT")
    saving_with_vat: Decimal
    applied: bool


class ImportedIn(Schema):
    client_ids: list[StrictDbId] = Field(min_length=1, max_length=500, description="At most 50 are accepted")
    services: list[ServiceCode] = Field(min_length=1, max_length=20)
    payer: Literal["accountant", "client"]
    give_access: list[StrictDbId] = Field(
        default_factory=list,
        max_length=500,
        description="Of client_ids, those who also get a login (Give client access to their details' email)",
    )


class ImportedOut(Schema):
    moved: int
    client_ids: list[int]
    invited_client_ids: list[int]


class MandateOut(Schema):
    reference: str
    account_holder: str
    sort_code: str = Field(description="Masked, e.g. **-**-56")
    account_number: str = Field(description="Masked, e.g. ******78")
    status: str
    created_at: dt.datetime


class MandateIn(Schema):
    account_holder: str = Field(max_length=200)
    sort_code: str = Field(max_length=20, description="6 digits; 12-34-56 and 12 34 56 are accepted")
    account_number: str = Field(max_length=20, description="8 digits")
    declaration: StrictBool = Field(
        description="I am the account holder and the only person required to authorise debits from this account"
    )


class UnknownService(DomainError):
    code = "service_unknown"
    status = 422
    title = "No such service"


# --- helpers ------------------------------------------------------------------------------------------


def _services(codes: list[str]) -> list[Service]:
    found = selectors.services_by_codes(codes=codes)
    missing = sorted(set(codes) - {s.code for s in found})
    if missing:
        raise UnknownService(f"No such service: {', '.join(missing)}")
    return found


def _subscriptions_out(*, user: User, company: Company) -> dict[str, Any]:
    try:
        services.payer_side(actor=user, company=company)
        may_change = True
    except NotFound:
        raise
    except DomainError:
        may_change = False
    return {
        "customer_number": company.customer_number,
        "business_name": company.business_name,
        "payer": selectors.payer_for(company=company).payer,
        "may_change": may_change,
        "services": [_item_out(item) for item in selectors.current_and_scheduled(company=company)],
    }


def _item_out(item: SubscriptionItem) -> dict[str, Any]:
    return {
        "service": item.service.code,
        "name": item.service.name,
        "starts_on": item.starts_on,
        "ends_on": item.ends_on,
    }


def _removal_out(summary: RemovalSummary, *, applied: bool) -> dict[str, Any]:
    return {
        "effective_on": summary.effective_on,
        "payer": summary.payer,
        "discount_rate": summary.discount_rate,
        "invoice_period": summary.invoice_period,
        "invoice_date": summary.invoice_date,
        "removed": [
            {
                "service": line.service.code,
                "name": line.service.name,
                "ends_on": line.ends_on,
                "monthly_rrp": line.monthly_rrp,
                "saving": line.saving,
            }
            for line in summary.lines
        ],
        "remaining": [s.code for s in summary.remaining],
        "not_subscribed": [s.code for s in summary.not_subscribed],
        "removes_last_service": summary.removes_last_service,
        "saving": summary.saving,
        "saving_with_vat": summary.saving_with_vat,
        "applied": applied,
    }


def _owner_company(request: HttpRequest, customer_number: str) -> tuple[User, Company]:
    """A company the person belongs to (owner side); its users other than the owner may read only."""
    user = api_user(request)
    company, _ = company_for_user(user=user, customer_number=customer_number)
    return user, company


def _client_company(request: HttpRequest, client_id: int) -> tuple[User, Company]:
    user = api_user(request)
    client = client_for_member(member=member_for_user(user=user), client_id=client_id)
    if client.tab != Client.Tab.ACTIVE:
        raise NotFound("No such client")
    return user, client.company


def _add(user: User, company: Company, payload: AddIn, request: HttpRequest) -> Any:
    (service,) = _services([payload.service])
    services.subscription_add(
        actor=user, company=company, service=service, starts_on=payload.starts_on, request=request
    )
    return Status(201, _subscriptions_out(user=user, company=company))


def _remove(user: User, company: Company, payload: RemoveIn, request: HttpRequest, *, dry_run: bool) -> Any:
    chosen = _services(payload.services)
    effective_on = payload.effective_on or selectors.today()
    if dry_run:
        services.payer_side(actor=user, company=company)
        if effective_on < selectors.today():
            raise services.DateInPast("Services can be removed from today at the earliest.")
        return _removal_out(
            selectors.removal_summary(company=company, services=chosen, effective_on=effective_on), applied=False
        )
    summary = services.subscriptions_remove(
        actor=user,
        company=company,
        services=chosen,
        effective_on=effective_on,
        confirm_no_service=payload.confirm_no_service,
        request=request,
    )
    return _removal_out(summary, applied=True)


# --- catalogue ------------------------------------------------------------------------------------------


@router.get("/billing/services", response={200: list[ServiceOut], **ERRORS}, summary="Services offered, with prices")
def catalogue(request: HttpRequest) -> Any:
    api_user(request)
    return list(selectors.catalogue())


# --- a company's services (owner side) ----------------------------------------------------------------


@router.get(
    "/companies/{customer_number}/subscriptions",
    response={200: SubscriptionsOut, **ERRORS},
    summary="A company's services",
)
def company_subscriptions(request: HttpRequest, customer_number: CustomerNumber) -> Any:
    user, company = _owner_company(request, customer_number)
    return _subscriptions_out(user=user, company=company)


@router.post(
    "/companies/{customer_number}/subscriptions",
    response={201: SubscriptionsOut, **ERRORS},
    summary="Add a service (the paying side only)",
)
def company_subscription_add(request: HttpRequest, customer_number: CustomerNumber, payload: AddIn) -> Any:
    user, company = _owner_company(request, customer_number)
    return _add(user, company, payload, request)


@router.post(
    "/companies/{customer_number}/subscriptions/removal-summary",
    response={200: RemovalOut, **ERRORS},
    summary="Dry run: what removing services changes, from when, and the effect on the next invoice",
)
def company_removal_summary(request: HttpRequest, customer_number: CustomerNumber, payload: RemoveIn) -> Any:
    user, company = _owner_company(request, customer_number)
    return _remove(user, company, payload, request, dry_run=True)


@router.post(
    "/companies/{customer_number}/subscriptions/remove",
    response={200: RemovalOut, **ERRORS},
    summary="Remove services (the paying side only; the last one needs confirm_no_service)",
)
def company_subscriptions_remove(request: HttpRequest, customer_number: CustomerNumber, payload: RemoveIn) -> Any:
    user, company = _owner_company(request, customer_number)
    return _remove(user, company, payload, request, dry_run=False)


# --- a practice's client's services -------------------------------------------------------------------


@router.get(
    "/practice/clients/{int:client_id}/subscriptions",
    response={200: SubscriptionsOut, **ERRORS},
    summary="A client's services",
)
def client_subscriptions(request: HttpRequest, client_id: PathId) -> Any:
    user, company = _client_company(request, client_id)
    return _subscriptions_out(user=user, company=company)


@router.post(
    "/practice/clients/{int:client_id}/subscriptions",
    response={201: SubscriptionsOut, **ERRORS},
    summary="Add a service to an accountant-paying client",
)
def client_subscription_add(request: HttpRequest, client_id: PathId, payload: AddIn) -> Any:
    user, company = _client_company(request, client_id)
    return _add(user, company, payload, request)


@router.post(
    "/practice/clients/{int:client_id}/subscriptions/removal-summary",
    response={200: RemovalOut, **ERRORS},
    summary="Dry run: what removing a client's services changes and the effect on your next invoice",
)
def client_removal_summary(request: HttpRequest, client_id: PathId, payload: RemoveIn) -> Any:
    user, company = _client_company(request, client_id)
    return _remove(user, company, payload, request, dry_run=True)


@router.post(
    "/practice/clients/{int:client_id}/subscriptions/remove",
    response={200: RemovalOut, **ERRORS},
    summary="Remove services from an accountant-paying client",
)
def client_subscriptions_remove(request: HttpRequest, client_id: PathId, payload: RemoveIn) -> Any:
    user, company = _client_company(request, client_id)
    return _remove(user, company, payload, request, dry_run=False)


@router.post(
    "/practice/clients/imported/subscriptions",
    response={200: ImportedOut, **ERRORS},
    summary="Imported tab: add services and choose who pays for up to 50 clients (they move to Active)",
)
def imported_subscriptions(request: HttpRequest, payload: ImportedIn) -> Any:
    member = member_for_user(user=api_user(request))
    moved = services.clients_add_subscriptions(
        member=member,
        client_ids=payload.client_ids,
        services=_services(payload.services),
        payer=payload.payer,
        give_access=payload.give_access,
        request=request,
    )
    invited = [c.pk for c in moved if c.access == Client.Access.INVITED]
    return {"moved": len(moved), "client_ids": [c.pk for c in moved], "invited_client_ids": invited}


# --- Direct Debit mandates -------------------------------------------------------------------------------


def _mandate_out(mandate: DirectDebitMandate) -> dict[str, Any]:
    return {
        "reference": mandate.reference,
        "account_holder": mandate.account_holder,
        "sort_code": mandate.sort_code_masked,
        "account_number": mandate.account_number_masked,
        "status": mandate.status,
        "created_at": mandate.created_at,
    }


def _owned_company(request: HttpRequest, customer_number: str) -> tuple[User, Company]:
    """The Subscription Owner's company (a suspended one too: entering details restores it). 404 otherwise."""
    user = api_user(request)
    membership = membership_for_company(user=user, customer_number=customer_number)
    if membership.role != CompanyMembership.Role.OWNER:
        raise NotFound("No such company")
    if getattr(membership, "access_disabled", False):
        raise CompanyAccessDisabled(CompanyAccessDisabled.default_message)
    return user, membership.company


def _practice_company(request: HttpRequest) -> tuple[User, Company]:
    user = api_user(request)
    return user, practice_admin(user=user, page="its payment details").practice.company


def _mandate_get(company: Company) -> Any:
    mandate = selectors.mandate_active(company=company)
    if mandate is None:
        raise services.NoMandate()
    return _mandate_out(mandate)


def _mandate_put(user: User, company: Company, payload: MandateIn, request: HttpRequest) -> Any:
    mandate = services.mandate_create(
        actor=user,
        company=company,
        account_holder=payload.account_holder,
        sort_code=payload.sort_code,
        account_number=payload.account_number,
        declaration=payload.declaration,
        request=request,
    )
    return _mandate_out(mandate)


@router.get(
    "/companies/{customer_number}/mandate",
    response={200: MandateOut, **ERRORS},
    summary="The company's Direct Debit (masked; owner only)",
)
def company_mandate(request: HttpRequest, customer_number: CustomerNumber) -> Any:
    _, company = _owned_company(request, customer_number)
    return _mandate_get(company)


@router.put(
    "/companies/{customer_number}/mandate",
    response={200: MandateOut, **ERRORS},
    summary="Set up or replace the company's Direct Debit (owner only; lifts a suspension)",
)
def company_mandate_put(request: HttpRequest, customer_number: CustomerNumber, payload: MandateIn) -> Any:
    user, company = _owned_company(request, customer_number)
    return _mandate_put(user, company, payload, request)


@router.delete(
    "/companies/{customer_number}/mandate",
    response={204: None, **ERRORS},
    summary="Cancel the company's Direct Debit (owner only)",
)
def company_mandate_delete(request: HttpRequest, customer_number: CustomerNumber) -> Any:
    user, company = _owned_company(request, customer_number)
    services.mandate_cancel(actor=user, company=company, request=request)
    return Status(204, None)


@router.get("/practice/mandate", response={200: MandateOut, **ERRORS}, summary="The practice's Direct Debit (admins)")
def practice_mandate(request: HttpRequest) -> Any:
    _, company = _practice_company(request)
    return _mandate_get(company)


@router.put(
    "/practice/mandate", response={200: MandateOut, **ERRORS}, summary="Set up or replace the practice's Direct Debit"
)
def practice_mandate_put(request: HttpRequest, payload: MandateIn) -> Any:
    user, company = _practice_company(request)
    return _mandate_put(user, company, payload, request)


@router.delete("/practice/mandate", response={204: None, **ERRORS}, summary="Cancel the practice's Direct Debit")
def practice_mandate_delete(request: HttpRequest) -> Any:
    user, company = _practice_company(request)
    services.mandate_cancel(actor=user, company=company, request=request)
    return Status(204, None)
