import datetime as dt
from decimal import Decimal

import pytest
from django.test import Client as HttpClient
from django.utils import timezone

from partnerdesk.audit.models import Event
from partnerdesk.billing.models import PracticeDiscount
from partnerdesk.identity.models import Company, CompanyMembership
from partnerdesk.identity.tests.factories import UserFactory
from partnerdesk.practice import staff_services
from partnerdesk.practice.models import ClientAssignment, PracticeInvitation, PracticeMember
from partnerdesk.practice.tests.staff_factories import add_member, invitation_token, make_client, make_practice

pytestmark = pytest.mark.django_db


@pytest.fixture
def setup():
    practice, admin = make_practice()
    staff = add_member(practice, "staff@hartley.test")
    other, other_admin = make_practice("Other LLP", "boss@other.test")
    return practice, admin, staff, other, other_admin


def _as(user) -> HttpClient:
    client = HttpClient()
    client.force_login(user)
    return client


def test_staff_page_lists_members_for_everyone_and_settings_only_for_admins(setup):
    _practice, admin, staff, *_ = setup
    body = _as(admin).get("/partner/staff/").content.decode()
    assert "staff@hartley.test" in body
    assert '<th scope="col">Role</th>' in body
    assert 'href="/partner/staff/"' in body
    assert 'href="/partner/settings/"' in body
    home = _as(admin).get("/").content.decode()
    assert 'href="/partner/staff/"' in home
    staff_home = _as(staff.user).get("/").content.decode()
    assert 'href="/partner/staff/"' in staff_home  # the team, read-only
    staff_clients = _as(staff.user).get("/partner/clients/").content.decode()
    assert 'href="/partner/settings/"' not in staff_clients
    assert _as(UserFactory.create()).get("/partner/staff/").status_code == 404


def test_staff_see_the_team_read_only_without_any_admin_action(setup):
    practice, admin, staff, *_ = setup
    restricted = add_member(practice, "raj@hartley.test", sees_all_clients=False)
    ClientAssignment.objects.create(member=restricted, client=make_client(practice, "Mine"))
    staff_services.invitation_create(actor=admin, practice=practice, email="invited@example.test", role="staff")
    response = _as(staff.user).get("/partner/staff/")
    assert response.status_code == 200
    page = " ".join(response.content.decode().split())
    for text in (
        '<th scope="row">Helen Hartley</th> <td data-label="Email">admin@hartley.test</td>',
        '<td data-label="Role"> Admin </td> <td data-label="Can see"> All clients (admin) </td>',
        f'<th scope="row">{staff.user.full_name} (you)</th> <td data-label="Email">staff@hartley.test</td>',
        '<td data-label="Role"> Staff </td> <td data-label="Can see"> All clients </td>',
        '<td data-label="Email">raj@hartley.test</td>',
        'Assigned clients only<p class="help">1 assigned</p>',
        "Only your practice's admins invite, change or remove members: Helen Hartley "
        '(<a href="mailto:admin@hartley.test">admin@hartley.test</a>).',
    ):
        assert text in page, text
    # No admin action of any kind, and no pending invitations (the addresses of people not yet in the team).
    for absent in (
        "<form",
        "<select",
        "Send invitation",
        "Change role",
        "Assign clients",
        "Remove",
        "Revoke",
        "Resend",
        "invited@example.test",
        "hidden)",
        '<th scope="col">Actions</th>',
    ):
        assert absent not in page.split('<main id="main"')[1], absent
    refused = _as(staff.user).post(
        "/partner/staff/", {"email": "new@example.test", "role": "admin", "sees_all_clients": "1"}
    )
    assert refused.status_code == 403
    assert "Only your practice&#x27;s admins manage its members." in refused.content.decode()
    assert not PracticeInvitation.objects.filter(email="new@example.test").exists()


