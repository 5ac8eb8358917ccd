"""The lifecycle pages: Give client access, Disable/Enable, Stop Managing This Client, activation, former
clients, and the owner's Remove my accountant."""

from __future__ import annotations

import datetime as dt
from unittest import mock

import pytest
from django.test import Client as DjangoClient
from django.urls import reverse
from django.utils import timezone

from partnerdesk.compliance.models import AccountsPeriod
from partnerdesk.identity.models import User
from partnerdesk.identity.tests.factories import PASSWORD, UserFactory
from partnerdesk.practice import lifecycle
from partnerdesk.practice.models import Client, PracticeMember
from partnerdesk.practice.tests.lifecycle_factories import activation_token, managed_client, participating_client
from partnerdesk.practice.tests.staff_factories import add_member, make_practice

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client():
    """The practice admin's browser; tests use the ``client`` fixture as a second, separate browser."""
    practice, admin = make_practice()
    browser = DjangoClient()
    browser.force_login(admin)
    browser.practice = practice  # type: ignore[attr-defined]
    return browser


def test_panel_manage_menu_offers_the_right_actions(admin_client):
    plain = managed_client(admin_client.practice)
    page = admin_client.get(reverse("practice:client", args=[plain.pk]) + "?panel=details").content.decode()
    for words in ("Give client access", "Manage Subscriptions", "Stop Managing This Client"):
        assert words in page
    assert "Disable" not in page
    owned, _ = participating_client(admin_client.practice)
    page = admin_client.get(reverse("practice:client", args=[owned.pk]) + "?panel=details").content.decode()
    assert "Give client access" not in page
    assert "Disable" in page


def test_staff_are_not_offered_stop_managing_or_delete_and_their_direct_links_are_403(client):
    practice, admin = make_practice()
    staff = add_member(practice, "staff@hartley.test", role=PracticeMember.Role.STAFF)  # sees every client
    plain = managed_client(practice)
    imported = managed_client(practice, "Imported Ltd", tab=Client.Tab.IMPORTED)
    client.force_login(staff.user)
    page = client.get(reverse("practice:client", args=[plain.pk]) + "?panel=details").content.decode()
    assert "Give client access" in page
    assert "Stop Managing This Client" not in page
    page = client.get(reverse("practice:client", args=[imported.pk]) + "?panel=details").content.decode()
    assert "Delete Client" not in page
    stop = reverse("practice:stop_managing", args=[plain.pk])
    for response in (
        client.get(stop),
        client.post(stop, {"mode": "delete", "confirm_business_name": "Acme Ltd"}),
        client.post(stop, {"mode": "transfer"}),
    ):
        assert response.status_code == 403
        assert "Only your practice&#x27;s admins can stop managing a client." in response.content.decode()
    delete = reverse("practice:client_delete", args=[imported.pk])
    for response in (client.get(delete), client.post(delete)):
        assert response.status_code == 403
        assert "Only your practice&#x27;s admins can delete a client." in response.content.decode()
    assert Client.objects.filter(pk__in=[plain.pk, imported.pk], ended_at__isnull=True).count() == 2
    client.force_login(admin)
    page = client.get(reverse("practice:client", args=[plain.pk]) + "?panel=details").content.decode()
    assert "Stop Managing This Client" in page
    page = client.get(reverse("practice:client", args=[imported.pk]) + "?panel=details").content.decode()
    assert "Delete Client" in page


def test_give_access_page_names_the_business_and_invites(admin_client):
    plain = managed_client(admin_client.practice)
    url = reverse("practice:give_access", args=[plain.pk])
    page = admin_client.get(url)
    assert "Invite your client" in page.content.decode()
    assert "Acme Ltd" in page.content.decode()
    mismatch = admin_client.post(url, {"email": "a@acme.test", "email_confirm": "b@acme.test"})
    assert mismatch.status_code == 422
    assert "do not match" in mismatch.content.decode()
    assert 'value="a@acme.test"' in mismatch.content.decode()
    done = admin_client.post(url, {"email": "a@acme.test", "email_confirm": "a@acme.test"}, follow=True)
    assert "Awaiting Client Activation" in done.content.decode()
    plain.refresh_from_db()
    assert plain.access == Client.Access.INVITED


def test_give_access_says_which_details_to_amend(admin_client):
    plain = managed_client(admin_client.practice, postcode="")
    page = admin_client.get(reverse("practice:give_access", args=[plain.pk])).content.decode()
    assert "Missing: Postcode" in page
    assert "Amend details" in page


def test_disable_asks_yes_then_enable(admin_client):
    owned, _ = participating_client(admin_client.practice)
    url = reverse("practice:access_disable", args=[owned.pk])
    assert "Yes" in admin_client.get(url).content.decode()
    page = admin_client.post(url, follow=True).content.decode()
    assert "Client access disabled" in page
    admin_client.post(reverse("practice:access_enable", args=[owned.pk]))
    owned.refresh_from_db()
    assert owned.access == Client.Access.BOTH


