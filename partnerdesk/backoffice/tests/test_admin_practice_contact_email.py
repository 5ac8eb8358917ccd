"""The back office never types a practice's contact email in: its Practice page shows the address read-only and
"Send confirmation to a new address" starts the practice's own Settings flow (decision 71): a link to the new
address, the address in use told, nothing changed until someone opens the link. Audited; the practice's admins are
told."""

from __future__ import annotations

import pytest
from allauth.account.models import EmailAddress
from django.contrib.auth.models import Group
from django.test import Client as HttpClient

from partnerdesk.audit.models import Action, Event
from partnerdesk.identity.models import User
from partnerdesk.identity.tests.factories import UserFactory
from partnerdesk.lib.tokens import hash_token
from partnerdesk.notifications.models import Message, OutboundEmail
from partnerdesk.notifications.tasks import render_email
from partnerdesk.practice import contact_email
from partnerdesk.practice.models import Practice
from partnerdesk.practice.tests.staff_factories import make_practice

pytestmark = pytest.mark.django_db

OLD, NEW = "office@hartley.test", "accounts@hartley.test"


@pytest.fixture
def practice() -> Practice:
    practice, _admin = make_practice()
    Practice.objects.filter(pk=practice.pk).update(contact_email=OLD)
    practice.refresh_from_db()
    return practice


@pytest.fixture
def customer_services() -> tuple[HttpClient, User]:
    """As deployed: staff in the "Customer services" group (view permission on practices), not a superuser."""
    user = User.objects.create_user(
        email="cs@partnerdesk.test", password="x" * 16, full_name="Casey Services", is_staff=True
    )
    user.groups.add(Group.objects.get(name="Customer services"))
    http = HttpClient()
    http.force_login(user)
    return http, user


def _url(practice: Practice) -> str:
    return f"/admin/practice/practice/{practice.pk}/contact-email/"


def _confirmation_token() -> str:
    email = OutboundEmail.objects.filter(template="practice-contact-email-confirm").order_by("created_at").last()
    assert email is not None
    return str(email.context["confirmation_path"]).rstrip("/").rsplit("/", 1)[-1]


def test_the_practice_page_shows_the_contact_email_read_only_with_the_action(practice, customer_services):
    http, _ = customer_services
    superuser = UserFactory.create(is_staff=True, is_superuser=True)
    as_superuser = HttpClient()
    as_superuser.force_login(superuser)
    for client in (http, as_superuser):
        page = client.get(f"/admin/practice/practice/{practice.pk}/change/").content.decode()
        assert 'name="contact_email"' not in page
        assert f"<strong>{OLD}</strong>" in page
        assert f'href="{_url(practice)}"' in page
        assert "Send confirmation to a new address" in page
    # Adding is Set up a practice (decision 78): its contact email waits for its confirmation link, as here.
    add_page = as_superuser.get("/admin/practice/practice/add/").content.decode()
    assert "Set up a practice" in add_page
    assert "confirmation link" in add_page


