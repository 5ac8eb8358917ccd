"""Answers under /api/v1/ that never reach an API operation, as problem+json: a path that matches no endpoint
(Django's 404) and a method the endpoint does not have (ninja's 405)."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponseBase
from django.urls import Resolver404, resolve

from partnerdesk.api.problems import PROBLEM_CONTENT_TYPE, problem

API_PREFIX = "/api/v1/"


class ApiProblemMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        response = self.get_response(request)
        if (
            response.status_code not in {404, 405}
            or not request.path.startswith(API_PREFIX)
            or response.get("Content-Type", "").startswith(PROBLEM_CONTENT_TYPE)
        ):
            return response
        if response.status_code == 405:
            allowed = response.get("Allow", "")
            replaced = problem(
                request,
                status=405,
                code="method_not_allowed",
                title="Method not allowed",
                detail=f"{request.method} is not allowed here. Allowed: {allowed}.",
            )
            replaced["Allow"] = allowed
            return replaced
        return problem(request, status=404, code="not_found", title="Not found", detail=_not_found_detail(request))


def _not_found_detail(request: HttpRequest) -> str:
    if request.path.endswith("/") and len(request.path) > len(API_PREFIX):
        try:
            resolve(request.path.rstrip("/"))
        except Resolver404:
            pass
        else:
            return "No API endpoint has this path: API paths have no trailing slash."
    return "No API endpoint has this path."