def test_admin_only_pages_are_403_for_staff_and_404_for_non_members(setup):
    practice, admin, staff, *_ = setup
    outsider = UserFactory.create()
    invitation = staff_services.invitation_create(actor=admin, practice=practice, email="x@example.test", role="staff")
    me = PracticeMember.objects.get(user=admin)
    gets = [
        "/partner/settings/",
        f"/partner/staff/{me.pk}/remove/",
        f"/partner/staff/{staff.pk}/clients/",
    ]
    posts = [
        f"/partner/staff/{me.pk}/role/",
        f"/partner/staff/{staff.pk}/visibility/",
        f"/partner/staff/{me.pk}/remove/",
        f"/partner/staff/invitations/{invitation.pk}/resend/",
        f"/partner/staff/invitations/{invitation.pk}/revoke/",
    ]
    for user, status in ((staff.user, 403), (outsider, 404)):
        client = _as(user)
        for url in gets:
            assert client.get(url).status_code == status, url
        for url in posts:
            assert client.post(url, {"role": "staff", "sees_all_clients": "0"}).status_code == status, url
    assert PracticeMember.objects.get(pk=me.pk).role == "admin"
    assert PracticeInvitation.objects.get(pk=invitation.pk).status == "pending"


def test_another_practices_objects_are_404_in_the_ui(setup):
    practice, admin, staff, other, other_admin = setup
    invitation = staff_services.invitation_create(actor=admin, practice=practice, email="x@example.test", role="staff")
    client = make_client(practice, "Mine")
    theirs = add_member(other, "their-staff@other.test")
    them = _as(other_admin)
    assert them.get(f"/partner/staff/{staff.pk}/clients/").status_code == 404
    assert them.get(f"/partner/staff/{staff.pk}/remove/").status_code == 404
    assert them.post(f"/partner/staff/{staff.pk}/remove/").status_code == 404
    assert them.post(f"/partner/staff/{staff.pk}/role/", {"role": "admin"}).status_code == 404
    assert them.post(f"/partner/staff/{staff.pk}/visibility/", {"sees_all_clients": "0"}).status_code == 404
    assert them.post(f"/partner/staff/invitations/{invitation.pk}/resend/").status_code == 404
    assert them.post(f"/partner/staff/invitations/{invitation.pk}/revoke/").status_code == 404
    response = them.post(f"/partner/staff/{theirs.pk}/clients/", {"action": "assign", "client_ids": [client.pk]})
    assert response.status_code == 404
    assert not ClientAssignment.objects.exists()
    assert PracticeMember.objects.filter(pk=staff.pk).exists()


def test_invite_resend_revoke_through_the_page(setup):
    _practice, admin, *_ = setup
    client = _as(admin)
    response = client.post(
        "/partner/staff/", {"email": "new@example.test", "role": "staff", "sees_all_clients": "0"}, follow=True
    )
    assert "Invitation sent to new@example.test" in response.content.decode()
    invitation = PracticeInvitation.objects.get(email="new@example.test")
    first = invitation_token(invitation)
    assert "new@example.test" in client.get("/partner/staff/").content.decode()
    again = client.post("/partner/staff/", {"email": "new@example.test", "role": "staff", "sees_all_clients": "0"})
    assert "already has a pending invitation" in again.content.decode()
    resent = client.post(f"/partner/staff/invitations/{invitation.pk}/resend/", follow=True)
    assert "earlier link no longer works" in resent.content.decode()
    assert invitation_token(invitation) != first
    client.post(f"/partner/staff/invitations/{invitation.pk}/revoke/")
    invitation.refresh_from_db()
    assert invitation.status == "revoked"
    assert "No pending invitations" in client.get("/partner/staff/").content.decode()


