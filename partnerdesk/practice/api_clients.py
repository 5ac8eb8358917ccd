"""JSON API for a practice's client list: list (same filters and pages as the UI), details with their version,
add, amend, bulk hide/show, delete and CSV export. Another practice's client is a 404."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from django.http import HttpRequest, StreamingHttpResponse
from ninja import Field, Query, Router, Schema, Status
from pydantic import StrictBool, StrictInt

from partnerdesk.api.auth import api_user
from partnerdesk.api.pagination import page_field, pages_field, paginate
from partnerdesk.api.schemas import DbId, PathId, StrictDbId, problems
from partnerdesk.lib.errors import DomainError
from partnerdesk.practice import selectors, services
from partnerdesk.practice.export import clients_csv
from partnerdesk.practice.forms import ClientDetailsForm
from partnerdesk.practice.models import Client, PracticeMember
from partnerdesk.practice.selectors import ClientListQuery, client_for_member, client_search, member_for_user

router = Router(tags=["practice clients"])
ERRORS = problems(400, 401, 404, 409, 422)
PAGE_SIZE = 50


class ClientOut(Schema):
    id: int
    business_name: str
    contact_name: str
    email: str
    phone: str
    address: str
    postcode: str
    vat_number: str
    company_number: str
    customer_number: str = Field(alias="company.customer_number")
    tab: str
    access: str
    access_label: str = Field(alias="get_access_display")
    payer: str
    hidden: bool
    participating: bool
    services: list[str] = Field(description="Codes of the services in force today")
    version: int
    updated_at: datetime
    requested_by: str = Field(
        description="Pending tab: 'client' (a New Client Invitation) or 'practice' (your request, awaiting client "
        "approval); '' for clients you added or imported"
    )
    request_expires_at: datetime | None = Field(description="Your request awaiting client approval lapses then")

    @staticmethod
    def resolve_participating(obj: Client) -> bool:
        return obj.company.owner_id is not None

    @staticmethod
    def resolve_services(obj: Client) -> list[str]:
        if obj.awaiting_client_approval:  # the company's services are not the practice's to see yet
            return []
        items = getattr(obj.company, "services_in_force", None)  # prefetched for list pages
        if items is None:
            from partnerdesk.billing.selectors import active_services

            items = active_services(company=obj.company)
        return [item.service.code for item in items]


class ClientPage(Schema):
    count: int
    page: int = page_field()
    pages: int = pages_field()
    results: list[ClientOut]


class ListFilters(Schema):
    tab: Literal["active", "pending", "imported"] = "active"
    q: str = Field("", max_length=100)
    sort: Literal["name", "contact", "email", "access", "payer", "activity"] = "name"
    dir: Literal["asc", "desc"] = "asc"
    access: Literal["", "none", "invited", "both", "disabled"] = ""
    payer: Literal["", "accountant", "client"] = ""
    hidden: bool = False
    assigned: DbId | None = Field(None, description="Only clients assigned to this practice member (id)")
    service: str = Field("", max_length=40, description="Only clients with this service (its code) in force")
    page: int = Field(1, ge=1, le=1_000_000)


class DetailsIn(Schema):
    business_name: str = Field(max_length=200)
    contact_name: str = Field("", max_length=150)
    email: str = Field("", max_length=254)
    phone: str = Field("", max_length=30)
    address: str = Field("", max_length=1000)
    postcode: str = Field("", max_length=10)
    vat_number: str = Field("", max_length=14)
    company_number: str = Field("", max_length=8)


class DetailsUpdateIn(DetailsIn):
    version: StrictInt = Field(ge=1, description="The version you read; a newer edit by someone else is a 409")


class ClientVisibilityIn(Schema):
    client_ids: list[StrictDbId] = Field(min_length=1, max_length=5000)
    hidden: StrictBool


class VisibilityOut(Schema):
    changed: int


class InvalidDetails(DomainError):
    code = "client_details_invalid"
    status = 422
    title = "Some details are not valid"


def _member(request: HttpRequest) -> PracticeMember:
    return member_for_user(user=api_user(request))


def _query(filters: ListFilters) -> ClientListQuery:
    return ClientListQuery(
        tab=filters.tab,
        q=filters.q.strip(),
        sort=filters.sort,
        descending=filters.dir == "desc",
        access=filters.access,
        payer=filters.payer,
        show_hidden=filters.hidden,
        assigned_to=filters.assigned,
        service=filters.service.strip(),
    )


def _clean(payload: DetailsIn) -> dict[str, Any]:
    """The same validation as the UI's form (UK VAT, postcode, company number, email)."""
    form = ClientDetailsForm(data=payload.model_dump(exclude={"version"}))
    if not form.is_valid():
        raise InvalidDetails(
            "; ".join(f"{field}: {' '.join(str(e) for e in errors)}" for field, errors in form.errors.items()),
            fields={field: [str(e) for e in errors] for field, errors in form.errors.items()},
        )
    return dict(form.cleaned_data)


