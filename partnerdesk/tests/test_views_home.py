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
    assert 'Signed in as <strong title="Priya Shah">Priya Shah</strong>' in body
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


def test_home_lists_each_companys_services_in_force(client):
    import datetime as dt

    from partnerdesk.billing.tests.invoice_factories import make_service, subscribe

    user = UserFactory.create()
    company = company_create(business_name="Bright Sparks Ltd", owner_email=user.email, owner=user)
    CompanyMembership.objects.create(user=user, company=company, role="owner")
    empty = company_create(business_name="Dormant Ltd")
    CompanyMembership.objects.create(user=user, company=empty, role="user")
    subscribe(company, make_service("home-accounts", "30.00"))
    subscribe(company, make_service("home-payroll", "10.00"))
    subscribe(company, make_service("home-ended", "5.00"), ends_on=dt.date(2020, 1, 31))
    client.force_login(user)
    body = client.get("/").content.decode()
    assert "<td>Test home-accounts, Test home-payroll</td>" in body
    assert "home-ended" not in body
    assert "<td>None yet</td>" in body  # Dormant Ltd


def test_home_shows_an_accountants_request_to_its_owner_only(client):
    from partnerdesk.practice import connect
    from partnerdesk.practice.tests.connect_factories import owned_company, practice_admin_member

    member = practice_admin_member("Hartley LLP")
    company, owner = owned_company("Acme Ltd", "olive@acme.test")
    colleague = UserFactory.create()
    CompanyMembership.objects.create(user=colleague, company=company, role="user")
    asked = connect.connect_request_create(member=member, number=company.customer_number, owner_email=owner.email)
    assert asked is not None
    client.force_login(owner)
    body = client.get("/").content.decode()
    assert "Accountants asking to manage your company" in body
    assert "<td>Hartley LLP</td><td>Acme Ltd</td>" in body
    assert f'href="/companies/{company.customer_number}/accountant/requests/{asked.pk}/"' in body
    client.force_login(colleague)
    assert "Accountants asking" not in client.get("/").content.decode()
    connect.connect_request_decline(company=company, client_id=asked.pk, actor=owner)
    client.force_login(owner)
    assert "Accountants asking" not in client.get("/").content.decode()
