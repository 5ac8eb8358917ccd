import pytest

from partnerdesk.audit.models import Action, Event
from partnerdesk.billing import selectors, services
from partnerdesk.billing.models import Licence, SubscriptionItem
from partnerdesk.billing.tests.subscription_factories import imported_client, make_practice, make_service
from partnerdesk.lib.errors import DomainError, NotFound
from partnerdesk.practice.models import Client
from partnerdesk.practice.tests.lifecycle_factories import emailed

pytestmark = pytest.mark.django_db


@pytest.fixture
def setup():
    return make_practice()


@pytest.fixture
def catalogue():
    return [make_service("t-accounts", order=1), make_service("t-payroll", order=2)]


def test_accountant_paying_moves_clients_to_active_with_discounted_licences(setup, catalogue):
    clients = [imported_client(setup, f"Imported {i} Ltd") for i in range(3)]
    moved = services.clients_add_subscriptions(
        member=setup.member, client_ids=[c.pk for c in clients], services=catalogue, payer="accountant"
    )
    assert len(moved) == 3
    for client in clients:
        client.refresh_from_db()
        assert (client.tab, client.payer) == ("active", "accountant")
        licence = Licence.objects.get(company=client.company)
        assert (licence.payer, licence.practice_id, licence.discounted) == ("accountant", setup.practice.pk, True)
        assert licence.starts_on == selectors.today()
        assert {i.service.code for i in selectors.active_services(company=client.company)} == {
            "t-accounts",
            "t-payroll",
        }
    assert Event.objects.filter(action=Action.SUBSCRIPTION_ADD, practice=setup.practice).count() == 3


def test_client_paying_sets_the_client_payer_and_a_full_rrp_licence(setup, catalogue):
    client = _ready_for_access(imported_client(setup, "Self Ltd"), "owner@self.test")
    services.clients_add_subscriptions(
        member=setup.member, client_ids=[client.pk], services=catalogue[:1], payer="client", give_access=[client.pk]
    )
    client.refresh_from_db()
    assert (client.tab, client.payer, client.access) == ("active", "client", "invited")
    licence = Licence.objects.get(company=client.company)
    assert (licence.payer, licence.practice_id, licence.discounted) == ("client", None, False)


def test_client_paying_is_refused_for_a_client_left_without_a_login(setup, catalogue):
    with_login = _ready_for_access(imported_client(setup, "Self Ltd"), "owner@self.test")
    without = imported_client(setup, "Fenwick Haulage")
    with pytest.raises(DomainError, match="tick Client access for Fenwick Haulage") as exc:
        services.clients_add_subscriptions(
            member=setup.member,
            client_ids=[with_login.pk, without.pk],
            services=catalogue[:1],
            payer="client",
            give_access=[with_login.pk],
        )
    assert (exc.value.code, exc.value.status) == ("client_paying_needs_login", 422)
    assert not Licence.objects.exists()
    assert not SubscriptionItem.objects.exists()
    assert set(Client.objects.values_list("tab", flat=True)) == {"imported"}


def test_more_than_50_clients_are_refused(setup, catalogue):
    clients = [imported_client(setup, f"Imported {i:02d} Ltd") for i in range(51)]
    with pytest.raises(DomainError) as exc:
        services.clients_add_subscriptions(
            member=setup.member, client_ids=[c.pk for c in clients], services=catalogue, payer="accountant"
        )
    assert exc.value.code == "too_many_clients"
    assert "50" in exc.value.message
    assert not SubscriptionItem.objects.exists()
    assert Client.objects.filter(tab="imported").count() == 51


def test_50_clients_in_a_bounded_number_of_queries(setup, catalogue, django_assert_max_num_queries):
    clients = [imported_client(setup, f"Imported {i:02d} Ltd") for i in range(50)]
    with django_assert_max_num_queries(220):  # a licence each (lock, close, insert); everything else set-based
        services.clients_add_subscriptions(
            member=setup.member, client_ids=[c.pk for c in clients], services=catalogue, payer="accountant"
        )
    assert SubscriptionItem.objects.count() == 100


def test_another_practices_clients_are_not_found_and_active_ones_already_added(setup, catalogue):
    other = make_practice("Other LLP")
    theirs = imported_client(other, "Theirs Ltd")
    with pytest.raises(NotFound):
        services.clients_add_subscriptions(
            member=setup.member, client_ids=[theirs.pk], services=catalogue, payer="accountant"
        )
    mine = imported_client(setup, "Mine Ltd")
    services.clients_add_subscriptions(
        member=setup.member, client_ids=[mine.pk], services=catalogue, payer="accountant"
    )
    with pytest.raises(services.ClientsNotImported, match="already added for Mine Ltd"):  # now Active
        services.clients_add_subscriptions(
            member=setup.member, client_ids=[mine.pk], services=catalogue, payer="accountant"
        )


