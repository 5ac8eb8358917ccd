"""In JSON bodies, integers and booleans are strict: lax pydantic reads `true` as id 1, and "yes" or 1 as true, so a
wrong type could hide, assign or confirm the wrong thing."""

import typing

import pytest
from django.test import Client as HttpClient
from pydantic import BaseModel, TypeAdapter, ValidationError

from partnerdesk.api.api import api
from partnerdesk.identity.services import company_create
from partnerdesk.identity.tests.factories import UserFactory
from partnerdesk.practice.models import Client, Practice, PracticeMember


def _body_fields() -> list[tuple[str, type, typing.Any]]:
    """(where, annotation) of every int or bool, also inside lists and nested models, in every request body."""
    found: list[tuple[str, type, typing.Any]] = []
    seen: set[type[BaseModel]] = set()

    def walk_model(model: type[BaseModel]) -> None:
        if model in seen:
            return
        seen.add(model)
        for name, field in model.model_fields.items():
            annotated = typing.Annotated[(field.annotation, *field.metadata)] if field.metadata else field.annotation
            walk(f"{model.__name__}.{name}", field.annotation, annotated)

    def walk(where: str, annotation: typing.Any, annotated: typing.Any) -> None:
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            walk_model(annotation)
        elif annotation in (int, bool):
            found.append((where, annotation, annotated))
        else:
            for arg in typing.get_args(annotation):
                inner = typing.get_args(arg)[0] if typing.get_origin(arg) is typing.Annotated else arg
                walk(where, inner, arg)

    for _prefix, router in api._routers:
        for path_view in router.path_operations.values():
            for operation in path_view.operations:
                for model in operation.models:
                    if model.__ninja_param_source__ == "body":
                        walk_model(model)
    return found


def test_every_integer_and_boolean_in_a_request_body_is_strict():
    fields = _body_fields()
    assert {"ClientVisibilityIn.client_ids", "ClientVisibilityIn.hidden", "ClientIdsIn.client_ids"} <= {
        where for where, _, _ in fields
    }
    lax = []
    for where, kind, annotation in fields:
        adapter = TypeAdapter(annotation)
        for wrong in (True, "7", 7.0) if kind is int else ("true", "yes", 1, 0):
            try:
                value = adapter.validate_python(wrong)
            except ValidationError:
                continue
            if value is not None:
                lax.append((where, wrong))
    assert lax == []


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"client_ids": [True], "hidden": True}, "client_ids"),
        ({"client_ids": ["{id}"], "hidden": True}, "client_ids"),
        ({"client_ids": [1.0], "hidden": True}, "client_ids"),
        ({"client_ids": ["{pk}"], "hidden": "yes"}, "hidden"),
        ({"client_ids": ["{pk}"], "hidden": 1}, "hidden"),
    ],
)
def test_show_hide_refuses_a_wrong_type_and_hides_nothing(payload, field):
    practice = Practice.objects.create(company=company_create(business_name="Mine LLP"), name="Mine LLP")
    user = UserFactory.create()
    PracticeMember.objects.create(practice=practice, user=user, role="admin")
    client = Client.objects.create(
        practice=practice, company=company_create(business_name="Alpha Ltd"), business_name="Alpha Ltd"
    )
    payload = {
        "client_ids": [
            client.pk if v == "{pk}" else str(client.pk) if v == "{id}" else v for v in payload["client_ids"]
        ],
        "hidden": payload["hidden"],
    }
    http = HttpClient()
    http.force_login(user)
    response = http.post("/api/v1/practice/clients/visibility", payload, content_type="application/json")
    assert response.status_code == 422
    assert response["Content-Type"] == "application/problem+json"
    problem = response.json()
    assert problem["code"] == "validation_error"
    assert any(field in err["loc"] for err in problem["errors"])
    assert not Client.objects.filter(hidden=True).exists()
    ok = http.post(
        "/api/v1/practice/clients/visibility",
        {"client_ids": [client.pk], "hidden": True},
        content_type="application/json",
    )
    assert ok.json() == {"changed": 1}
