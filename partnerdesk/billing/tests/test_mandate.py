import io

import pytest
from cryptography.fernet import Fernet
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from partnerdesk.audit.models import Action, Event
from partnerdesk.billing import services
from partnerdesk.billing.models import DirectDebitMandate
from partnerdesk.billing.tests.subscription_factories import client_paying_company, make_owner_company, make_practice
from partnerdesk.identity.models import CompanyMembership
from partnerdesk.identity.tests.factories import UserFactory
from partnerdesk.lib import crypto
from partnerdesk.lib.errors import DomainError, NotFound
from partnerdesk.practice.models import PracticeMember

pytestmark = pytest.mark.django_db

GOOD = {"account_holder": "Ada Lovelace", "sort_code": "12-34-56", "account_number": "12345678", "declaration": True}


def _create(actor, company, **changes):
    return services.mandate_create(actor=actor, company=company, **{**GOOD, **changes})


@pytest.mark.parametrize("sort_code", ["", "12345", "1234567", "12-34-5", "ab-cd-ef", "12/34/56", "12-34 56", "١٢٣٤٥٦"])
def test_invalid_sort_codes_are_refused_with_their_own_error(sort_code):
    company, owner = make_owner_company()
    with pytest.raises(DomainError) as exc:
        _create(owner, company, sort_code=sort_code)
    assert exc.value.code == "sort_code_invalid"
    assert "6 digits" in exc.value.message


@pytest.mark.parametrize("account_number", ["", "1234567", "123456789", "1234567a", "12-345678", "١٢٣٤٥٦٧٨"])
def test_invalid_account_numbers_are_refused_with_their_own_error(account_number):
    company, owner = make_owner_company()
    with pytest.raises(DomainError) as exc:
        _create(owner, company, account_number=account_number)
    assert exc.value.code == "account_number_invalid"
    assert "8 digits" in exc.value.message


def test_account_holder_and_declaration_are_required():
    company, owner = make_owner_company()
    with pytest.raises(DomainError) as exc:
        _create(owner, company, account_holder="   ")
    assert exc.value.code == "account_holder_required"
    with pytest.raises(DomainError) as exc:
        _create(owner, company, declaration=False)
    assert exc.value.code == "declaration_required"
    assert not DirectDebitMandate.objects.exists()


@pytest.mark.parametrize("sort_code", ["123456", "12-34-56", "12 34 56"])
def test_sort_code_formats_are_accepted_and_stored_as_digits(sort_code):
    company, owner = make_owner_company()
    mandate = _create(owner, company, sort_code=sort_code)
    assert crypto.decrypt(mandate.sort_code_encrypted) == "123456"
    assert mandate.sort_code_masked == "**-**-56"
    assert mandate.account_number_masked == "******78"
    assert mandate.reference.startswith("PD")
    assert len(mandate.reference) == 10
    assert mandate.reference[2:].isalnum()
    assert mandate.reference[2:].upper() == mandate.reference[2:]


def test_bank_details_are_encrypted_at_rest():
    company, owner = make_owner_company()
    mandate = _create(owner, company, account_number="87654321", sort_code="65-43-21")
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT sort_code_encrypted, account_number_encrypted FROM billing_directdebitmandate WHERE id = %s",
            [mandate.pk],
        )
        sort_raw, account_raw = cursor.fetchone()
    assert "87654321" not in account_raw
    assert "654321" not in sort_raw
    assert crypto.decrypt(account_raw) == "87654321"


def test_a_new_mandate_replaces_the_active_one_and_both_are_audited():
    company, owner = make_owner_company()
    first = _create(owner, company)
    second = _create(owner, company, account_number="11112222")
    first.refresh_from_db()
    assert first.status == "cancelled"
    assert first.cancelled_at is not None
    assert second.status == "active"
    assert Event.objects.filter(action=Action.MANDATE_CREATE, company=company).count() == 2
    assert Event.objects.filter(action=Action.MANDATE_CREATE).order_by("-id")[0].data["replaced"] == [first.reference]
    services.mandate_cancel(actor=owner, company=company)
    assert not DirectDebitMandate.objects.filter(status="active").exists()
    assert Event.objects.filter(action=Action.MANDATE_CANCEL).count() == 1
    with pytest.raises(NotFound):
        services.mandate_cancel(actor=owner, company=company)


def test_a_suspended_company_is_unsuspended_by_a_mandate():
    company, owner = client_paying_company()
    company.suspended_at = timezone.now()
    company.save(update_fields=["suspended_at"])
    _create(owner, company)
    company.refresh_from_db()
    assert company.suspended_at is None
    assert Event.objects.filter(action=Action.COMPANY_UNSUSPEND, company=company).exists()


