import pytest
from django.conf import settings
from django.test import Client as HttpClient

from partnerdesk.identity.models import AccessRequest, CompanyMembership
from partnerdesk.identity.services import company_create, company_link
from partnerdesk.identity.tests.factories import UserFactory, requested
from partnerdesk.notifications.models import OutboundEmail
from partnerdesk.practice.models import Client, Practice

pytestmark = pytest.mark.django_db


@pytest.fixture
def owner_setup():
    owner = UserFactory.create(email="owner@acme.test", full_name="Olive Owner")
    company = company_create(business_name="Acme Ltd", owner_email="owner@acme.test", owner=owner)
    CompanyMembership.objects.create(user=owner, company=company, role="owner")
    client = HttpClient()
    client.force_login(owner)
    return owner, company, client


def test_link_form_links_the_owner_and_shows_the_company(client):
    owner = UserFactory.create(email="me@mine.test")
    company = company_create(business_name="Mine Ltd", owner_email="me@mine.test")
    client.force_login(owner)
    response = client.post("/account/link/", {"number": company.customer_number, "email": "me@mine.test"}, follow=True)
    body = response.content.decode()
    assert "linked to Mine Ltd as its Subscription Owner" in body
    assert response.redirect_chain[-1][0] == f"/companies/{company.customer_number}/"


def test_link_form_goes_on_to_where_the_person_was_going(client):
    """After sign-up from a product choice the link screen carries ``next``: linking goes there; an off-site
    ``next`` is ignored."""
    owner = UserFactory.create(email="me@mine.test")
    company = company_create(business_name="Mine Ltd", owner_email="me@mine.test")
    other = company_create(business_name="Other Ltd", owner_email="me@mine.test")
    client.force_login(owner)
    linked = client.post(
        "/account/link/", {"number": company.customer_number, "email": "me@mine.test", "next": "/products/payroll/"}
    )
    assert linked["Location"] == "/products/payroll/"
    offsite = client.post(
        "/account/link/?next=https://evil.example/", {"number": other.customer_number, "email": "me@mine.test"}
    )
    assert offsite["Location"] == f"/companies/{other.customer_number}/"
    page = client.get("/account/link/?next=https://evil.example/").content.decode()
    assert "evil.example" not in page
    assert '<a href="/">Do this later</a>' in page


def test_a_request_for_a_managed_company_says_its_accountant_decides(client):
    """No owner yet and managed by a practice: the request goes to the practice, and the person is told so."""
    company = company_create(business_name="Acme Ltd", owner_email="me@acme.test")
    practice = Practice.objects.create(company=company_create(business_name="Ledger LLP"), name="Ledger LLP")
    Client.objects.create(practice=practice, company=company, business_name="Acme Ltd")
    client.force_login(UserFactory.create(email="me@acme.test"))
    response = client.post("/account/link/", {"number": company.customer_number, "email": "me@acme.test"}, follow=True)
    body = response.content.decode()
    assert "We have asked the accountant who manages Acme Ltd to approve your request." in body
    assert "Subscription Owner of Acme Ltd" not in body


@pytest.mark.parametrize("number", ["ABCDEFGH", "12345", "123456789", "MBR1234567"])
def test_link_form_format_errors_are_inline_and_keep_the_input(client, number):
    client.force_login(UserFactory.create())
    response = client.post("/account/link/", {"number": number, "email": "x@example.test"})
    form = response.context["form"]
    assert "8-digit Customer Number" in form.errors["number"][0]
    assert f'value="{number}"' in response.content.decode()


def test_link_form_unknown_number_gets_the_neutral_message(client):
    client.force_login(UserFactory.create())
    response = client.post("/account/link/", {"number": "12345678", "email": "x@example.test"})
    assert "We couldn&#x27;t match those details" in response.content.decode()


def test_requester_sees_waiting_for_approval_and_owner_approves_from_the_portal(owner_setup):
    owner, company, owner_client = owner_setup
    requester = UserFactory.create(email="req@example.test", full_name="Rita Requester")
    req_client = HttpClient()
    req_client.force_login(requester)
    req_client.post("/account/link/", {"number": company.customer_number, "email": owner.email})
    assert "Waiting for approval" in req_client.get("/").content.decode()

    users_url = f"/companies/{company.customer_number}/users/"
    users_page = owner_client.get(users_url).content.decode()
    assert "Rita Requester" in users_page
    assert f'<input type="hidden" name="next" value="{users_url}">' in users_page
    ar = AccessRequest.objects.get()
    response = owner_client.post(f"/account/requests/{ar.public_id}/approve/", {"next": users_url}, follow=True)
    assert response.redirect_chain == [(users_url, 302)]  # back where the owner decided
    assert "approved" in response.content.decode()
    assert "Acme Ltd" in req_client.get("/").content.decode()
    assert req_client.get(f"/companies/{company.customer_number}/").status_code == 200
    assert req_client.get(f"/companies/{company.customer_number}/users/").status_code == 404  # owners only