def test_a_typed_contact_email_in_the_change_form_is_ignored(practice):
    """Even a superuser's POST with a contact_email field changes nothing (the form has no such field)."""
    superuser = UserFactory.create(is_staff=True, is_superuser=True)
    http = HttpClient()
    http.force_login(superuser)
    admin_member = practice.members.get()
    response = http.post(
        f"/admin/practice/practice/{practice.pk}/change/",
        {
            "company": str(practice.company_id),
            "contact_email": "attacker@evil.test",
            "created_at_0": practice.created_at.strftime("%Y-%m-%d"),
            "created_at_1": practice.created_at.strftime("%H:%M:%S"),
            "members-TOTAL_FORMS": "1",
            "members-INITIAL_FORMS": "1",
            "members-MIN_NUM_FORMS": "0",
            "members-MAX_NUM_FORMS": "1000",
            "members-0-id": str(admin_member.pk),
            "members-0-practice": str(practice.pk),
            "members-0-user": str(admin_member.user_id),
            "members-0-role": "admin",
            "members-0-sees_all_clients": "on",
            "members-0-created_at_0": admin_member.created_at.strftime("%Y-%m-%d"),
            "members-0-created_at_1": admin_member.created_at.strftime("%H:%M:%S"),
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    practice.refresh_from_db()
    assert (practice.contact_email, practice.contact_email_pending) == (OLD, "")
    assert not OutboundEmail.objects.exists()


def test_customer_services_sends_a_confirmation_link_and_nothing_changes_until_it_is_opened(
    practice, customer_services
):
    http, cs = customer_services
    form = http.get(_url(practice))
    assert form.status_code == 200
    assert "New contact email" in form.content.decode()
    response = http.post(_url(practice), {"email": " Accounts@Hartley.test "}, follow=True)
    assert response.redirect_chain[-1][0] == f"/admin/practice/practice/{practice.pk}/change/"
    page = response.content.decode()
    assert (
        f"A confirmation link was sent to {NEW}. The contact email stays {OLD} until someone opens the link; "
        f"{OLD} was told. The practice&#x27;s admins have a message about it."
    ) in page
    assert f"Waiting for confirmation: <strong>{NEW}</strong> (a link was sent to it, usable until" in page

    practice.refresh_from_db()
    assert (practice.contact_email, practice.contact_email_pending) == (OLD, NEW)
    token = _confirmation_token()
    assert practice.contact_email_token_hash == hash_token(token)
    [confirm] = OutboundEmail.objects.filter(template="practice-contact-email-confirm")
    assert confirm.to == [NEW]
    assert "Partnerdesk Customer Services asked for this address to be Hartley LLP's contact email" in str(
        render_email(confirm).body
    )
    [told] = OutboundEmail.objects.filter(template="practice-contact-email-change-requested")
    assert told.to == [OLD]
    assert "Partnerdesk Customer Services asked for Hartley LLP's contact email" in str(render_email(told).body)
    event = Event.objects.get(action=Action.PRACTICE_SETTINGS_UPDATE, practice=practice)
    assert event.actor == cs
    assert event.data == {"contact_email_pending": {"from": "", "to": NEW}, "via": "backoffice"}
    message = Message.objects.get(practice=practice)
    assert message.subject == f"Customer Services asked to change your contact email to {NEW}"
    assert f"until then it stays as it is ({OLD})" in message.body
    assert message.link == "/partner/settings/"
    # The practice's Settings say the same as when an admin asked.
    admin = HttpClient()
    admin.force_login(practice.members.get().user)
    assert "waiting for confirmation" in admin.get("/partner/settings/").content.decode()

    confirmed = contact_email.contact_email_confirm(token=token)
    assert (confirmed.contact_email, confirmed.contact_email_pending) == (NEW, "")


def test_customer_services_own_login_address_proves_nothing(practice, customer_services):
    http, cs = customer_services
    EmailAddress.objects.create(user=cs, email=cs.email, verified=True, primary=True)
    http.post(_url(practice), {"email": cs.email})
    practice.refresh_from_db()
    assert (practice.contact_email, practice.contact_email_pending) == (OLD, cs.email)
    assert OutboundEmail.objects.filter(template="practice-contact-email-confirm", to=[cs.email]).exists()


def test_sending_again_to_the_waiting_address_makes_the_earlier_link_stop_working(practice, customer_services):
    http, _ = customer_services
    http.post(_url(practice), {"email": NEW})
    first = _confirmation_token()
    http.post(_url(practice), {"email": NEW})
    second = _confirmation_token()
    assert first != second
    assert contact_email.pending_for_token(token=first) is None
    assert contact_email.pending_for_token(token=second) == practice


@pytest.mark.parametrize(
    ("typed", "error"),
    [
        (OLD, "That is already the practice&#x27;s contact email."),
        ("taken@other.test", "already another practice&#x27;s contact email"),
        ("not-an-address", "Enter a valid email address."),
    ],
)
def test_refused_addresses_are_form_errors_and_send_nothing(practice, customer_services, typed, error):
    other, _ = make_practice("Other LLP", "admin@other.test")
    Practice.objects.filter(pk=other.pk).update(contact_email="taken@other.test")
    http, _ = customer_services
    response = http.post(_url(practice), {"email": typed})
    assert response.status_code == 200
    assert error in response.content.decode()
    practice.refresh_from_db()
    assert (practice.contact_email, practice.contact_email_pending) == (OLD, "")
    assert not OutboundEmail.objects.exists()
    assert not Event.objects.filter(practice=practice).exists()
    assert not Message.objects.exists()


def test_only_back_office_staff_who_may_view_practices_can_use_it(practice):
    no_permission = User.objects.create_user(email="intern@partnerdesk.test", password="x" * 16, is_staff=True)
    http = HttpClient()
    http.force_login(no_permission)
    assert http.get(_url(practice)).status_code == 403
    assert http.post(_url(practice), {"email": NEW}).status_code == 403
    outsider = HttpClient()
    outsider.force_login(practice.members.get().user)  # a practice admin, not back office
    assert outsider.post(_url(practice), {"email": NEW}).status_code == 302  # to the admin's sign-in
    practice.refresh_from_db()
    assert practice.contact_email_pending == ""
    assert not OutboundEmail.objects.exists()


def test_an_unknown_practice_is_a_404(customer_services):
    http, _ = customer_services
    assert http.get("/admin/practice/practice/999999/contact-email/").status_code == 404


def test_the_page_says_when_the_waiting_addresss_link_expired_or_was_never_sent(practice, customer_services):
    import datetime as dt

    from django.utils import timezone

    http, _ = customer_services
    page_url = f"/admin/practice/practice/{practice.pk}/change/"
    Practice.objects.filter(pk=practice.pk).update(contact_email_pending=NEW)  # decision 71's migration: no link
    assert (
        f"Waiting for confirmation: <strong>{NEW}</strong> (no link sent).</p>" in http.get(page_url).content.decode()
    )
    Practice.objects.filter(pk=practice.pk).update(
        contact_email_token_hash="a" * 64, contact_email_token_expires_at=timezone.now() - dt.timedelta(days=1)
    )
    assert "(its link expired on " in http.get(page_url).content.decode()


def test_the_practices_messages_page_shows_what_customer_services_started(practice, customer_services):
    http, _ = customer_services
    http.post(_url(practice), {"email": NEW})
    admin = HttpClient()
    admin.force_login(practice.members.get().user)
    page = admin.get("/partner/messages/").content.decode()
    assert f"Customer Services asked to change your contact email to {NEW}" in page
    assert "changes Customer Services started for you" in page
