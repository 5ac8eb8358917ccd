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
    assert client.get("/partner/payment/").status_code == 403  # the practice's own staff: for its admins


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


# --- Confirmation emails ---------------------------------------------------------------------------------


def _mandate_emails(template: str):
    from partnerdesk.notifications.models import OutboundEmail
    from partnerdesk.notifications.tasks import render_email

    rows = list(OutboundEmail.objects.filter(template=template).order_by("created_at"))
    return [(row.to, render_email(row)) for row in rows]


def test_setting_up_a_mandate_on_the_payment_page_emails_the_owner_a_confirmation_with_the_guarantee(client):
    import datetime as dt

    owner = UserFactory.create(email="ana@own.test", full_name="Ana Lopes")
    company, _ = make_owner_company(owner=owner)
    client.force_login(owner)
    url = f"/companies/{company.customer_number}/payment/"
    assert client.post(url, {**GOOD, "declaration": "on"}).status_code == 302
    mandate = DirectDebitMandate.objects.get(status="active")
    [(to, message)] = _mandate_emails("mandate-created")
    assert to == ["ana@own.test"]
    today = timezone.localdate()
    first = (today.replace(day=1) + dt.timedelta(days=32)).replace(day=1)
    [(html, _)] = message.alternatives
    for text in (
        "Hello Ana Lopes,",
        f"Direct Debit reference: {mandate.reference}",
        "Account holder: Ada Lovelace",
        "Sort code: **-**-56",
        "Account number: ******78",
        f"First collection: on or after {first.day} {first:%B %Y}, your next invoice date",
        "The Direct Debit Guarantee",
        "full and immediate refund",
        "cancel a Direct Debit at any time by simply contacting your bank or building society",
    ):
        assert text in message.body, text
    assert mandate.reference in str(html)
    assert "12345678" not in message.body + str(html)  # masked only
    assert "123456" not in message.body + str(html)
    assert message.subject == "Your Direct Debit for Own Ltd is set up"


def test_next_invoice_date_is_the_first_of_the_next_month():
    import datetime as dt

    assert services.next_invoice_date(dt.date(2026, 12, 1)) == dt.date(2027, 1, 1)
    assert services.next_invoice_date(dt.date(2026, 1, 31)) == dt.date(2026, 2, 1)


def test_mandate_emails_roll_back_with_the_mandate():
    from django.db import transaction

    from partnerdesk.notifications.models import OutboundEmail

    company, owner = make_owner_company()

    def fails_after_the_mandate():
        with transaction.atomic():
            _create(owner, company)
            assert OutboundEmail.objects.filter(template="mandate-created").count() == 1
            raise RuntimeError("the transaction fails after the mandate")

    with pytest.raises(RuntimeError):
        fails_after_the_mandate()
    assert not OutboundEmail.objects.exists()


def test_cancelling_a_mandate_emails_a_confirmation(client):
    company, owner = make_owner_company()
    mandate = _create(owner, company)
    client.force_login(owner)
    response = client.delete(f"/api/v1/companies/{company.customer_number}/mandate")
    assert response.status_code == 204
    [(to, message)] = _mandate_emails("mandate-cancelled")
    assert to == [owner.email]
    assert f"Direct Debit reference: {mandate.reference}" in message.body
    assert "is cancelled" in message.body
    assert f"Hello {owner.full_name}," in message.body


def test_the_api_mandate_endpoint_emails_the_confirmation_too(client):
    company, owner = make_owner_company()
    client.force_login(owner)
    url = f"/api/v1/companies/{company.customer_number}/mandate"
    assert client.put(url, {**GOOD, "sort_code": "12 34 56"}, content_type="application/json").status_code == 200
    [(to, message)] = _mandate_emails("mandate-created")
    assert to == [owner.email]
    assert "Sort code: **-**-56" in message.body


def test_the_practices_own_mandate_emails_each_admin_by_name(client):
    setup = make_practice()
    other = UserFactory.create(email="zed@hartley.test", full_name="Zed Admin")
    PracticeMember.objects.create(practice=setup.practice, user=other, role="admin")
    PracticeMember.objects.create(practice=setup.practice, user=UserFactory.create(), role="staff")
    client.force_login(setup.admin)
    assert client.post("/partner/payment/", {**GOOD, "declaration": "on"}).status_code == 302
    sent = _mandate_emails("mandate-created")
    assert sorted(to[0] for to, _ in sent) == sorted([setup.admin.email, "zed@hartley.test"])
    by_address = {to[0]: message for to, message in sent}
    assert by_address["zed@hartley.test"].body.startswith("Hello Zed Admin,")
    assert "for Hartley LLP" in by_address["zed@hartley.test"].body
    assert "/partner/payment/" in by_address["zed@hartley.test"].body


def test_an_owner_whose_accountant_pays_is_told_why_a_direct_debit_would_be_needed_and_the_form_waits(client):
    from partnerdesk.billing.models import Licence
    from partnerdesk.billing.tests.subscription_factories import LONG_AGO

    company, owner = make_owner_company("Managed Ltd")
    Licence.objects.create(company=company, payer="accountant", practice=make_practice().practice, starts_on=LONG_AGO)
    client.force_login(owner)
    url = f"/companies/{company.customer_number}/payment/"
    page = client.get(url).content.decode()
    assert "Your accountant currently pays for this subscription, so you don't need a Direct Debit now." in page
    assert "if your accountant stops managing it or you remove your accountant" in page
    assert '<details class="mandate-ahead">' in page  # the form is there, closed, for whoever wants it ahead
    assert "<summary>Set up a Direct Debit in advance</summary>" in page
    assert "<h3>Set up a Direct Debit</h3>" not in page
    bad = client.post(url, {**GOOD, "sort_code": "12-34"}).content.decode()
    assert '<details class="mandate-ahead" open>' in bad  # its errors are not hidden
    assert client.post(url, {**GOOD, "declaration": "on"}).status_code == 302
    saved = client.get(url).content.decode()
    assert "Nothing is collected by this one while your accountant pays." in saved
    assert "mandate-ahead" not in saved