def test_the_requester_cancels_their_own_request_and_is_told_in_their_terms(owner_setup):
    owner, company, _ = owner_setup
    requester = UserFactory.create(email="rita@example.test")
    ar = requested(company_link(user=requester, number=company.customer_number, email=owner.email))
    http = HttpClient()
    http.force_login(requester)
    body = http.post(f"/account/requests/{ar.public_id}/cancel/", follow=True).content.decode()
    assert "Your request to use Acme Ltd is cancelled." in body
    assert "Request from rita@example.test" not in body
    ar.refresh_from_db()
    assert ar.status == "cancelled"


def test_the_emails_decline_link_asks_to_confirm_the_decline(owner_setup):
    owner, company, owner_client = owner_setup
    ar = requested(company_link(user=UserFactory.create(), number=company.customer_number, email=owner.email))
    page = owner_client.get(f"/account/requests/{ar.public_id}/?decision=decline").content.decode()
    assert "<strong>Decline this request?</strong>" in page
    assert page.index(">Decline</button>") < page.index(">Approve instead</button>")
    ar.refresh_from_db()
    assert ar.status == "pending"  # opening the link decides nothing


def test_another_persons_request_is_404(owner_setup):
    owner, company, _ = owner_setup
    requester = UserFactory.create()
    ar = requested(company_link(user=requester, number=company.customer_number, email=owner.email))
    stranger = HttpClient()
    stranger.force_login(UserFactory.create())
    assert stranger.get(f"/account/requests/{ar.public_id}/").status_code == 404
    assert stranger.post(f"/account/requests/{ar.public_id}/approve/").status_code == 404
    assert stranger.post(f"/account/requests/{ar.public_id}/cancel/").status_code == 404


def test_another_companys_pages_are_404(owner_setup, client):
    _, company, _ = owner_setup
    client.force_login(UserFactory.create())
    for page in ("", "users/", "payment/", "invoices/", "accountant/", "details/"):
        assert client.get(f"/companies/{company.customer_number}/{page}").status_code == 404


def test_my_details_shows_the_full_registration_id_to_the_owner(owner_setup):
    _, company, client = owner_setup
    body = client.get(f"/companies/{company.customer_number}/details/").content.decode()
    assert "Administration &gt; My Profile &gt; My Details" in body
    assert f'<p class="big">{company.registration_id}</p>' in body
    # The business name is changed by customer services, and the page says how to reach them.
    assert f'contact Customer Services at <a href="mailto:{settings.CUSTOMER_SERVICES_EMAIL}">' in body
    assert settings.ADMIN_TEAM_EMAIL not in body  # the administration team handles practices' changes, not this
    # "Your Registration ID can be found within Sage Accounting under Administration > My Profile > My Details"
    books = client.get(f"/companies/{company.customer_number}/ledger/").content.decode()
    assert (
        f'<a href="/companies/{company.customer_number}/details/">Administration &gt; My Profile &gt; My Details</a>'
        in books
    )


def test_my_accountant_names_the_managing_practice(owner_setup):
    _, company, client = owner_setup
    practice = Practice.objects.create(company=company_create(business_name="Ledger LLP"), name="Ledger LLP")
    Client.objects.create(practice=practice, company=company, business_name=company.business_name)
    assert "Ledger LLP" in client.get(f"/companies/{company.customer_number}/accountant/").content.decode()


def test_disabled_access_shows_a_clear_message_instead_of_the_company(owner_setup):
    _, company, client = owner_setup
    practice = Practice.objects.create(
        company=company_create(business_name="Ledger LLP"), name="Ledger LLP", contact_email="hello@ledger.test"
    )
    Client.objects.create(practice=practice, company=company, business_name=company.business_name, access="disabled")
    for page in ("", "invoices/", "accountant/"):
        response = client.get(f"/companies/{company.customer_number}/{page}")
        assert response.status_code == 403, page
        body = response.content.decode()
        # Who to ask, and how.
        assert "Your accountant, Ledger LLP, has disabled your access to this company." in body, page
        assert '<a href="mailto:hello@ledger.test">hello@ledger.test</a>' in body, page


def test_decline_on_the_users_page_asks_first_and_comes_back(owner_setup):
    _owner, company, client = owner_setup
    requester = UserFactory.create(email="asker@example.test")
    ar = requested(company_link(user=requester, number=company.customer_number, email="owner@acme.test"))
    users = f"/companies/{company.customer_number}/users/"
    page = client.get(users).content.decode()
    confirm_url = f"/account/requests/{ar.public_id}/?decision=decline&amp;next={users}"
    assert f'href="{confirm_url}"' in page  # a link to the confirmation, not a one-click form
    asked = client.get(confirm_url.replace("&amp;", "&")).content.decode()
    assert "Decline this request?" in asked
    assert f'name="next" value="{users}"' in asked
    done = client.post(f"/account/requests/{ar.public_id}/decline/", {"next": users})
    assert done["Location"] == users
    ar.refresh_from_db()
    assert ar.status == "declined"


