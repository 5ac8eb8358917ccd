"""A practice's contact email counts only once proven: an owner's "Invite your accountant" never reaches a practice
by an address it merely typed into its settings (UI, API and services)."""

from __future__ import annotations

import datetime as dt

import pytest
from allauth.account.models import EmailAddress
from django.apps import apps
from django.db import IntegrityError, transaction
from django.test import Client as HttpClient
from django.utils import timezone

from partnerdesk.audit.models import Event
from partnerdesk.lib.errors import NotFound
from partnerdesk.lib.tokens import hash_token
from partnerdesk.notifications.models import OutboundEmail
from partnerdesk.notifications.tasks import render_email
from partnerdesk.practice import contact_email, services, staff_services
from partnerdesk.practice.models import AccountantInvitation, Client, Practice
from partnerdesk.practice.tests.connect_factories import owned_company
from partnerdesk.practice.tests.staff_factories import make_practice

pytestmark = pytest.mark.django_db

VICTIM = "office@realfirm.test"


def _link_token() -> str:
    email = OutboundEmail.objects.filter(template="practice-contact-email-confirm").order_by("created_at").last()
    assert email is not None, "no confirmation email"
    return str(email.context["confirmation_path"]).rstrip("/").rsplit("/", 1)[-1]


def _set(practice: Practice, admin, email: str, **extra) -> Practice:
    return staff_services.practice_update_settings(actor=admin, practice=practice, contact_email=email, **extra)


def test_an_unconfirmed_contact_email_does_not_receive_an_owners_invitation():
    practice, admin = make_practice()
    updated = _set(practice, admin, VICTIM.upper())
    assert (updated.contact_email, updated.contact_email_pending) == ("", VICTIM)
    [email] = OutboundEmail.objects.filter(template="practice-contact-email-confirm")
    assert email.to == [VICTIM]
    rendered = render_email(email)
    assert "Hartley LLP" in rendered.subject
    assert str(email.context["confirmation_path"]) in str(rendered.body)
    company, owner = owned_company()
    invitation = services.accountant_invite(actor=owner, company=company, practice_email=VICTIM)
    assert invitation.matched is False
    assert not Client.objects.filter(practice=practice).exists()


def test_a_confirmed_contact_email_receives_the_invitation_and_the_old_one_serves_until_then():
    practice, admin = make_practice()
    Practice.objects.filter(pk=practice.pk).update(contact_email="old@hartley.test")
    practice.refresh_from_db()
    _set(practice, admin, "new@hartley.test")
    practice.refresh_from_db()
    assert (practice.contact_email, practice.contact_email_pending) == ("old@hartley.test", "new@hartley.test")
    token = _link_token()
    assert practice.contact_email_token_hash == hash_token(token)  # stored hashed, never the token
    assert token not in str(Practice.objects.filter(pk=practice.pk).values().get())
    confirmed = contact_email.contact_email_confirm(token=token)
    assert (confirmed.contact_email, confirmed.contact_email_pending, confirmed.contact_email_token_hash) == (
        "new@hartley.test",
        "",
        "",
    )
    assert Event.objects.filter(action="practice.settings.update", data__proven_by="confirmation_link").exists()
    with pytest.raises(NotFound):  # single-use
        contact_email.contact_email_confirm(token=token)
    company, owner = owned_company()
    invitation = services.accountant_invite(actor=owner, company=company, practice_email="New@Hartley.test")
    assert invitation.matched is True
    assert Client.objects.get(practice=practice, tab="pending").company == company


def test_the_proven_address_is_told_when_someone_asks_to_change_it():
    """A change nobody at the practice asked for is a takeover attempt: the address in use hears of it at once."""
    practice, admin = make_practice()
    Practice.objects.filter(pk=practice.pk).update(contact_email="old@hartley.test")
    practice.refresh_from_db()
    _set(practice, admin, "new@elsewhere.test")
    [notice] = OutboundEmail.objects.filter(template="practice-contact-email-change-requested")
    assert notice.to == ["old@hartley.test"]
    rendered = render_email(notice)
    assert "Hartley LLP" in rendered.subject
    assert "to change from this address to new@elsewhere.test" in rendered.body
    assert "confirmation_path" not in notice.context  # the link goes only to the new address
    assert "/partner/contact-email/" not in rendered.body
    OutboundEmail.objects.all().delete()
    practice.refresh_from_db()
    _set(practice, admin, "")  # removing claims nothing: no link, no notice
    assert not OutboundEmail.objects.exists()


def test_an_expired_or_replaced_link_confirms_nothing():
    practice, admin = make_practice()
    _set(practice, admin, "first@hartley.test")
    first = _link_token()
    _set(practice, admin, "second@hartley.test")
    with pytest.raises(NotFound):  # a newer link replaced it
        contact_email.contact_email_confirm(token=first)
    second = _link_token()
    Practice.objects.filter(pk=practice.pk).update(
        contact_email_token_expires_at=timezone.now() - dt.timedelta(seconds=1)
    )
    with pytest.raises(contact_email.ContactEmailLinkClosed):
        contact_email.contact_email_confirm(token=second)
    practice.refresh_from_db()
    assert practice.contact_email == ""
    # Saving the waiting address again sends nothing while its link works; once expired it sends a new one.
    _set(practice, admin, "second@hartley.test")
    assert OutboundEmail.objects.filter(template="practice-contact-email-confirm").count() == 3
    contact_email.contact_email_confirm(token=_link_token())
    practice.refresh_from_db()
    assert practice.contact_email == "second@hartley.test"


