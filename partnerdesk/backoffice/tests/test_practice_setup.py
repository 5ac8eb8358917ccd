"""Customer services sets up a new practice (Practices -> "Set up a practice"), and a practice's Subscription Owner
becomes its first admin when it has none."""

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.contrib.auth.models import Group
from django.test import Client as HttpClient
from django.utils import timezone

from partnerdesk.audit.models import Action, Event
from partnerdesk.backoffice.services import AdminOfAnotherPractice, PracticeSetupInvalid, practice_set_up
from partnerdesk.billing.models import Licence, PracticeDiscount, SubscriptionItem
from partnerdesk.identity.models import Company, CompanyMembership, User
from partnerdesk.identity.services import company_create, company_link
from partnerdesk.identity.tests.factories import UserFactory
from partnerdesk.lib.tokens import hash_token
from partnerdesk.notifications.models import OutboundEmail
from partnerdesk.practice.contact_email import ContactEmailTaken
from partnerdesk.practice.models import Practice, PracticeInvitation, PracticeMember

pytestmark = pytest.mark.django_db

URL = "/admin/practice/practice/add/"
FORM: dict[str, Any] = {
    "business_name": "Fenwick Rowe Accountants LLP",
    "contact_email": "hello@fenwickrowe.test",
    "admin_email": "Jo.Fenwick@FenwickRowe.test",
    "discount_rate": "15",
}


@pytest.fixture
def customer_services():
    user = User.objects.create_user(
        email="cs@partnerdesk.test", password="x" * 16, is_staff=True, full_name="Customer Services"
    )
    user.groups.add(Group.objects.get(name="Customer services"))
    http = HttpClient()
    http.force_login(user)
    return http, user


def _existing_practice(name: str = "Ledger LLP", admin_email: str = "boss@ledger.test") -> Practice:
    admin = UserFactory.create(email=admin_email)
    practice = Practice.objects.create(
        company=company_create(business_name=name), name=name, contact_email="office@ledger.test"
    )
    PracticeMember.objects.create(practice=practice, user=admin, role=PracticeMember.Role.ADMIN)
    return practice


def test_the_practices_list_offers_set_up_a_practice_to_customer_services(customer_services):
    http, _ = customer_services
    page = http.get("/admin/practice/practice/").content.decode()
    assert "Set up a practice" in page
    assert f'href="{URL}"' in page
    form = http.get(URL)
    assert form.status_code == 200
    body = form.content.decode()
    for label in ("Business name", "Contact email", "First admin&#x27;s email", "Discount rate (%)"):
        assert label in body, label


def test_back_office_staff_without_the_permission_get_403():
    """A back-office login without ``practice.add_practice`` (here: only viewing practices) can't open or post it."""
    from django.contrib.auth.models import Permission

    user = User.objects.create_user(email="viewer@partnerdesk.test", password="x" * 16, is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="view_practice"))
    http = HttpClient()
    http.force_login(user)
    assert http.get("/admin/practice/practice/").status_code == 200
    assert "Set up a practice" not in http.get("/admin/practice/practice/").content.decode()
    assert http.get(URL).status_code == 403
    assert http.post(URL, FORM).status_code == 403
    assert not Practice.objects.exists()


