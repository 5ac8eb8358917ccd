"""Schemathesis against our own OpenAPI document, in-process (WSGI): for a bounded number of generated
requests per operation, no 5xx and no documented response that breaks its schema."""

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from partnerdesk.api.services import token_create
from partnerdesk.identity.models import CompanyMembership
from partnerdesk.identity.services import company_create
from partnerdesk.identity.tests.factories import UserFactory
from partnerdesk.practice.models import Client, Practice, PracticeMember
from partnerdesk.wsgi import application

schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", application)


@pytest.fixture
def keep_test_connection():
    """Like Django's test client: the request signals must not close the test's database connection."""
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections

    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def bearer(db, keep_test_connection):
    """A practice admin who owns a company, with a token: so generated requests reach real code paths."""
    user = UserFactory.create(email="fuzz@example.test")
    company = company_create(business_name="Fuzz Ltd", owner_email=user.email, owner=user)
    CompanyMembership.objects.create(user=user, company=company, role="owner")
    practice = Practice.objects.create(company=company_create(business_name="Fuzz LLP"), name="Fuzz LLP")
    PracticeMember.objects.create(practice=practice, user=user, role="admin")
    Client.objects.create(
        practice=practice, company=company_create(business_name="Client Ltd"), business_name="Client Ltd"
    )
    _, token = token_create(user=user, name="fuzz", days=1)
    return token


@pytest.mark.django_db
@schema.parametrize()
@settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
def test_api_never_fails_on_generated_input(case, bearer):
    case.call_and_validate(
        headers={"Authorization": f"Bearer {bearer}"},
        checks=[not_a_server_error, response_schema_conformance],
    )