def test_disabled_client_sees_the_disabled_message(admin_client, client):
    owned, owner = participating_client(admin_client.practice)
    admin_client.post(reverse("practice:access_disable", args=[owned.pk]))
    client.force_login(owner)
    page = client.get(reverse("identity:company", args=[owned.company.customer_number]))
    assert page.status_code == 403
    assert "disabled your access" in page.content.decode()


def test_stop_non_participating_offers_transfer_or_delete(admin_client):
    plain = managed_client(admin_client.practice, email="c@acme.test")
    url = reverse("practice:stop_managing", args=[plain.pk])
    page = admin_client.get(url).content.decode()
    assert "Transfer this data and subscription to your client" in page
    assert "Delete this data and cancel the subscription" in page
    wrong = admin_client.post(url, {"mode": "delete", "confirm_business_name": "nope"})
    assert wrong.status_code == 422
    assert "Type Acme Ltd exactly" in wrong.content.decode()
    done = admin_client.post(url, {"mode": "transfer"}, follow=True).content.decode()
    assert "You no longer manage Acme Ltd" in done
    assert not Client.objects.filter(pk=plain.pk).exists()


def test_delete_is_refused_with_a_link_while_final_accounts_data_exists(admin_client):
    plain = managed_client(admin_client.practice)
    AccountsPeriod.objects.create(
        practice=admin_client.practice, client=plain, period_start=dt.date(2025, 1, 1), period_end=dt.date(2025, 12, 31)
    )
    url = reverse("practice:stop_managing", args=[plain.pk])
    page = admin_client.post(url, {"mode": "delete", "confirm_business_name": "Acme Ltd"})
    assert page.status_code == 422
    assert "Final Accounts data" in page.content.decode()
    assert f"/partner/clients/{plain.pk}/final-accounts/" in page.content.decode()
    assert Client.objects.filter(pk=plain.pk).exists()


def test_past_clients_lists_those_whose_final_accounts_data_is_kept(admin_client):
    kept = managed_client(admin_client.practice, "Kept Ltd")
    AccountsPeriod.objects.create(
        practice=admin_client.practice, client=kept, period_start=dt.date(2025, 1, 1), period_end=dt.date(2025, 12, 31)
    )
    gone = managed_client(admin_client.practice, "Gone Ltd")
    Client.objects.filter(pk__in=[kept.pk, gone.pk]).update(ended_at=timezone.now(), ended_reason="transferred")
    page = admin_client.get(reverse("practice:former_clients")).content.decode()
    assert "<h1>Past clients</h1>" in page  # the menu's word
    assert "Kept Ltd" in page
    assert "Gone Ltd" not in page
    assert "Clients you stopped managing without Final Accounts data are not listed." in page


def test_stop_participating_is_a_yes(admin_client):
    owned, _ = participating_client(admin_client.practice)
    url = reverse("practice:stop_managing", args=[owned.pk])
    assert "cannot be reverted to accountant paying" in admin_client.get(url).content.decode()
    admin_client.post(url)
    assert Client.all_objects.get(pk=owned.pk).ended_reason == "transferred"


ENDED_MESSAGE = "Your practice no longer manages this client: someone has just stopped managing it."


def test_acting_on_a_client_a_colleague_just_stopped_managing_says_so_on_the_client_list(admin_client, client):
    owned, _ = participating_client(admin_client.practice)
    colleague = add_member(admin_client.practice, "colleague@hartley.test", role="admin")
    client.force_login(colleague.user)
    stop_page = client.get(reverse("practice:stop_managing", args=[owned.pk]))  # opened before the admin stopped
    assert stop_page.status_code == 200
    admin_client.post(reverse("practice:stop_managing", args=[owned.pk]))
    for name in ("give_access", "access_disable", "access_enable", "stop_managing", "access_resend", "access_cancel"):
        late = client.post(reverse(f"practice:{name}", args=[owned.pk]))
        assert late.status_code == 302, name
        assert late["Location"] == reverse("practice:clients")
        assert ENDED_MESSAGE in client.get(late["Location"]).content.decode()
    assert Client.all_objects.get(pk=owned.pk).ended_reason == "transferred"