def test_change_role_visibility_and_last_admin_message(setup):
    _practice, admin, staff, *_ = setup
    client = _as(admin)
    me = PracticeMember.objects.get(user=admin)
    response = client.post(f"/partner/staff/{me.pk}/role/", {"role": "staff"}, follow=True)
    assert "at least one admin" in response.content.decode()
    client.post(f"/partner/staff/{staff.pk}/visibility/", {"sees_all_clients": "0"})
    staff.refresh_from_db()
    assert staff.sees_all_clients is False
    client.post(f"/partner/staff/{staff.pk}/role/", {"role": "admin"})
    staff.refresh_from_db()
    assert staff.role == "admin"


def test_remove_asks_to_confirm_then_removes(setup):
    _practice, admin, staff, *_ = setup
    client = _as(admin)
    confirm = client.get(f"/partner/staff/{staff.pk}/remove/").content.decode()
    assert "every one of its clients" in confirm
    assert "Yes, remove" in confirm
    response = client.post(f"/partner/staff/{staff.pk}/remove/", follow=True)
    assert "was removed from Hartley LLP" in response.content.decode()
    assert not PracticeMember.objects.filter(pk=staff.pk).exists()
    assert _as(staff.user).get("/partner/clients/").status_code == 404


def test_bulk_assign_page(setup):
    practice, admin, staff, *_ = setup
    PracticeMember.objects.filter(pk=staff.pk).update(sees_all_clients=False)
    clients = [make_client(practice, f"Client {i}") for i in range(4)]
    client = _as(admin)
    page = client.get(f"/partner/staff/{staff.pk}/clients/").content.decode()
    assert "Client 3" in page
    response = client.post(
        f"/partner/staff/{staff.pk}/clients/",
        {"action": "assign", "client_ids": [c.pk for c in clients[:3]]},
        follow=True,
    )
    assert f"3 clients assigned to {staff.user.full_name}." in response.content.decode()
    client.post(f"/partner/staff/{staff.pk}/clients/", {"action": "unassign", "client_ids": [clients[0].pk]})
    assert set(ClientAssignment.objects.values_list("client_id", flat=True)) == {clients[1].pk, clients[2].pk}
    listing = _as(staff.user).get("/partner/clients/").content.decode()
    assert "Client 1" in listing
    assert "Client 2" in listing
    assert "Client 0" not in listing
    assert "Client 3" not in listing
    nothing = client.post(f"/partner/staff/{staff.pk}/clients/", {"action": "assign"}, follow=True)
    assert "Choose at least one client" in nothing.content.decode()


def test_settings_page_edits_name_and_email_and_shows_discount_read_only(setup):
    practice, admin, *_ = setup
    today = timezone.localdate()
    PracticeDiscount.objects.create(practice=practice, rate=Decimal("12.50"), effective_from=today.replace(day=1))
    PracticeDiscount.objects.create(practice=practice, rate=Decimal("15"), effective_from=dt.date(today.year + 1, 1, 1))
    client = _as(admin)
    page = client.get("/partner/settings/").content.decode()
    assert (
        f"12.50% off RRP on accountant-paying licences; 15% from 1 January {today.year + 1}" in page
    )  # in force today
    assert 'name="discount_rate"' not in page
    response = client.post(
        "/partner/settings/",
        {"name": "Hartley & Moss", "contact_email": "office@hartley.test", "discount_rate": "99"},
        follow=True,
    )
    assert "Practice settings saved" in response.content.decode()
    practice.refresh_from_db()
    assert (practice.name, practice.contact_email_pending) == ("Hartley & Moss", "office@hartley.test")
    assert "waiting for confirmation" in response.content.decode()
    assert PracticeDiscount.objects.filter(practice=practice).count() == 2  # the discount is not the practice's
    assert Event.objects.filter(action="practice.settings.update", actor=admin).exists()
    bad = client.post("/partner/settings/", {"name": "", "contact_email": "nope"})
    assert bad.status_code == 200
    assert "field-invalid" in bad.content.decode()


