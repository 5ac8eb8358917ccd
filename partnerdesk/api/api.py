"""The JSON API: /api/v1/. Endpoints are thin: parse, check permission, call one service, return."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.http import HttpRequest, HttpResponse, HttpResponseBase
from ninja import NinjaAPI, Router, Status
from ninja.openapi.schema import OpenAPISchema

from partnerdesk.api import services
from partnerdesk.api.auth import BearerTokenAuth, BrowserSessionAuth, api_user
from partnerdesk.api.problems import document_problems_as_problem_json, install_problem_handlers
from partnerdesk.api.schemas import Me, PathId, TokenCreated, TokenIn, TokenOut, problems
from partnerdesk.api.selectors import tokens_for_user
from partnerdesk.identity.api import router as identity_router
from partnerdesk.lib.errors import PermissionDenied


class PartnerdeskAPI(NinjaAPI):
    """Documents errors as served: ``application/problem+json`` (overriding ``get_openapi_schema`` is the
    extension point ninja's maintainer recommends for changes to the generated document)."""

    def get_openapi_schema(self, *, path_prefix: str | None = None, path_params: Any = None) -> OpenAPISchema:
        schema = super().get_openapi_schema(path_prefix=path_prefix, path_params=path_params)
        document_problems_as_problem_json(schema)
        return schema


api = PartnerdeskAPI(
    title="Partnerdesk API",
    version="1",
    description="Accounts, companies and practice client management. Errors are RFC 9457 problem+json with a stable `code`.",
    urls_namespace="api",
    auth=[BearerTokenAuth(), BrowserSessionAuth()],
    docs_url="/docs",
    openapi_url="/openapi.json",
)
install_problem_handlers(api)


def _no_content_has_no_type(run: Callable[..., HttpResponseBase]) -> Callable[..., HttpResponseBase]:
    """A 204 carries no body, so no Content-Type either (ninja answers it with an empty application/json)."""

    @wraps(run)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        response = run(request, *args, **kwargs)
        if response.status_code == 204 and isinstance(response, HttpResponse):
            response.content = b""
            if response.has_header("Content-Type"):
                del response["Content-Type"]
        return response

    return wrapper


api.add_decorator(_no_content_has_no_type, mode="view")  # "view": around each operation's whole response

ERRORS = problems(401, 403, 404, 409, 422)

account = Router(tags=["account"])


@account.get("/me", response={200: Me, **ERRORS}, summary="The signed-in person")
def me(request: HttpRequest) -> Any:
    return api_user(request)


@account.get("/tokens", response={200: list[TokenOut], **ERRORS}, summary="Your API tokens")
def token_list(request: HttpRequest) -> Any:
    return tokens_for_user(user=api_user(request))


@account.post("/tokens", response={201: TokenCreated, **ERRORS}, summary="Create an API token (shown once)")
def token_create(request: HttpRequest, payload: TokenIn) -> Any:
    if "authorization" in request.headers:
        # A leaked token must not be able to mint tokens that outlive its revocation: only a signed-in person does.
        raise PermissionDenied(
            "API tokens are created by a signed-in person (Account, API tokens), not with another token.",
            code="token_needs_signed_in_session",
        )
    token, plaintext = services.token_create(
        user=api_user(request), name=payload.name, days=payload.days, request=request
    )
    return Status(201, {**TokenOut.model_validate(token).model_dump(), "token": plaintext})


@account.delete("/tokens/{token_id}", response={204: None, **ERRORS}, summary="Revoke an API token")
def token_revoke(request: HttpRequest, token_id: PathId) -> Any:
    services.token_revoke(user=api_user(request), token_id=token_id, request=request)
    return Status(204, None)


api.add_router("/", account)
api.add_router("/", identity_router)
api.add_router("/", "partnerdesk.practice.api.router")
api.add_router("/", "partnerdesk.practice.api_clients.router")
api.add_router("/", "partnerdesk.practice.api_import.router")
api.add_router("/", "partnerdesk.billing.api_invoices.router")
api.add_router("/", "partnerdesk.billing.api.router")
api.add_router("/", "partnerdesk.ledger.api.router")
api.add_router("/", "partnerdesk.compliance.api.router")
api.add_router("/", "partnerdesk.practice.api_lifecycle.router")
api.add_router("/", "partnerdesk.practice.api_connect.router")