def test_saving_the_waiting_address_again_sends_nothing_unless_asked():
    practice, admin = make_practice()
    _set(practice, admin, "new@hartley.test")
    staff_services.practice_update_settings(
        actor=admin, practice=practice, name="Hartley & Moss", contact_email="new@hartley.test"
    )
    assert OutboundEmail.objects.filter(template="practice-contact-email-confirm").count() == 1
    _set(practice, admin, "new@hartley.test", resend_contact_email_link=True)
    assert OutboundEmail.objects.filter(template="practice-contact-email-confirm").count() == 2


def test_the_admins_own_verified_login_address_needs_no_link_and_removing_is_immediate():
    practice, admin = make_practice()
    updated = _set(practice, admin, "Admin@Hartley.test")
    assert (updated.contact_email, updated.contact_email_pending) == ("admin@hartley.test", "")
    assert not OutboundEmail.objects.filter(template="practice-contact-email-confirm").exists()
    _set(practice, admin, "new@hartley.test")
    updated = _set(practice, admin, "")
    assert (updated.contact_email, updated.contact_email_pending, updated.contact_email_token_hash) == ("", "", "")


def test_only_an_admins_verified_login_address_matches_an_invitation():
    practice, admin = make_practice()
    EmailAddress.objects.filter(user=admin).update(verified=False)
    company, owner = owned_company()
    assert (
        services.accountant_invite(actor=owner, company=company, practice_email="admin@hartley.test").matched is False
    )
    assert not Client.objects.filter(practice=practice).exists()


def test_two_practices_never_hold_the_same_contact_email():
    first, _ = make_practice()
    second, second_admin = make_practice("Other LLP", "admin@other.test")
    Practice.objects.filter(pk=first.pk).update(contact_email="shared@firm.test")
    _set(second, second_admin, "SHARED@firm.test")  # may be asked for; the link can't confirm it
    with pytest.raises(contact_email.ContactEmailTaken):
        contact_email.contact_email_confirm(token=_link_token())
    second.refresh_from_db()
    assert (second.contact_email, second.contact_email_pending) == ("", "shared@firm.test")
    with pytest.raises(IntegrityError), transaction.atomic():
        Practice.objects.filter(pk=second.pk).update(contact_email="Shared@Firm.test")


def test_the_migration_keeps_only_proven_contact_emails():
    from importlib import import_module

    migration = import_module("partnerdesk.practice.migrations.0010_practice_contact_email_confirmation")
    proven, _ = make_practice()
    typed, _ = make_practice("Other LLP", "admin@other.test")
    Practice.objects.filter(pk=proven.pk).update(contact_email="admin@hartley.test")
    Practice.objects.filter(pk=typed.pk).update(contact_email=VICTIM)
    migration.unproven_contact_emails_wait_for_confirmation(apps, None)
    assert list(Practice.objects.order_by("pk").values_list("contact_email", "contact_email_pending")) == [
        ("admin@hartley.test", ""),
        ("", VICTIM),
    ]


# --- Pages and API ----------------------------------------------------------------------------------------------


def test_settings_page_says_waiting_for_confirmation_and_the_link_confirms_on_post():
    practice, admin = make_practice()
    browser = HttpClient()
    browser.force_login(admin)
    browser.post("/partner/settings/", {"name": "Hartley LLP", "contact_email": VICTIM})
    page = browser.get("/partner/settings/").content.decode()
    assert "waiting for confirmation" in page
    assert f'value="{VICTIM}"' in page
    token = _link_token()
    anonymous = HttpClient()  # the mailbox's owner needs no account
    shown = anonymous.get(f"/partner/contact-email/{token}/")
    assert shown.status_code == 200
    assert "Confirm" in shown.content.decode()
    assert Practice.objects.get(pk=practice.pk).contact_email == ""  # opening the link changes nothing
    done = anonymous.post(f"/partner/contact-email/{token}/")
    assert done.status_code == 200
    assert f"{VICTIM} is now Hartley LLP" in done.content.decode()
    assert Practice.objects.get(pk=practice.pk).contact_email == VICTIM
    assert anonymous.post(f"/partner/contact-email/{token}/").status_code == 404
    assert anonymous.get("/partner/contact-email/pdc_nonsense/").status_code == 404
    assert "waiting for confirmation" not in browser.get("/partner/settings/").content.decode()


def test_api_settings_show_the_waiting_address_and_an_owners_answer_is_the_same_either_way():
    practice, admin = make_practice()
    api = HttpClient()
    api.force_login(admin)
    body = api.patch("/api/v1/practice/settings", {"contact_email": VICTIM}, content_type="application/json").json()
    assert (body["contact_email"], body["contact_email_pending"]) == ("", VICTIM)
    answers = []
    for owner_email, address in (("olive@acme.test", VICTIM), ("bob@bee.test", "admin@hartley.test")):
        company, owner = owned_company(owner_email.split("@")[1].split(".")[0].title() + " Ltd", owner_email)
        owner_api = HttpClient()
        owner_api.force_login(owner)
        response = owner_api.post(
            f"/api/v1/companies/{company.customer_number}/accountant-invitation",
            {"email": address},
            content_type="application/json",
        )
        answers.append((response.status_code, response.json()))
    assert answers[0] == answers[1]  # no enumeration: matched or not, the owner is told the same
    assert list(AccountantInvitation.objects.order_by("pk").values_list("matched", flat=True)) == [False, True]
    assert Client.objects.filter(practice=practice).count() == 1
