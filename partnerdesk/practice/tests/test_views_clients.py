import pytest

from partnerdesk.identity.services import company_create
from partnerdesk.identity.tests.factories import UserFactory
from partnerdesk.practice.models import Client, Practice, PracticeMember

pytestmark = pytest.mark.django_db


def _practice(name: str, member_email: str):
    company = company_create(business_name=name)
    practice = Practice.objects.create(company=company, name=name)
    user = UserFactory.create(email=member_email)
    PracticeMember.objects.create(practice=practice, user=user, role="admin")
    return practice, user


def _client(practice, name, **facts):
    return Client.objects.create(
        practice=practice, company=company_create(business_name=name), business_name=name, **facts
    )


def test_client_list_shows_own_practice_active_clients_only(client):
    mine, me = _practice("Mine LLP", "me@mine.test")
    theirs, _ = _practice("Theirs LLP", "them@theirs.test")
    _client(mine, "Alpha Ltd", access="invited")
    _client(mine, "Hidden Ltd", hidden=True)
    _client(mine, "Waiting Ltd", tab="pending")
    _client(theirs, "Other Practice Client Ltd")
    client.force_login(me)
    body = client.get("/partner/clients/").content.decode()
    assert "Alpha Ltd" in body
    assert "Awaiting Client Activation" in body
    assert "Hidden Ltd" not in body
    assert "Waiting Ltd" not in body
    assert "Other Practice Client Ltd" not in body
    assert "Waiting Ltd" in client.get("/partner/clients/?tab=pending").content.decode()


def test_client_list_is_404_for_non_members(client):
    client.force_login(UserFactory.create())
    assert client.get("/partner/clients/").status_code == 404


def test_client_list_query_count_does_not_grow_with_clients(client, django_assert_max_num_queries):
    practice, me = _practice("Mine LLP", "me@mine.test")
    for i in range(30):
        _client(practice, f"Client {i:02d} Ltd")
    client.force_login(me)
    client.get("/partner/clients/")  # first request of the session records the device (throttled after)
    # session, user, membership, tab counts, staff, rows, companies, services (the Services column), the service
    # filter's choices; a search or filter adds the COUNT of what it leaves (the tab's count is the whole tab's)
    with django_assert_max_num_queries(9):
        response = client.get("/partner/clients/")
    assert response.content.decode().count("<tr data-row-link") == 30
    with django_assert_max_num_queries(10):
        response = client.get("/partner/clients/", {"q": "Client"})
    assert response.content.decode().count("<tr data-row-link") == 30


def test_sidebar_shows_clients_and_staff_to_members_and_settings_to_admins(client):
    practice, admin = _practice("Mine LLP", "me@mine.test")
    staff_user = UserFactory.create(email="raj@mine.test")
    PracticeMember.objects.create(practice=practice, user=staff_user, role="staff")
    client.force_login(admin)
    home = client.get("/").content.decode()
    assert 'href="/partner/clients/"' in home
    assert 'href="/partner/staff/"' in home
    client.force_login(staff_user)
    home = client.get("/").content.decode()
    assert 'href="/partner/clients/"' in home
    assert 'href="/partner/staff/"' in home  # read-only for staff
    assert 'href="/partner/settings/"' not in home
    client.force_login(UserFactory.create())
    assert 'href="/partner/clients/"' not in client.get("/").content.decode()


def test_sort_links_keep_the_service_filter_and_imported_rows_have_no_payer_yet(client):
    mine, me = _practice("Mine LLP", "me@mine.test")
    from django.utils import timezone

    from partnerdesk.billing.models import SubscriptionItem
    from partnerdesk.billing.tests.subscription_factories import make_service

    payroll = make_service("t-payroll", "10.00", name="T Payroll")
    active = _client(mine, "Payroll Client Ltd")
    SubscriptionItem.objects.create(company=active.company, service=payroll, starts_on=timezone.localdate())
    _client(mine, "Waiting Import Ltd", tab="imported")
    client.force_login(me)
    body = client.get("/partner/clients/?tab=active&service=t-payroll").content.decode()
    assert "Payroll Client Ltd" in body
    assert "&amp;service=t-payroll&amp;sort=contact" in body
    imported = client.get("/partner/clients/?tab=imported").content.decode()
    row = imported.split("Waiting Import Ltd", 1)[1].split("</tr>", 1)[0]
    assert "Accountant paying" not in row
    assert "<td>—</td>" in row


def test_client_list_names_the_staff_without_counting_their_assignments(client):
    """The Assigned to filter and "ask your admin" only name people: the list never goes through the practice's
    assignments (the Staff page counts them; on a practice with many assigned clients that was most of the list's
    database time)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from partnerdesk.practice.models import ClientAssignment
    from partnerdesk.practice.tests.staff_factories import add_member

    practice, me = _practice("Mine LLP", "me@mine.test")
    staff = add_member(practice, "raj@mine.test", sees_all_clients=False)
    for i in range(3):
        ClientAssignment.objects.create(member=staff, client=_client(practice, f"Client {i:02d} Ltd"))
    client.force_login(me)
    with CaptureQueriesContext(connection) as queries:
        page = client.get("/partner/clients/").content.decode()
    assert f'<option value="{staff.pk}">' in page  # Assigned to: the staff member, by name
    assert not [q["sql"] for q in queries.captured_queries if "practice_clientassignment" in q["sql"]]
    with CaptureQueriesContext(connection) as queries:
        client.get("/partner/clients/", {"assigned": staff.pk})
    assert [q["sql"] for q in queries.captured_queries if "practice_clientassignment" in q["sql"]]  # the filter