def test_renaming_the_practice_in_settings_renames_its_own_company_everywhere_it_shows(setup):
    practice, admin, *_ = setup
    company = practice.company
    Company.objects.filter(pk=company.pk).update(owner=admin, owner_email=admin.email)
    CompanyMembership.objects.create(user=admin, company=company, role=CompanyMembership.Role.OWNER)
    client = _as(admin)
    page = client.get("/partner/settings/").content.decode()
    assert "Also the business name on your practice's own subscription and on its invoices from the next one" in page
    details = client.get(f"/companies/{company.customer_number}/details/").content.decode()
    assert "This is the subscription of your practice, Hartley LLP" in details
    assert 'Change it in Partner Edition <a href="/partner/settings/">Settings</a>' in details
    assert "contact Customer Services" not in details  # not for this company: its admins rename it themselves
    response = client.post("/partner/settings/", {"name": "Hartley & Moss", "contact_email": ""}, follow=True)
    assert "Practice settings saved" in response.content.decode()
    company.refresh_from_db()
    assert company.business_name == "Hartley & Moss"
    details = client.get(f"/companies/{company.customer_number}/details/").content.decode()
    assert "<dt>Business name</dt><dd>Hartley &amp; Moss</dd>" in details
    assert "<h1>Hartley &amp; Moss</h1>" in details
    event = Event.objects.get(action="practice.settings.update")
    assert (event.company_id, event.data["company_business_name"]["to"]) == (company.pk, "Hartley & Moss")


def test_my_details_of_a_practices_company_sends_an_owner_who_is_not_its_admin_to_the_admins(setup):
    practice, _admin, staff, *_ = setup
    Company.objects.filter(pk=practice.company_id).update(owner=staff.user, owner_email=staff.user.email)
    CompanyMembership.objects.create(user=staff.user, company=practice.company, role=CompanyMembership.Role.OWNER)
    details = _as(staff.user).get(f"/companies/{practice.company.customer_number}/details/").content.decode()
    assert "Your practice's admins change it in Partner Edition Settings: both change together." in details
    assert 'href="/partner/settings/"' not in details


def test_the_back_office_shows_a_practices_name_read_only_as_its_companys(setup):
    practice, *_ = setup
    cs = UserFactory.create(is_staff=True, is_superuser=True)
    page = _as(cs).get(f"/admin/practice/practice/{practice.pk}/change/").content.decode()
    assert 'name="name"' not in page
    assert f"the business name of its own company, customer number {practice.company.customer_number}" in page
    # Adding a practice is Set up a practice (decision 78): the name is typed once, for the company and the practice.
    assert 'name="business_name"' in _as(cs).get("/admin/practice/practice/add/").content.decode()


def test_staff_list_query_count_does_not_grow_with_members(setup, django_assert_max_num_queries):
    practice, admin, *_ = setup
    for i in range(25):
        add_member(practice, f"member{i}@hartley.test")
    for i in range(10):
        staff_services.invitation_create(actor=admin, practice=practice, email=f"inv{i}@example.test", role="staff")
    client = _as(admin)
    client.get("/partner/staff/")  # first request of the session records the device (throttled after)
    with django_assert_max_num_queries(6):
        response = client.get("/partner/staff/")
    assert response.content.decode().count(' name="role"') == 27 + 1  # each member, and the invite form
    staff = _as(PracticeMember.objects.get(user__email="member0@hartley.test").user)
    staff.get("/partner/staff/")
    with django_assert_max_num_queries(6):
        read_only = staff.get("/partner/staff/")
    assert read_only.content.decode().count('<td data-label="Email">') == 27


def test_demoting_yourself_asks_first_then_leads_to_the_client_list(setup):
    practice, admin, *_ = setup
    add_member(practice, "second-admin@hartley.test", role="admin")
    client = _as(admin)
    me = PracticeMember.objects.get(user=admin)
    asked = client.post(f"/partner/staff/{me.pk}/role/", {"role": "staff"})
    assert asked.status_code == 200
    assert "You will lose admin rights" in asked.content.decode()
    me.refresh_from_db()
    assert me.role == "admin"  # nothing changed yet
    done = client.post(f"/partner/staff/{me.pk}/role/", {"role": "staff", "confirm": "1"})
    assert done.status_code == 302
    assert done["Location"] == "/partner/clients/"
    me.refresh_from_db()
    assert me.role == "staff"
    page = client.get(done["Location"])
    assert page.status_code == 200
    assert "You are now staff of Hartley LLP" in page.content.decode()


