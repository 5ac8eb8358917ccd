"""The OpenAPI document describes what the API really accepts and returns."""

import typing
from collections import defaultdict

import pytest
from pydantic import BaseModel

from partnerdesk.api.api import api


def _models(annotation: typing.Any, found: set[type[BaseModel]]) -> None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        if annotation not in found:
            found.add(annotation)
            for field in annotation.model_fields.values():
                _models(field.annotation, found)
        return
    for arg in typing.get_args(annotation):
        _models(arg, found)


def _schema_classes() -> set[type[BaseModel]]:
    """Every schema class the API's operations take or return (ninja's own per-operation wrappers left out)."""
    found: set[type[BaseModel]] = set()
    for _prefix, router in api._routers:
        for path_view in router.path_operations.values():
            for operation in path_view.operations:
                for model in [*operation.models, *operation.response_models.values()]:
                    _models(model, found)
    return {
        cls
        for cls in found
        if cls.__name__ != "NinjaResponseSchema" and not getattr(cls, "__ninja_param_source__", None)
    }


def test_no_two_schema_classes_share_a_name():
    """Components are keyed by class name: of two classes with one name, only one is documented, for both."""
    by_name: dict[str, set[str]] = defaultdict(set)
    for cls in _schema_classes():
        by_name[cls.__name__].add(f"{cls.__module__}.{cls.__qualname__}")
    assert {name: paths for name, paths in by_name.items() if len(paths) > 1} == {}


def test_every_schema_class_is_a_component_of_its_own():
    components = api.get_openapi_schema()["components"]["schemas"]
    classes = _schema_classes()
    assert len(classes) == len(components)
    assert {cls.__name__ for cls in classes} == set(components)


def test_renamed_schemas_document_their_own_fields():
    components = api.get_openapi_schema()["components"]["schemas"]
    assert "sees_all_clients" in components["PracticeMemberOut"]["properties"]
    assert "sees_all_clients" not in components["CompanyMemberOut"]["properties"]
    assert set(components["ClientVisibilityIn"]["properties"]) == {"client_ids", "hidden"}
    assert set(components["MemberVisibilityIn"]["properties"]) == {"sees_all_clients"}


@pytest.mark.django_db
def test_errors_are_documented_as_problem_json_and_the_rest_as_json(client):
    spec = client.get("/api/v1/openapi.json").json()
    problem_ref = "#/components/schemas/Problem"
    seen_problem = seen_json = 0
    for path_item in spec["paths"].values():
        for operation in path_item.values():
            for status, response in operation["responses"].items():
                for media_type, body in response.get("content", {}).items():
                    if body["schema"].get("$ref") == problem_ref:
                        assert int(status) >= 400
                        assert media_type == "application/problem+json"
                        seen_problem += 1
                    elif int(status) < 300:
                        assert media_type in {"application/json", "multipart/form-data"}
                        seen_json += 1
    assert seen_problem
    assert seen_json
    assert spec["paths"]["/api/v1/tokens"]["post"]["responses"]["401"]["content"]["application/problem+json"]


def test_page_numbers_are_documented_as_the_page_asked_for():
    components = api.get_openapi_schema()["components"]["schemas"]
    for name in ["ClientPage", "InvoicePage", "EntryPage", "BatchOut"]:
        assert "past the last page" in components[name]["properties"]["page"]["description"]
        assert components[name]["properties"]["pages"]["description"]
