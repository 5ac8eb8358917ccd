import pytest
from django.urls import reverse

from partnerdesk.identity.tests.factories import PASSWORD, UserFactory
from partnerdesk.practice.demo import load_demo

pytestmark = pytest.mark.django_db


def test_signin_asks_portal_and_product_first(client):
    body = client.get("/signin/").content.decode()
    assert '<label for="id_portal">Portal' in body
    assert "Accounting Portal" in body
    for product in ("Business Cloud Accounting", "Payroll", "Partner Edition"):
        assert product in body
    assert ">Continue</button>" in body


def test_signed_in_the_chooser_says_so_and_offers_no_sign_up(client):
    client.force_login(UserFactory.create(email="nia@example.test"))
    body = client.get("/signin/").content.decode()
    assert "You are signed in as nia@example.test. Choose where you want to go." in body
    assert "Create account" not in body
    response = client.post("/signin/", {"portal": "accounting", "product": "payroll"})
    assert response["Location"] == "/products/payroll/"


def test_continue_leads_to_email_and_password_then_the_product(client):
    response = client.post("/signin/", {"portal": "accounting", "product": "payroll"})
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=%2Fproducts%2Fpayroll%2F"
    user = UserFactory.create()
    response = client.post(response["Location"], {"login": user.email, "password": PASSWORD})
    assert response.status_code == 302
    assert response["Location"] == "/products/payroll/"
    page = client.get("/products/payroll/").content.decode()
    assert "<h1>Payroll</h1>" in page
    assert 'href="/products/payroll/" aria-current="page"' in page


@pytest.mark.parametrize(
    ("data", "field"),
    [({"portal": "", "product": "payroll"}, "portal"), ({"portal": "accounting", "product": "x"}, "product")],
)
def test_missing_or_unknown_choice_is_a_form_error(client, data, field):
    response = client.post("/signin/", data)
    assert response.status_code == 200
    assert response.context["form"].errors[field]


def test_practice_member_choosing_partner_edition_lands_on_the_client_list(client, settings):
    settings.DEBUG = True
    load_demo()
    client.post("/signin/", {"portal": "accounting", "product": "partner"})
    response = client.post(
        "/accounts/login/?next=/products/partner/",
        {"login": "admin@hartleymoss.test", "password": "partnerdesk-demo-2026"},
        follow=True,
    )
    assert response.redirect_chain[-1][0] == reverse("practice:clients")
    assert "Bright Sparks Electrical Ltd" in response.content.decode()


def test_non_member_choosing_partner_edition_is_told_why(client):
    client.force_login(UserFactory.create())
    body = client.get("/products/partner/").content.decode()
    assert "Your account is not a member of a practice" in body


def test_unknown_product_is_404(client):
    client.force_login(UserFactory.create())
    assert client.get("/products/nope/").status_code == 404


def test_link_step_offers_do_this_later(client):
    client.force_login(UserFactory.create())
    body = client.get("/account/link/").content.decode()
    assert "Customer Number" in body
    assert "Registration ID" in body
    assert ">Do this later</a>" in body


def test_security_page_links_password_mfa_sessions_and_tokens(client):
    client.force_login(UserFactory.create())
    body = client.get("/account/security/").content.decode()
    for url in ("/accounts/password/change/", "/accounts/2fa/", "/accounts/sessions/", "/account/api-tokens/"):
        assert f'href="{url}"' in body