def test_the_sole_admin_is_not_offered_remove_and_the_page_explains(setup):
    _practice, admin, staff, *_ = setup
    client = _as(admin)
    me = PracticeMember.objects.get(user=admin)
    staff_page = client.get("/partner/staff/").content.decode()
    assert f'href="/partner/staff/{me.pk}/remove/"' not in staff_page
    assert f'href="/partner/staff/{staff.pk}/remove/"' in staff_page
    assert "The only admin: make someone else an admin before you can leave." in staff_page
    page = client.get(f"/partner/staff/{me.pk}/remove/").content.decode()
    assert "You can&#x27;t remove yourself" in page or "You can't remove yourself" in page
    assert "You are the only admin" in page
    assert "Yes, remove" not in page


def test_removing_yourself_talks_to_you(setup):
    practice, admin, *_ = setup
    add_member(practice, "second-admin@hartley.test", role="admin")
    me = PracticeMember.objects.get(user=admin)
    page = _as(admin).get(f"/partner/staff/{me.pk}/remove/").content.decode()
    assert "Remove yourself from Hartley LLP?" in page
    assert "You will lose access" in page
    assert "Yes, remove me" in page


def test_removal_page_says_client_assignments_go_too(setup):
    _practice, admin, staff, *_ = setup
    page = _as(admin).get(f"/partner/staff/{staff.pk}/remove/").content.decode()
    assert "their client assignments are removed too" in page


def test_revoke_asks_first(setup):
    practice, admin, *_ = setup
    invitation = staff_services.invitation_create(actor=admin, practice=practice, email="x@example.test", role="staff")
    client = _as(admin)
    staff_page = client.get("/partner/staff/").content.decode()
    assert f'<a href="/partner/staff/invitations/{invitation.pk}/revoke/"' in staff_page
    asked = client.get(f"/partner/staff/invitations/{invitation.pk}/revoke/")
    assert asked.status_code == 200
    assert "Revoke the invitation to x@example.test?" in asked.content.decode()
    invitation.refresh_from_db()
    assert invitation.status == "pending"
    client.post(f"/partner/staff/invitations/{invitation.pk}/revoke/")
    invitation.refresh_from_db()
    assert invitation.status == "revoked"
    assert client.get(f"/partner/staff/invitations/{invitation.pk}/revoke/").status_code == 404


def test_the_invite_form_makes_the_admin_choose_what_staff_can_see(setup):
    _practice, admin, *_ = setup
    client = _as(admin)
    page = client.get("/partner/staff/").content.decode()
    assert "Only clients assigned to them" in page
    assert 'name="sees_all_clients" value="0"' in page
    assert "checked" not in page[page.index('id="invite-heading"') :]  # nothing preselected
    refused = client.post("/partner/staff/", {"email": "a@example.test", "role": "staff"})
    assert "Choose which clients they can see." in refused.content.decode()
    assert not PracticeInvitation.objects.filter(email="a@example.test").exists()
    client.post("/partner/staff/", {"email": "a@example.test", "role": "staff", "sees_all_clients": "0"})
    client.post("/partner/staff/", {"email": "b@example.test", "role": "staff", "sees_all_clients": "1"})
    client.post("/partner/staff/", {"email": "c@example.test", "role": "admin"})  # admins see all anyway
    assert PracticeInvitation.objects.get(email="a@example.test").sees_all_clients is False
    assert PracticeInvitation.objects.get(email="b@example.test").sees_all_clients is True
    assert PracticeInvitation.objects.get(email="c@example.test").role == "admin"


