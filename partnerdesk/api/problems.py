"""RFC 9457 problem details for every API error, each with a stable ``code``."""

from __future__ import annotations

import logging
from http import HTTPStatus
from typing import Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, AuthorizationError, HttpError, ValidationError

from partnerdesk.api.schemas import Problem
from partnerdesk.lib.errors import DomainError

logger = logging.getLogger(__name__)

PROBLEM_CONTENT_TYPE = "application/problem+json"
_STATUS_CODES = {
    400: "bad_request",
    401: "not_authenticated",
    403: "permission_denied",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "request_too_large",
    422: "validation_error",
    429: "rate_limited",
}
_HTTP_ERROR_TITLES = {400: "The request could not be read", 403: "The request was refused"}
_UNPARSEABLE_BODY = "Cannot parse request body"  # ninja's message, in ninja.params.models.BodyModel


def problem(
    request: HttpRequest, *, status: int, code: str, title: str, detail: str | None = None, **extra: Any
) -> HttpResponse:
    body: dict[str, Any] = {
        "type": f"about:blank#{code}" if status >= 500 else f"/api/v1/problems/{code}",
        "title": title,
        "status": status,
        "code": code,
        "instance": request.path,
    }
    if detail:
        body["detail"] = detail
    body.update(extra)
    return JsonResponse(body, status=status, content_type=PROBLEM_CONTENT_TYPE)


def document_problems_as_problem_json(schema: dict[str, Any]) -> dict[str, Any]:
    """Ninja documents every response under the renderer's ``application/json``; errors are served as
    ``application/problem+json``, so each response whose body is a ``Problem`` is documented under that type."""
    problem_ref = f"#/components/schemas/{Problem.__name__}"
    for path_item in schema.get("paths", {}).values():
        for operation in path_item.values():
            for response in operation.get("responses", {}).values():
                content = response.get("content", {})
                if content.get("application/json", {}).get("schema", {}).get("$ref") == problem_ref:
                    content[PROBLEM_CONTENT_TYPE] = content.pop("application/json")
    return schema


def install_problem_handlers(api: NinjaAPI) -> None:
    @api.exception_handler(DomainError)
    def domain_error(request: HttpRequest, exc: DomainError) -> HttpResponse:
        response = problem(request, status=exc.status, code=exc.code, title=exc.title, detail=exc.message, **exc.extra)
        if exc.status == 429 and "resets_in" in exc.extra:
            response["Retry-After"] = str(exc.extra["resets_in"])
        return response

    @api.exception_handler(ValidationError)
    def validation_error(request: HttpRequest, exc: ValidationError) -> HttpResponse:
        errors = [
            {"loc": [str(part) for part in err.get("loc", [])], "msg": err.get("msg", ""), "type": err.get("type", "")}
            for err in exc.errors
        ]
        return problem(
            request,
            status=422,
            code="validation_error",
            title="The request is not valid",
            detail="; ".join(f"{'.'.join(e['loc'])}: {e['msg']}" for e in errors),
            errors=errors,
        )

    @api.exception_handler(AuthenticationError)
    def authentication_error(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
        response = problem(
            request,
            status=401,
            code="not_authenticated",
            title="Authentication required",
            detail="Sign in, or send 'Authorization: Bearer <token>' with a personal access token.",
        )
        response["WWW-Authenticate"] = 'Bearer realm="partnerdesk"'
        return response

    @api.exception_handler(AuthorizationError)
    def authorization_error(request: HttpRequest, exc: AuthorizationError) -> HttpResponse:
        return problem(request, status=403, code="permission_denied", title="You do not have permission to do that")

    @api.exception_handler(Http404)
    def not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
        return problem(request, status=404, code="not_found", title="Not found")

    @api.exception_handler(RequestDataTooBig)
    def request_too_large(request: HttpRequest, exc: RequestDataTooBig) -> HttpResponse:
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        return problem(
            request,
            status=413,
            code="request_too_large",
            title="The request body is too large",
            detail=f"The request body may be at most {limit} bytes ({limit / 1024 / 1024:g} MiB), files excepted.",
            max_bytes=limit,
        )

    @api.exception_handler(HttpError)
    def http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
        # ninja's messages vary (with DEBUG, the parser's exception text): they go in `detail`, never `title`.
        status, message = exc.status_code, str(exc.message)
        code = _STATUS_CODES.get(status, "error")
        if status == 400 and message.startswith(_UNPARSEABLE_BODY):
            parser_text = message.removeprefix(_UNPARSEABLE_BODY).strip().removeprefix("(").removesuffix(")")
            detail = "Send the body as JSON, with 'Content-Type: application/json'."
            return problem(
                request,
                status=400,
                code=code,
                title="The request body could not be parsed",
                detail=f"{detail} ({parser_text})" if parser_text else detail,
            )
        title = _HTTP_ERROR_TITLES.get(status) or HTTPStatus(status).phrase
        return problem(request, status=status, code=code, title=title, detail=message or None)

    @api.exception_handler(Exception)
    def unexpected(request: HttpRequest, exc: Exception) -> HttpResponse:
        logger.exception("unhandled API error on %s %s", request.method, request.path)
        return problem(request, status=500, code="internal_error", title="Something went wrong on our side")