@router.get("/practice/clients", response={200: ClientPage, **ERRORS}, summary="The client list")
def client_list(request: HttpRequest, filters: Query[ListFilters]) -> Any:
    page = paginate(
        client_search(member=_member(request), query=_query(filters)), page=filters.page, per_page=PAGE_SIZE
    )
    return {"count": page.count, "page": page.page, "pages": page.pages, "results": page.items}


class PracticeMessageOut(Schema):
    subject: str
    body: str
    link: str = Field(description="Where it leads in the app ('' when nowhere)")
    created_at: datetime


class PracticeMessagePage(Schema):
    count: int
    page: int = page_field()
    pages: int = pages_field()
    results: list[PracticeMessageOut]


class MessagePageQuery(Schema):
    page: int = Field(1, ge=1, le=10**6)


@router.get(
    "/practice/messages",
    response={200: PracticeMessagePage, **ERRORS},
    summary="The practice's in-app messages, newest first (none for staff restricted to assigned clients)",
)
def practice_messages(request: HttpRequest, query: Query[MessagePageQuery]) -> Any:
    page = paginate(selectors.practice_messages(member=_member(request)), page=query.page, per_page=PAGE_SIZE)
    return {"count": page.count, "page": page.page, "pages": page.pages, "results": page.items}


@router.get("/practice/clients/export.csv", summary="The filtered list as CSV", response={200: None, **ERRORS})
def client_export(request: HttpRequest, filters: Query[ListFilters]) -> Any:
    clients = client_search(member=_member(request), query=_query(filters)).iterator(chunk_size=2000)
    response = StreamingHttpResponse(clients_csv(clients), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="clients-{filters.tab}.csv"'
    return response


class AddClientIn(DetailsIn):
    allow_duplicate: StrictBool = Field(
        False,
        description="Add even when a client you can see has this business name or email (else 409 duplicate_client, "
        "with existing_client_id)",
    )


@router.post("/practice/clients", response={201: ClientOut, **ERRORS}, summary="Add client")
def client_add(request: HttpRequest, payload: AddClientIn) -> Any:
    member = _member(request)
    details = DetailsIn(**payload.model_dump(exclude={"allow_duplicate"}))
    client = services.client_create(
        member=member, details=_clean(details), allow_duplicate=payload.allow_duplicate, request=request
    )
    return Status(201, client_for_member(member=member, client_id=client.pk))


@router.get(
    "/practice/clients/{int:client_id}", response={200: ClientOut, **ERRORS}, summary="One client, with its version"
)
def client_detail(request: HttpRequest, client_id: PathId) -> Any:
    return client_for_member(member=_member(request), client_id=client_id)


@router.put("/practice/clients/{int:client_id}", response={200: ClientOut, **ERRORS}, summary="Amend details")
def client_update(request: HttpRequest, client_id: PathId, payload: DetailsUpdateIn) -> Any:
    member = _member(request)
    client_for_member(member=member, client_id=client_id)  # 404 before validation for other practices
    services.client_update_details(
        member=member, client_id=client_id, version=payload.version, details=_clean(payload), request=request
    )
    return client_for_member(member=member, client_id=client_id)


@router.delete(
    "/practice/clients/{int:client_id}", response={204: None, **ERRORS}, summary="Delete Client (Pending/Imported)"
)
def client_delete(request: HttpRequest, client_id: PathId) -> Any:
    services.client_delete(member=_member(request), client_id=client_id, request=request)
    return Status(204, None)


@router.post("/practice/clients/visibility", response={200: VisibilityOut, **ERRORS}, summary="Show/Hide many clients")
def client_visibility(request: HttpRequest, payload: ClientVisibilityIn) -> Any:
    changed = services.clients_set_hidden(
        member=_member(request), client_ids=payload.client_ids, hidden=payload.hidden, request=request
    )
    return {"changed": changed}


class InvitationDecisionIn(Schema):
    decision: Literal["accept", "decline"]


@router.post(
    "/practice/clients/{int:client_id}/invitation",
    response={200: ClientOut, 204: None, **ERRORS},
    summary="Accept or decline a New Client Invitation (Pending tab)",
)
def client_invitation(request: HttpRequest, client_id: PathId, payload: InvitationDecisionIn) -> Any:
    member = _member(request)
    accept = payload.decision == "accept"
    services.client_invitation_decide(member=member, client_id=client_id, accept=accept, request=request)
    return client_for_member(member=member, client_id=client_id) if accept else Status(204, None)