def test_accepting_applies_what_the_invitation_said_they_can_see(setup):
    practice, admin, *_ = setup
    for email, sees_all in (("only@example.test", False), ("all@example.test", True)):
        invitation = staff_services.invitation_create(
            actor=admin, practice=practice, email=email, role="staff", sees_all_clients=sees_all
        )
        user = UserFactory.create(email=email)
        member = staff_services.invitation_accept(user=user, token=invitation_token(invitation))
        assert member.sees_all_clients is sees_all


def test_assign_page_searches_marks_hidden_and_selects_all_shown(setup):
    practice, admin, staff, *_ = setup
    make_client(practice, "Alpha Bakery")
    make_client(practice, "Beta Builders", hidden=True)
    client = _as(admin)
    page = client.get(f"/partner/staff/{staff.pk}/clients/").content.decode()
    assert 'data-select-all="client_ids"' in page
    assert '<span class="badge">Hidden</span>' in page
    found = client.get(f"/partner/staff/{staff.pk}/clients/?q=beta").content.decode()
    assert "Beta Builders" in found
    assert "Alpha Bakery" not in found
    assert 'value="beta"' in found


def test_reassigning_says_no_change_and_the_staff_page_counts_hidden(setup):
    practice, admin, staff, *_ = setup
    PracticeMember.objects.filter(pk=staff.pk).update(sees_all_clients=False)
    shown = make_client(practice, "Alpha Bakery")
    hidden = make_client(practice, "Beta Builders", hidden=True)
    client = _as(admin)
    url = f"/partner/staff/{staff.pk}/clients/"
    client.post(url, {"action": "assign", "client_ids": [shown.pk, hidden.pk]})
    again = client.post(url, {"action": "assign", "client_ids": [shown.pk]}, follow=True).content.decode()
    assert f"No change: those clients were already assigned to {staff.user.full_name}." in again
    assert "0 clients assigned" not in again
    assert "2 assigned (1 hidden)" in client.get("/partner/staff/").content.decode()


def test_assignments_show_in_the_clients_history(setup):
    practice, admin, staff, *_ = setup
    target = make_client(practice, "Alpha Bakery")
    client = _as(admin)
    url = f"/partner/staff/{staff.pk}/clients/"
    client.post(url, {"action": "assign", "client_ids": [target.pk]})
    client.post(url, {"action": "unassign", "client_ids": [target.pk]})
    events = Event.objects.filter(client=target, action__startswith="practice.staff.")
    assert events.count() == 2
    history = client.get(f"/partner/clients/{target.pk}/?panel=history").content.decode()
    assert f"Assigned to {staff.user.full_name}" in history
    assert f"Unassigned from {staff.user.full_name}" in history


def test_assign_page_shows_50_clients_a_page_and_keeps_the_search_and_page(setup, django_assert_max_num_queries):
    """A practice with thousands of clients gets pages, not one table of all of them; the search and the page are
    kept on the page links and after assigning, and only the page's clients are looked up as assigned."""
    from partnerdesk.identity.models import Company
    from partnerdesk.practice.models import Client

    practice, admin, staff, *_ = setup
    companies = Company.objects.bulk_create(
        [
            Company(business_name=f"C{i}", customer_number=f"{20000000 + i}", registration_id=f"MBR{i:08d}")
            for i in range(70)
        ]
    )
    Client.objects.bulk_create(
        [
            Client(practice=practice, company=company, business_name=f"{'Alpha' if i < 60 else 'Beta'} {i:02d}")
            for i, company in enumerate(companies)
        ]
    )
    ClientAssignment.objects.bulk_create(
        [ClientAssignment(member=staff, client=c) for c in Client.objects.filter(practice=practice)]
    )
    client = _as(admin)
    url = f"/partner/staff/{staff.pk}/clients/"
    client.get(url)  # the first request records the device (usersessions)
    with django_assert_max_num_queries(8):
        first = client.get(url, {"q": "alpha"}).content.decode()
    assert first.count('name="client_ids"') == 50
    assert "Alpha 49" in first
    assert "Alpha 50" not in first
    assert first.count("<td>Yes</td>") == 50
    assert "Page 1 of 2" in first
    assert 'href="?q=alpha&amp;page=2"' in first
    second = client.get(url, {"q": "alpha", "page": "2"}).content.decode()
    assert second.count('name="client_ids"') == 10
    assert 'href="?q=alpha&amp;page=1"' in second
    assert '<input type="hidden" name="page" value="2">' in second
    alpha_55 = Client.objects.get(business_name="Alpha 55")
    done = client.post(url, {"action": "unassign", "client_ids": [alpha_55.pk], "q": "alpha", "page": "2"})
    assert done["Location"] == f"{url}?q=alpha&page=2"
    assert not ClientAssignment.objects.filter(member=staff, client=alpha_55).exists()
    assert "Page 1 of 2" in client.get(url).content.decode()  # no search: 70 clients