def test_setting_up_a_practice_makes_everything_in_one_go(customer_services):
    http, actor = customer_services
    response = http.post(URL, FORM, follow=True)
    practice = Practice.objects.get()
    assert response.redirect_chain[-1][0] == f"/admin/practice/practice/{practice.pk}/change/"
    body = response.content.decode()
    company = practice.company
    assert f"Fenwick Rowe Accountants LLP is set up (Customer Number {company.customer_number})" in body
    assert "jo.fenwick@fenwickrowe.test has been invited as its first admin" in body
    assert "The contact email hello@fenwickrowe.test has been sent a confirmation link" in body
    # The company: a fresh customer number, the first admin's address as its owner email, no owner yet.
    assert company.business_name == "Fenwick Rowe Accountants LLP"
    assert len(company.customer_number) == 8
    assert company.registration_id.startswith("MBR")
    assert company.owner_email == "jo.fenwick@fenwickrowe.test"
    assert company.owner is None
    # Partner Edition is the practice itself: nothing billed to its own company.
    assert not Licence.objects.filter(company=company).exists()
    assert not SubscriptionItem.objects.filter(company=company).exists()
    # The discount, dated from today.
    discount = PracticeDiscount.objects.get(practice=practice)
    assert discount.rate == Decimal("15.00")
    assert discount.effective_from == timezone.localdate()
    # The contact email waits for its link (decision 71).
    assert practice.contact_email == ""
    assert practice.contact_email_pending == "hello@fenwickrowe.test"
    # The first admin's invitation: admin, sees every client, 14 days, hashed single-use token.
    invitation = PracticeInvitation.objects.get(practice=practice)
    assert invitation.email == "jo.fenwick@fenwickrowe.test"
    assert invitation.role == PracticeMember.Role.ADMIN
    assert invitation.sees_all_clients
    assert invitation.status == PracticeInvitation.Status.PENDING
    assert invitation.invited_by == actor
    assert abs(invitation.expires_at - (timezone.now() + timedelta(days=14))) < timedelta(minutes=1)
    assert len(invitation.token_hash) == 64
    assert not invitation.token_hash.startswith("pdi_")
    assert not PracticeMember.objects.filter(practice=practice).exists()
    # The emails are in the outbox: the invitation (from Partnerdesk Customer Services) and the contact link.
    invite_email = OutboundEmail.objects.get(template="practice-staff-invitation")
    assert invite_email.to == ["jo.fenwick@fenwickrowe.test"]
    assert invite_email.context["inviter_name"] == "Partnerdesk Customer Services"
    assert invite_email.context["practice_name"] == "Fenwick Rowe Accountants LLP"
    token = invite_email.context["invitation_path"].split("/")[-2]
    assert token.startswith("pdi_")
    assert hash_token(token) == invitation.token_hash
    assert OutboundEmail.objects.get(template="practice-contact-email-confirm").to == ["hello@fenwickrowe.test"]
    # Audited: the set-up itself, the discount and the invitation.
    event = Event.objects.get(action=Action.PRACTICE_SET_UP)
    assert event.actor == actor
    assert event.practice == practice
    assert event.company == company
    assert event.data["customer_number"] == company.customer_number
    assert event.data["admin_email"] == "jo.fenwick@fenwickrowe.test"
    assert event.data["discount_rate"] == "15.00"
    assert Event.objects.filter(action=Action.PRACTICE_DISCOUNT_CHANGE, practice=practice).exists()
    assert Event.objects.filter(action=Action.STAFF_INVITE, practice=practice, actor=actor).exists()


def test_a_taken_contact_email_is_a_field_error(customer_services):
    http, _ = customer_services
    _existing_practice()
    response = http.post(URL, {**FORM, "contact_email": "Office@Ledger.test"})
    assert response.status_code == 200
    body = response.content.decode()
    assert "office@ledger.test is already the contact email of Ledger LLP" in body
    assert Practice.objects.count() == 1
    assert Company.objects.count() == 1


def test_another_practice_admin_login_counts_as_that_practice_address(customer_services):
    """Decision 71: an admin's verified login address leads an owner's invitation to their practice first."""
    http, _ = customer_services
    _existing_practice()
    body = http.post(URL, {**FORM, "contact_email": "boss@ledger.test"}).content.decode()
    assert "boss@ledger.test is already the contact email of Ledger LLP" in body
    assert Practice.objects.count() == 1


def test_an_admin_email_of_another_practice_member_is_a_clear_error(customer_services):
    http, _ = customer_services
    _existing_practice()
    body = http.post(URL, {**FORM, "admin_email": "BOSS@ledger.test"}).content.decode()
    assert "boss@ledger.test already belongs to a member of Ledger LLP" in body
    assert "a person belongs to one practice" in body
    assert Practice.objects.count() == 1
    assert not PracticeInvitation.objects.exists()


