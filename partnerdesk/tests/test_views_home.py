import pytest

from partnerdesk.identity.models import CompanyMembership
from partnerdesk.identity.services import company_create
from partnerdesk.identity.tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_anonymous_home_offers_sign_in_and_create_account(client):
    body = client.get("/").content.decode()
    assert 'href="/signin/"' in body
    assert "Create account" in body
    assert "Skip to main content" in body


def test_signed_in_home_lists_the_persons_companies(client):
    user = UserFactory.create(full_name="Priya Shah")
    company = company_create(business_name="Bright Sparks Ltd", owner_email=user.email, owner=user)
    CompanyMembership.objects.create(user=user, company=company, role="owner")
    other = company_create(business_name="Somebody Else Ltd")
    client.force_login(user)
    body = client.get("/").content.decode()
    assert "Signed in as <strong>Priya Shah</strong>" in body
    assert "Bright Sparks Ltd" in body
    assert company.customer_number in body
    assert other.business_name not in body
    for product in ("Business Cloud Accounting", "Payroll", "Partner Edition"):
        assert product in body


def test_responses_carry_security_headers(client):
    response = client.get("/")
    assert "default-src 'self'" in response["Content-Security-Policy"]
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