def test_staff_opening_an_admin_only_page_are_told_it_is_for_the_admins_in_the_sites_layout(setup):
    _practice, _admin, staff, *_ = setup
    client = _as(staff.user)
    for url, page in (
        ("/partner/invoices/", "its invoices"),
        ("/partner/payment/", "its payment details"),
        ("/partner/settings/", "its settings"),
        ("/partner/staff/1/clients/", "its staff"),
    ):
        response = client.get(url)
        body = response.content.decode()
        assert response.status_code == 403, url
        assert f"Only your practice&#x27;s admins can see {page}." in body, url
        assert "<h1>Admins only</h1>" in body
        assert 'href="/partner/clients/"' in body  # the site's layout, with the way back
    outsider = _as(UserFactory.create())
    for url in ("/partner/invoices/", "/partner/payment/", "/partner/settings/"):
        assert outsider.get(url).status_code == 404, url


def test_the_api_answers_staff_403_practice_admin_only_and_outsiders_404(setup):
    _practice, _admin, staff, *_ = setup
    client = _as(staff.user)
    for method, url in (
        ("get", "/api/v1/practice/invoices"),
        ("get", "/api/v1/practice/mandate"),
        ("delete", "/api/v1/practice/mandate"),
        ("get", "/api/v1/practice/settings"),
        ("get", "/api/v1/practice/invitations"),
    ):
        response = getattr(client, method)(url)
        assert response.status_code == 403, url
        assert response.json()["code"] == "practice_admin_only", url
    assert client.get("/api/v1/practice/members").status_code == 200  # the team, read-only (decision 79)
    outsider = _as(UserFactory.create())
    for url in ("/api/v1/practice/invoices", "/api/v1/practice/mandate", "/api/v1/practice/settings"):
        assert outsider.get(url).status_code == 404, url


def test_the_practices_own_company_shows_partner_edition_on_home_and_its_page(setup):
    practice, admin, *_ = setup
    from partnerdesk.identity.models import CompanyMembership

    CompanyMembership.objects.create(user=admin, company=practice.company, role=CompanyMembership.Role.OWNER)
    other_company = make_client(practice, "Plain Ltd").company
    CompanyMembership.objects.create(user=admin, company=other_company, role=CompanyMembership.Role.USER)
    home = _as(admin).get("/").content.decode()
    row = home.split(f"{practice.company.customer_number}</td>")[1].split("</tr>")[0]
    assert "<td>Partner Edition</td>" in row
    plain = home.split(f"{other_company.customer_number}</td>")[1].split("</tr>")[0]
    assert "None yet" in plain  # a company without services still says so
    page = _as(admin).get(f"/companies/{practice.company.customer_number}/").content.decode()
    assert "<li>Partner Edition" in page
    assert "No services on this subscription yet." not in page