@pytest.mark.parametrize("rate", ["-1", "100.01", "abc", ""])
def test_a_bad_discount_is_a_field_error(customer_services, rate):
    http, _ = customer_services
    response = http.post(URL, {**FORM, "discount_rate": rate})
    assert response.status_code == 200
    assert 'class="form-row errors field-discount_rate"' in response.content.decode()
    assert not Practice.objects.exists()
    assert not Company.objects.exists()


def test_missing_and_bad_fields_are_field_errors(customer_services):
    http, _ = customer_services
    body = http.post(
        URL, {"business_name": " ", "contact_email": "nope", "admin_email": "", "discount_rate": "0"}
    ).content.decode()
    for field in ("business_name", "contact_email", "admin_email"):
        assert f'class="form-row errors field-{field}"' in body, field
    assert not Practice.objects.exists()


def test_the_service_refuses_bad_input_with_the_field(customer_services):
    _, actor = customer_services
    kwargs: dict[str, Any] = {**FORM, "discount_rate": Decimal("10")}
    with pytest.raises(PracticeSetupInvalid) as bad_rate:
        practice_set_up(actor=actor, **{**kwargs, "discount_rate": Decimal("101")})
    assert bad_rate.value.extra["field"] == "discount_rate"
    with pytest.raises(PracticeSetupInvalid) as hidden:
        practice_set_up(actor=actor, **{**kwargs, "business_name": "Fenwick\u202eRowe"})
    assert hidden.value.extra["field"] == "business_name"
    _existing_practice()
    with pytest.raises(ContactEmailTaken):
        practice_set_up(actor=actor, **{**kwargs, "contact_email": "office@ledger.test"})
    with pytest.raises(AdminOfAnotherPractice):
        practice_set_up(actor=actor, **{**kwargs, "admin_email": "boss@ledger.test"})
    assert Practice.objects.count() == 1


def test_a_failure_half_way_leaves_nothing(customer_services, monkeypatch):
    """The invitation is the last step: when it fails, the company, practice, discount, contact link and audit
    events made before it are all rolled back, and no email waits in the outbox."""
    _, actor = customer_services
    import partnerdesk.practice.staff_services as staff_services

    def broken(*args, **kwargs):
        raise RuntimeError("mail template missing")

    monkeypatch.setattr(staff_services, "_send_invitation", broken)
    before = Event.objects.count()
    with pytest.raises(RuntimeError):
        practice_set_up(actor=actor, **{**FORM, "discount_rate": Decimal("10")})
    assert not Company.objects.exists()
    assert not Practice.objects.exists()
    assert not PracticeDiscount.objects.exists()
    assert not PracticeInvitation.objects.exists()
    assert not OutboundEmail.objects.exists()
    assert Event.objects.count() == before


# --- the Subscription Owner of a practice's own company -----------------------------------------------------------


def _set_up(actor: User) -> Practice:
    return practice_set_up(actor=actor, **{**FORM, "discount_rate": Decimal("0")}).practice


def test_the_owner_linking_a_practice_without_admins_becomes_its_first_admin(customer_services):
    _, actor = customer_services
    practice = _set_up(actor)
    owner = UserFactory.create(email="jo.fenwick@fenwickrowe.test", full_name="Jo Fenwick")
    http = HttpClient()
    http.force_login(owner)
    response = http.post(
        "/account/link/",
        {"number": practice.company.customer_number, "email": "jo.fenwick@fenwickrowe.test"},
        follow=True,
    )
    body = response.content.decode()
    assert "You are the first admin of Fenwick Rowe Accountants LLP" in body
    assert response.redirect_chain[-1][0] == "/partner/clients/"
    member = PracticeMember.objects.get(practice=practice)
    assert member.user == owner
    assert member.role == PracticeMember.Role.ADMIN
    assert member.sees_all_clients
    assert CompanyMembership.objects.filter(user=owner, company=practice.company, role="owner").exists()
    event = Event.objects.get(action=Action.PRACTICE_FIRST_ADMIN)
    assert event.actor == owner
    assert event.practice == practice
    # Partner Edition now opens the practice's (empty) client list.
    assert http.get("/products/partner/")["Location"] == "/partner/clients/"