def test_the_panel_of_a_client_a_colleague_just_stopped_managing_says_so(admin_client, client):
    """A link to the panel (an email, a list opened before) of a client the practice no longer manages: the client
    list with the reason, also for htmx (a client-side redirect, not the list inside the panel); others: 404."""
    owned, _ = participating_client(admin_client.practice)
    admin_client.post(reverse("practice:stop_managing", args=[owned.pk]))
    panel = reverse("practice:client", args=[owned.pk])
    page = admin_client.get(panel)
    assert (page.status_code, page["Location"]) == (302, reverse("practice:clients"))
    assert ENDED_MESSAGE in admin_client.get(page["Location"]).content.decode()
    htmx = admin_client.get(panel, headers={"HX-Request": "true"})
    assert (htmx.status_code, htmx["HX-Redirect"]) == (200, reverse("practice:clients"))
    # Opened from a searched list: back to that list.
    searched = admin_client.get(f"{panel}?tab=active&q=bak&panel=history", headers={"HX-Request": "true"})
    assert searched["HX-Redirect"] == f"{reverse('practice:clients')}?tab=active&q=bak"
    _other_practice, other_admin = make_practice("Other LLP", "admin@other.test")
    client.force_login(other_admin)
    assert client.get(panel).status_code == 404


def test_a_client_stopped_between_the_page_check_and_the_change_says_so_too(admin_client, client):
    """The page found the client live; the service, a moment later, found it ended (its 409)."""
    plain = managed_client(admin_client.practice, email="ada@acme.test")
    live = Client.objects.select_related("company", "company__owner").get(pk=plain.pk)
    colleague = add_member(admin_client.practice, "colleague@hartley.test", role="admin")
    client.force_login(colleague.user)
    admin_client.post(
        reverse("practice:stop_managing", args=[plain.pk]), {"mode": "transfer", "confirm_business_name": ""}
    )
    assert Client.all_objects.get(pk=plain.pk).ended_at is not None
    with mock.patch("partnerdesk.practice.lifecycle_views.client_for_member", return_value=live):
        late = client.post(reverse("practice:stop_managing", args=[plain.pk]), {"mode": "transfer"})
    assert late.status_code == 302
    assert ENDED_MESSAGE in client.get(late["Location"]).content.decode()


def test_other_practice_gets_404_on_every_lifecycle_page(admin_client, client):
    plain = managed_client(admin_client.practice)
    _, other_admin = make_practice("Other LLP", "admin@other.test")
    client.force_login(other_admin)
    for name in ("give_access", "access_disable", "access_enable", "stop_managing"):
        assert client.get(reverse(f"practice:{name}", args=[plain.pk])).status_code == 404
        assert client.post(reverse(f"practice:{name}", args=[plain.pk])).status_code == 404
    for name in ("access_resend", "access_cancel"):
        assert client.post(reverse(f"practice:{name}", args=[plain.pk])).status_code == 404


def test_activation_page_new_account_then_signed_in_as_owner(admin_client, client):
    plain = managed_client(admin_client.practice)
    admin_client.post(
        reverse("practice:give_access", args=[plain.pk]), {"email": "new@acme.test", "email_confirm": "new@acme.test"}
    )
    url = reverse("practice:activate", args=[activation_token("new@acme.test")])
    page = client.get(url).content.decode()
    assert "Acme Ltd" in page
    assert "Choose a password" in page
    weak = client.post(url, {"full_name": "Ada", "password1": "short", "password2": "short"})
    assert weak.status_code == 422
    done = client.post(url, {"full_name": "Ada", "password1": PASSWORD, "password2": PASSWORD})
    assert done.status_code == 302
    assert plain.company.customer_number in done["Location"]
    assert client.get(done["Location"]).status_code == 200
    used = client.get(url)
    assert used.status_code == 410
    assert "already been used" in used.content.decode()


def test_choosing_a_password_on_a_link_used_meanwhile_in_another_browser_says_used_sign_in(admin_client, client):
    plain = managed_client(admin_client.practice)
    admin_client.post(
        reverse("practice:give_access", args=[plain.pk]), {"email": "new@acme.test", "email_confirm": "new@acme.test"}
    )
    token = activation_token("new@acme.test")
    opened = lifecycle.activation_for_token(token=token)  # both browsers opened the link while it was unused
    lifecycle.client_access_activate_new_account(token=token, full_name="Ada", password=PASSWORD)
    with mock.patch.object(lifecycle, "activation_for_token", return_value=opened):
        late = client.post(
            reverse("practice:activate", args=[token]),
            {"full_name": "Ada", "password1": PASSWORD, "password2": PASSWORD},
        )
    assert late.status_code == 410
    page = late.content.decode()
    assert "This invitation has already been used." in page
    assert "sign in</a>" in page
    assert User.objects.filter(email="new@acme.test").count() == 1


def test_activation_page_for_someone_signed_in_with_another_email(admin_client, client):
    plain = managed_client(admin_client.practice)
    admin_client.post(
        reverse("practice:give_access", args=[plain.pk]), {"email": "new@acme.test", "email_confirm": "new@acme.test"}
    )
    client.force_login(UserFactory.create(email="other@else.test"))
    page = client.get(reverse("practice:activate", args=[activation_token("new@acme.test")]))
    assert page.status_code == 403
    assert "Switch account" in page.content.decode()
    assert "new@acme.test" in page.content.decode()