def test_owner_removes_a_user_from_the_users_page(owner_setup):
    _owner, company, client = owner_setup
    user = UserFactory.create(email="gone@example.test")
    CompanyMembership.objects.create(user=user, company=company, role="user")
    url = f"/companies/{company.customer_number}/users/{user.pk}/remove/"
    asked = client.post(url)  # Remove asks first: the person loses the company and its products at once
    assert asked.status_code == 200
    assert f"({user.email}) from <strong>Acme Ltd</strong>?" in asked.content.decode()
    assert 'name="confirm" value="yes"' in asked.content.decode()
    assert CompanyMembership.objects.filter(user=user).exists()
    response = client.post(url, {"confirm": "yes"}, follow=True)
    assert "User removed" in response.content.decode()
    assert not CompanyMembership.objects.filter(user=user).exists()
    # The owner is not offered to themselves; another company's user is not found.
    assert client.post(f"/companies/{company.customer_number}/users/{_owner.pk}/remove/").status_code == 404


def test_person_without_company_sees_how_to_link_one(client):
    client.force_login(UserFactory.create())
    assert 'href="/account/link/"' in client.get("/").content.decode()


def test_owner_without_an_account_is_led_through_sign_up_to_the_request(client):
    company = company_create(business_name="Acme Ltd", owner_email="new-owner@acme.test")
    requester = UserFactory.create()
    ar = requested(company_link(user=requester, number=company.customer_number, email="new-owner@acme.test"))
    path = f"/account/requests/{ar.public_id}/"

    login = client.get(path)
    assert login.status_code == 302
    login_page = client.get(login["Location"]).content.decode()
    signup_href = f'href="/accounts/signup/?next={path.replace("/", "%2F")}"'
    assert signup_href in login_page
    client.post(
        f"/accounts/signup/?next={path}",
        {
            "email": "new-owner@acme.test",
            "password1": "a good long passphrase",
            "password2": "a good long passphrase",
            "full_name": "New Owner",
            "next": path,
        },
    )
    code = OutboundEmail.objects.get(template="account-email_confirmation_signup").context["code"]
    response = client.post("/accounts/confirm-email/", {"code": code})
    assert response["Location"] == path
    page = client.get(path).content.decode()
    assert ">Approve</button>" in page


@pytest.mark.parametrize("url", ["/", "/products/accounting/"])
def test_home_query_count_does_not_grow_with_the_companies_a_person_owns(url, django_assert_max_num_queries):
    """The Direct Debit banners of every company the person owns come from three queries, not three per company;
    a company with a mandate, or whose accountant pays, gets no banner."""
    import datetime as dt

    from django.utils import timezone

    from partnerdesk.billing.models import DirectDebitMandate, Licence
    from partnerdesk.lib import crypto

    owner = UserFactory.create(email="many@owner.test")
    starts = timezone.localdate() - dt.timedelta(days=30)
    companies = []
    for i in range(12):
        company = company_create(business_name=f"Owned {i:02d} Ltd", owner_email=owner.email, owner=owner)
        CompanyMembership.objects.create(user=owner, company=company, role="owner")
        companies.append(company)
        if i != 1:
            Licence.objects.create(company=company, payer="client", starts_on=starts)
    practice_company = company_create(business_name="Practice Ltd")
    practice = Practice.objects.create(company=practice_company, name="Practice")
    Licence.objects.create(company=companies[1], payer="accountant", practice=practice, starts_on=starts)
    DirectDebitMandate.objects.create(
        company=companies[0],
        reference="PD-TEST-1",
        account_holder="Owner",
        sort_code_encrypted=crypto.encrypt("123456"),
        account_number_encrypted=crypto.encrypt("12345678"),
        sort_code_masked="**-**-56",
        account_number_masked="******78",
        declaration_accepted_at=timezone.now(),
    )
    client = HttpClient()
    client.force_login(owner)
    client.get(url)  # the first request records the device (usersessions): not what is counted
    with django_assert_max_num_queries(20):  # 13 and 17 now; 43 and 47 with three queries per company
        page = client.get(url).content.decode()
    assert page.count(": enter your Direct Debit details.") == 10
    assert "Owned 00 Ltd: enter" not in page  # it has a mandate
    assert "Owned 01 Ltd: enter" not in page  # its accountant pays
    assert page.index("Owned 02 Ltd: enter") < page.index("Owned 11 Ltd: enter")  # in the companies' order