def test_the_owner_of_a_practice_with_admins_is_told_who_they_are(customer_services):
    _, actor = customer_services
    practice = _set_up(actor)
    admin = UserFactory.create(email="partner@fenwickrowe.test", full_name="Sam Rowe")
    PracticeMember.objects.create(practice=practice, user=admin, role=PracticeMember.Role.ADMIN)
    owner = UserFactory.create(email="jo.fenwick@fenwickrowe.test")
    result = company_link(user=owner, number=practice.company.customer_number, email="jo.fenwick@fenwickrowe.test")
    assert result.outcome == "owner"
    assert result.first_admin_of == ""
    assert not PracticeMember.objects.filter(user=owner).exists()
    assert not Event.objects.filter(action=Action.PRACTICE_FIRST_ADMIN).exists()
    http = HttpClient()
    http.force_login(owner)
    body = http.get("/products/partner/").content.decode()
    assert "Your account is not a member of a practice: ask your practice" in body
    assert "Fenwick Rowe Accountants LLP's admin is: Sam Rowe (partner@fenwickrowe.test)." in body


def test_an_owner_in_another_practice_does_not_become_admin(customer_services):
    _, actor = customer_services
    practice = _set_up(actor)
    other = _existing_practice()
    owner = UserFactory.create(email="jo.fenwick@fenwickrowe.test")
    PracticeMember.objects.create(practice=other, user=owner, role=PracticeMember.Role.STAFF)
    result = company_link(user=owner, number=practice.company.customer_number, email="jo.fenwick@fenwickrowe.test")
    assert result.outcome == "owner"
    assert result.first_admin_of == ""
    assert not PracticeMember.objects.filter(practice=practice).exists()


def test_linking_an_ordinary_company_changes_no_practice():
    owner = UserFactory.create(email="me@mine.test")
    company = company_create(business_name="Mine Ltd", owner_email="me@mine.test")
    result = company_link(user=owner, number=company.customer_number, email="me@mine.test")
    assert result.outcome == "owner"
    assert result.first_admin_of == ""
    assert not PracticeMember.objects.exists()


def test_the_invited_admin_accepts_after_creating_an_account(customer_services):
    """The invitation page offers Create account with the invited address filled in; accepting makes them admin."""
    _, actor = customer_services
    practice = _set_up(actor)
    path = OutboundEmail.objects.get(template="practice-staff-invitation").context["invitation_path"]
    page = HttpClient().get(path).content.decode()
    assert "Join Fenwick Rowe Accountants LLP" in page
    assert "email=jo.fenwick%40fenwickrowe.test" in page
    person = UserFactory.create(email="jo.fenwick@fenwickrowe.test")
    http = HttpClient()
    http.force_login(person)
    http.post(path)
    member = PracticeMember.objects.get(practice=practice)
    assert member.user == person
    assert member.role == PracticeMember.Role.ADMIN


def test_a_new_practice_empty_client_list_says_how_to_add_clients(customer_services):
    _, actor = customer_services
    practice = _set_up(actor)
    admin = UserFactory.create(email="jo.fenwick@fenwickrowe.test")
    PracticeMember.objects.create(practice=practice, user=admin, role=PracticeMember.Role.ADMIN)
    http = HttpClient()
    http.force_login(admin)
    body = http.get("/partner/clients/").content.decode()
    assert "<h2>You have no clients yet</h2>" in body
    assert "No clients match." not in body
    assert "No clients match." in http.get("/partner/clients/?q=zzz").content.decode()