def test_only_the_owner_or_the_practices_admins_may_set_up_a_mandate():
    company, _owner = make_owner_company()
    user = UserFactory.create()
    CompanyMembership.objects.create(user=user, company=company, role="user")
    for actor in (user, UserFactory.create()):
        with pytest.raises(NotFound):
            _create(actor, company)
    setup = make_practice()
    staff = UserFactory.create()
    PracticeMember.objects.create(practice=setup.practice, user=staff, role="staff")
    with pytest.raises(NotFound):
        _create(staff, setup.practice.company)
    with pytest.raises(NotFound):
        _create(setup.admin, company)  # a practice admin, but not this company
    assert _create(setup.admin, setup.practice.company).status == "active"


def test_owner_payment_page_shows_masked_details_only(client):
    company, owner = make_owner_company()
    client.force_login(owner)
    url = f"/companies/{company.customer_number}/payment/"
    assert "You pay for this subscription: set up a Direct Debit" in client.get(url).content.decode()
    bad = client.post(url, {**GOOD, "sort_code": "12-34", "account_number": "123"})
    assert bad.status_code == 400
    body = bad.content.decode()
    assert "6 digits" in body
    assert "8 digits" in body
    no_declaration = client.post(url, {**GOOD, "declaration": ""})
    assert "only person required to authorise debits" in no_declaration.content.decode()
    saved = client.post(url, {**GOOD, "declaration": "on"})
    assert saved.status_code == 302
    shown = client.get(url)
    assert "no-store" in shown["Cache-Control"]  # bank details, even masked, stay out of caches
    page = shown.content.decode()
    assert "your monthly invoices are collected by this Direct Debit" in page
    assert "**-**-56" in page
    assert "******78" in page
    assert "12345678" not in page
    assert "123456" not in page.replace("12345678", "")
    asked = client.post(url, {"action": "cancel"})  # Cancel Direct Debit asks first
    assert asked.status_code == 200
    assert "can then no longer be collected" in asked.content.decode()
    assert DirectDebitMandate.objects.filter(status="active").exists()
    assert client.post(url, {"action": "cancel", "confirm": "yes"}).status_code == 302
    assert not DirectDebitMandate.objects.filter(status="active").exists()


def test_suspended_owner_is_told_and_can_restore_access_from_the_payment_page(client):
    company, owner = client_paying_company()
    company.suspended_at = timezone.now()
    company.save(update_fields=["suspended_at"])
    client.force_login(owner)
    url = f"/companies/{company.customer_number}/payment/"
    body = client.get(url).content.decode()
    assert "is suspended" in body
    assert "restore access" in body
    assert client.post(url, {**GOOD, "declaration": "on"}).status_code == 302
    company.refresh_from_db()
    assert company.suspended_at is None


def test_payment_pages_are_404_for_others(client):
    company, _ = make_owner_company()
    user = UserFactory.create()
    CompanyMembership.objects.create(user=user, company=company, role="user")
    client.force_login(user)
    assert client.get(f"/companies/{company.customer_number}/payment/").status_code == 404
    client.force_login(UserFactory.create())
    assert client.get(f"/companies/{company.customer_number}/payment/").status_code == 404
    assert client.get("/partner/payment/").status_code == 404
    setup = make_practice()
    staff = UserFactory.create()
    PracticeMember.objects.create(practice=setup.practice, user=staff, role="staff")
    client.force_login(staff)
    assert client.get("/partner/payment/").status_code == 404


def test_practice_admin_sets_up_the_practices_direct_debit(client):
    setup = make_practice()
    client.force_login(setup.admin)
    assert client.post("/partner/payment/", {**GOOD, "declaration": "on"}).status_code == 302
    mandate = DirectDebitMandate.objects.get()
    assert mandate.company_id == setup.practice.company_id
    assert "**-**-56" in client.get("/partner/payment/").content.decode()


def test_rotate_command_re_encrypts_with_the_newest_key(settings):
    key_a, key_b = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings.FIELD_ENCRYPTION_KEYS = [key_a]
    company, owner = make_owner_company()
    mandate = _create(owner, company)
    settings.FIELD_ENCRYPTION_KEYS = [key_b, key_a]
    out = io.StringIO()
    call_command("rotate_field_encryption", stdout=out)
    assert "Re-encrypted 1" in out.getvalue()
    mandate.refresh_from_db()
    assert Fernet(key_b.encode()).decrypt(mandate.account_number_encrypted.encode()) == b"12345678"
    assert Fernet(key_b.encode()).decrypt(mandate.sort_code_encrypted.encode()) == b"123456"
    out = io.StringIO()
    call_command("rotate_field_encryption", stdout=out)
    assert "Re-encrypted 0" in out.getvalue()


def test_the_declaration_checkbox_sits_before_its_label():
    from django.template.loader import render_to_string

    from partnerdesk.billing.forms import MandateForm

    html = render_to_string("_form.html", {"form": MandateForm()})
    assert '<div class="field-choice"><input type="checkbox" name="declaration"' in html, (
        "the checkbox and its label share one line, box first"
    )
    assert '<label for="id_declaration">I am the account holder' in html
    assert html.count("<label") == len(MandateForm().visible_fields())