def test_imported_page_from_the_list_selection_to_the_active_tab(client, setup, catalogue):
    a, b = imported_client(setup, "Alpha Ltd"), imported_client(setup, "Beta Ltd")
    client.force_login(setup.admin)
    listing = client.get("/partner/clients/?tab=imported").content.decode()
    assert "Add subscriptions" in listing
    # The list's form posts its row checkboxes ("client"); the page keeps the selection in the URL.
    hop = client.post("/partner/clients/imported/subscriptions/", {"client": [a.pk, b.pk]})
    assert hop.status_code == 302
    assert hop["Location"] == f"/partner/clients/imported/subscriptions/?ids={a.pk}&ids={b.pk}"
    page = client.get(hop["Location"]).content.decode()
    assert "Alpha Ltd" in page
    assert "Beta Ltd" in page
    assert "Who pays" in page
    done = client.post(
        "/partner/clients/imported/subscriptions/",
        {"action": "apply", "ids": [a.pk, b.pk], "services": [catalogue[0].pk], "payer": "accountant"},
    )
    assert done.status_code == 302
    assert done["Location"] == "/partner/clients/?tab=active"
    assert set(Client.objects.filter(tab="active").values_list("pk", flat=True)) == {a.pk, b.pk}
    # Back, then Add subscriptions again: told what happened, nothing applied twice.
    again = client.post(
        "/partner/clients/imported/subscriptions/",
        {"action": "apply", "ids": [a.pk, b.pk], "services": [catalogue[0].pk], "payer": "accountant"},
    )
    assert "no longer on the Imported tab: their subscriptions were added" in again.content.decode()
    assert SubscriptionItem.objects.filter(company_id__in=[a.company_id, b.company_id]).count() == 2


def test_imported_page_refuses_51_with_a_clear_error(client, setup):
    clients = [imported_client(setup, f"Imported {i:02d} Ltd") for i in range(51)]
    client.force_login(setup.admin)
    response = client.get("/partner/clients/imported/subscriptions/", {"ids": [c.pk for c in clients]})
    assert response.status_code == 400
    assert "at most 50 clients" in response.content.decode()


def test_imported_page_needs_a_service_and_a_payer(client, setup):
    a = imported_client(setup, "Alpha Ltd")
    client.force_login(setup.admin)
    response = client.post("/partner/clients/imported/subscriptions/", {"action": "apply", "ids": [a.pk]})
    assert response.status_code == 400
    body = response.content.decode()
    assert "Choose at least one service." in body
    assert "Choose who pays." in body
    a.refresh_from_db()
    assert a.tab == "imported"


def _ready_for_access(client: Client, email: str) -> Client:
    Client.objects.filter(pk=client.pk).update(
        email=email, contact_name="Pat Owner", address="1 High Street", postcode="LS1 1AA"
    )
    client.refresh_from_db()
    return client


def test_give_access_invites_the_chosen_clients_in_the_same_transaction(setup, catalogue):
    from partnerdesk.practice.models import ClientAccessInvitation

    a = _ready_for_access(imported_client(setup, "Alpha Ltd"), "owner@alpha.test")
    b = imported_client(setup, "Beta Ltd")
    moved = services.clients_add_subscriptions(
        member=setup.member, client_ids=[a.pk, b.pk], services=catalogue[:1], payer="accountant", give_access=[a.pk]
    )
    assert {c.pk: c.access for c in moved} == {a.pk: "invited", b.pk: "none"}
    a.refresh_from_db()
    b.refresh_from_db()
    assert (a.tab, a.access, b.tab, b.access) == ("active", "invited", "active", "none")
    invitation = ClientAccessInvitation.objects.get(client=a)
    assert (invitation.email, invitation.status) == ("owner@alpha.test", "pending")
    assert not ClientAccessInvitation.objects.filter(client=b).exists()
    assert Event.objects.filter(action=Action.CLIENT_ACCESS_INVITE, client=a).count() == 1
    assert emailed("client-activation", "owner@alpha.test")


def test_give_access_with_incomplete_details_refuses_the_whole_batch(setup, catalogue):
    a = _ready_for_access(imported_client(setup, "Alpha Ltd"), "owner@alpha.test")
    b = imported_client(setup, "Beta Ltd")  # no email, contact, address or postcode
    with pytest.raises(DomainError) as refused:
        services.clients_add_subscriptions(
            member=setup.member,
            client_ids=[a.pk, b.pk],
            services=catalogue[:1],
            payer="accountant",
            give_access=[a.pk, b.pk],
        )
    assert refused.value.code == "client_details_incomplete"
    assert "Beta Ltd (" in refused.value.message
    assert "Email" in refused.value.message
    assert "Alpha Ltd" not in refused.value.message
    # Nothing written: both still imported, no licence, no items.
    assert set(Client.objects.values_list("tab", flat=True)) == {"imported"}
    assert not Licence.objects.exists()
    assert not SubscriptionItem.objects.exists()


def test_give_access_only_for_clients_in_the_batch(setup, catalogue):
    a = _ready_for_access(imported_client(setup, "Alpha Ltd"), "owner@alpha.test")
    other = _ready_for_access(imported_client(setup, "Other Ltd"), "owner@other.test")
    with pytest.raises(NotFound):
        services.clients_add_subscriptions(
            member=setup.member, client_ids=[a.pk], services=catalogue[:1], payer="client", give_access=[other.pk]
        )
    assert not Client.objects.filter(tab="active").exists()


def test_imported_page_offers_client_access_per_client(client, setup, catalogue):
    a = _ready_for_access(imported_client(setup, "Alpha Ltd"), "owner@alpha.test")
    b = imported_client(setup, "Beta Ltd")
    client.force_login(setup.admin)
    page = client.get("/partner/clients/imported/subscriptions/", {"ids": [a.pk, b.pk]}).content.decode()
    assert f'id="give-access-{a.pk}"' in page
    assert "To give access, amend their details first: Contact name, Address, Postcode, Email missing." in page
    done = client.post(
        "/partner/clients/imported/subscriptions/",
        {
            "action": "apply",
            "ids": [a.pk, b.pk],
            "services": [catalogue[0].pk],
            "payer": "accountant",
            "give_access": [a.pk],
        },
    )
    assert done.status_code == 302
    a.refresh_from_db()
    assert a.access == "invited"
    followed = client.get(done["Location"]).content.decode()
    assert "1 activation email sent." in followed
    assert "Awaiting Client Activation" in followed