def test_activation_existing_account_signs_in_then_accepts(admin_client, client):
    plain = managed_client(admin_client.practice)
    person = UserFactory.create(email="new@acme.test")
    admin_client.post(
        reverse("practice:give_access", args=[plain.pk]), {"email": "new@acme.test", "email_confirm": "new@acme.test"}
    )
    url = reverse("practice:activate", args=[activation_token("new@acme.test")])
    assert "Sign in" in client.get(url).content.decode()
    client.force_login(person)
    assert "Accept" in client.get(url).content.decode()
    client.post(url)
    plain.refresh_from_db()
    assert plain.access == Client.Access.BOTH


def test_unknown_activation_link(client):
    page = client.get(reverse("practice:activate", args=["not-a-token"]))
    assert page.status_code == 404
    assert "not valid" in page.content.decode()


def test_former_clients_lists_ended_clients_with_final_accounts_data(admin_client):
    owned, _owner = participating_client(admin_client.practice)
    AccountsPeriod.objects.create(
        practice=admin_client.practice, client=owned, period_start=dt.date(2025, 1, 1), period_end=dt.date(2025, 12, 31)
    )
    admin_client.post(reverse("practice:stop_managing", args=[owned.pk]))
    page = admin_client.get(reverse("practice:former_clients")).content.decode()
    assert "Owned Ltd" in page
    assert "Final Accounts" in page


def test_owner_removes_my_accountant_from_the_portal(admin_client, client):
    owned, owner = participating_client(admin_client.practice)
    client.force_login(owner)
    url = reverse("identity:company_accountant_remove", args=[owned.company.customer_number])
    asked = client.get(url).content.decode()
    assert "Remove my accountant" in asked
    assert "You will pay for your subscription yourself, at the full price" in asked  # accountant-paying today
    assert "You will be asked for your Direct Debit details." in asked
    removed = client.post(url, follow=True)
    # Straight to Payment details, with what to do there.
    payment = reverse("identity:company_payment", args=[owned.company.customer_number])
    assert removed.redirect_chain == [(payment, 302)]
    assert "no longer manages this subscription. Enter your Direct Debit details" in removed.content.decode()
    assert Client.all_objects.get(pk=owned.pk).ended_reason == "revoked_by_client"
    user = User.objects.create_user(email="user@owned.test", password=PASSWORD)
    client.force_login(user)
    assert client.get(url).status_code == 404


def test_an_owner_who_already_pays_is_told_nothing_changes_in_what_they_pay(admin_client, client):
    owned, owner = participating_client(admin_client.practice)
    Client.objects.filter(pk=owned.pk).update(payer="client")
    client.force_login(owner)
    url = reverse("identity:company_accountant_remove", args=[owned.company.customer_number])
    asked = client.get(url).content.decode()
    assert "Nothing changes in what you pay: you already pay for your subscription yourself." in asked
    assert "at the full price" not in asked


def test_after_a_stop_the_owner_sees_the_direct_debit_banner_and_the_message(admin_client, client):
    owned, owner = participating_client(admin_client.practice)
    admin_client.post(reverse("practice:stop_managing", args=[owned.pk]))
    client.force_login(owner)
    page = client.get(reverse("identity:company", args=[owned.company.customer_number])).content.decode()
    assert "Enter your Direct Debit details." in page
    assert reverse("identity:company_payment", args=[owned.company.customer_number]) in page
    assert "no longer manages Owned Ltd" in page


def test_former_clients_show_50_a_page(admin_client):
    from partnerdesk.identity.models import Company

    practice = admin_client.practice
    companies = Company.objects.bulk_create(
        [
            Company(business_name=f"F{i}", customer_number=f"{30000000 + i}", registration_id=f"MBR{i:08d}")
            for i in range(55)
        ]
    )
    ended = timezone.now()
    formers = Client.all_objects.bulk_create(
        [
            Client(
                practice=practice,
                company=company,
                business_name=f"Former {i:02d}",
                ended_at=ended,
                ended_reason=Client.Ended.REVOKED_BY_CLIENT,
            )
            for i, company in enumerate(companies)
        ]
    )
    AccountsPeriod.objects.bulk_create(
        [
            AccountsPeriod(
                practice=practice, client=former, period_start=dt.date(2024, 4, 1), period_end=dt.date(2025, 3, 31)
            )
            for former in formers
        ]
    )
    url = reverse("practice:former_clients")
    first = admin_client.get(url).content.decode()
    assert first.count("Final Accounts</a>") == 50
    assert "Former 49" in first
    assert "Former 50" not in first
    assert 'href="?page=2"' in first
    second = admin_client.get(url, {"page": "2"}).content.decode()
    assert second.count("Final Accounts</a>") == 5
    assert "Page 2 of 2" in second
