import re
from datetime import UTC, datetime

import pytest
from django.test import Client as HttpClient

from partnerdesk.audit.models import Event
from partnerdesk.backoffice.models import ChangeRequest
from partnerdesk.identity.models import CompanyMembership
from partnerdesk.identity.services import company_create
from partnerdesk.identity.tests.factories import UserFactory
from partnerdesk.notifications.models import OutboundEmail
from partnerdesk.practice.models import Client, ClientAssignment, Practice, PracticeMember

pytestmark = pytest.mark.django_db


def _practice(name, email):
    practice = Practice.objects.create(company=company_create(business_name=name), name=name)
    user = UserFactory.create(email=email)
    PracticeMember.objects.create(practice=practice, user=user, role="admin")
    http = HttpClient()
    http.force_login(user)
    return practice, user, http


def _client(practice, name, **facts):
    return Client.objects.create(
        practice=practice, company=company_create(business_name=name), business_name=name, **facts
    )


@pytest.fixture
def mine():
    return _practice("Mine LLP", "me@mine.test")


def test_search_by_name_contact_email_and_customer_number(mine):
    practice, _, http = mine
    alpha = _client(practice, "Alpha Bakery", contact_name="Ann Smith", email="ann@alpha.test")
    _client(practice, "Beta Joinery", contact_name="Bob Jones", email="bob@beta.test")
    for term in ("bakery", "Ann", "ann@alpha", alpha.company.customer_number):
        body = http.get("/partner/clients/", {"q": term}).content.decode()
        assert "Alpha Bakery" in body, term
        assert "Beta Joinery" not in body, term


def test_sorting_by_access_follows_the_words_on_screen(mine):
    practice, _, http = mine
    for name, access in (("A Ltd", "none"), ("B Ltd", "both"), ("C Ltd", "disabled"), ("D Ltd", "invited")):
        _client(practice, name, access=access)

    def names(direction: str) -> list[str]:
        page = http.get("/partner/clients/", {"sort": "access", "dir": direction}).content.decode()
        return re.findall(r'aria-label="Select ([A-D] Ltd)"', page)

    # Awaiting Client Activation, Client access disabled, My company and client both..., No client access
    assert names("asc") == ["D Ltd", "C Ltd", "B Ltd", "A Ltd"]
    assert names("desc") == ["A Ltd", "B Ltd", "C Ltd", "D Ltd"]


def test_sort_and_filters_are_kept_in_the_url(mine):
    practice, _, http = mine
    _client(practice, "Aardvark Ltd", access="invited", payer="client")
    _client(practice, "Zebra Ltd", access="both")
    body = http.get("/partner/clients/", {"sort": "name", "dir": "desc"}).content.decode()
    assert body.index("Zebra Ltd") < body.index("Aardvark Ltd")
    assert 'aria-sort="descending"' in body
    only_invited = http.get("/partner/clients/", {"access": "invited"}).content.decode()
    assert "Aardvark Ltd" in only_invited
    assert "Zebra Ltd" not in only_invited
    by_payer = http.get("/partner/clients/", {"payer": "client"}).content.decode()
    assert "Aardvark Ltd" in by_payer
    assert "Zebra Ltd" not in by_payer
    assert "Awaiting Client Activation" in only_invited


def test_tabs_show_counts_and_pages_keep_the_query(mine):
    practice, _, http = mine
    for i in range(55):
        _client(practice, f"Client {i:02d} Ltd")
    _client(practice, "Waiting Ltd", tab="pending")
    body = http.get("/partner/clients/", {"q": "Client"}).content.decode()
    assert 'Active <span class="count">(55)</span>' in body
    assert 'Pending <span class="count">(1)</span>' in body
    assert "Page 1 of 2" in body
    assert "q=Client&amp;page=2" in body
    assert "Client 54 Ltd" in http.get("/partner/clients/", {"q": "Client", "page": "2"}).content.decode()


def test_the_pages_count_the_clients_the_list_shows_with_and_without_search_or_hidden(mine):
    practice, _, http = mine
    for i in range(60):
        _client(practice, f"Alpha {i:02d} Ltd", hidden=i < 20)
        _client(practice, f"Beta {i:02d} Ltd")
    _client(practice, "Imported Ltd", tab="imported")

    def pages(**params):
        found = re.search(r"Page 1 of (\d+)", http.get("/partner/clients/", params).content.decode())
        return int(found.group(1)) if found else 1

    assert pages() == 2  # 100 shown: the unnarrowed list takes its count from the tab's
    assert pages(hidden="1") == 3  # 120
    assert pages(q="Beta") == 2  # 60
    assert pages(q="Alpha") == 1  # 40 shown, 20 hidden
    assert pages(q="Alpha", hidden="1") == 2  # 60
    assert pages(tab="imported") == 1
    assert "Beta 59 Ltd" in http.get("/partner/clients/", {"page": "2", "sort": "name"}).content.decode()


def test_hide_two_then_bring_them_back_through_filters(mine):
    practice, _, http = mine
    a = _client(practice, "Alpha Ltd")
    b = _client(practice, "Beta Ltd")
    _client(practice, "Gamma Ltd")
    response = http.post("/partner/clients/visibility/", {"action": "hide", "client": [a.pk, b.pk]}, follow=True)
    body = response.content.decode()
    assert "2 clients hidden." in body
    assert "Alpha Ltd" not in body.split("<tbody>")[1]
    assert "Gamma Ltd" in body
    shown = http.get("/partner/clients/", {"hidden": "1"}).content.decode()
    assert "Alpha Ltd" in shown
    assert "Hidden" in shown
    http.post("/partner/clients/visibility/?hidden=1", {"action": "show", "client": [a.pk, b.pk]})
    assert "Alpha Ltd" in http.get("/partner/clients/").content.decode()
    a.refresh_from_db()
    assert (a.hidden, a.access, a.payer, a.tab) == (False, "none", "accountant", "active")  # nothing else changed
    assert Event.objects.filter(action="practice.client.hide").count() == 2
    assert Event.objects.filter(action="practice.client.show").count() == 2


def test_hiding_1000_clients_takes_a_bounded_number_of_queries(mine, django_assert_max_num_queries):
    from partnerdesk.practice.services import clients_set_hidden

    practice, user, _ = mine
    companies = [company_create(business_name=f"C{i}") for i in range(1000)]
    clients = Client.objects.bulk_create(
        [Client(practice=practice, company=c, business_name=c.business_name) for c in companies]
    )
    member = PracticeMember.objects.get(user=user)
    # One select, one update, and the audit rows in batches (SQLite allows ~90 rows per insert, PostgreSQL 500).
    with django_assert_max_num_queries(20):
        changed = clients_set_hidden(member=member, client_ids=[c.pk for c in clients], hidden=True)
    assert changed == 1000
    assert Client.objects.filter(hidden=True).count() == 1000


def test_another_practices_clients_are_404_and_cannot_be_hidden(mine):
    _, _, http = mine
    theirs, _, _ = _practice("Theirs LLP", "them@theirs.test")
    other = _client(theirs, "Not Yours Ltd")
    assert http.get(f"/partner/clients/{other.pk}/").status_code == 404
    assert (
        http.post(f"/partner/clients/{other.pk}/details/", {"business_name": "Mine now", "version": 1}).status_code
        == 404
    )
    http.post("/partner/clients/visibility/", {"action": "hide", "client": [other.pk]})
    other.refresh_from_db()
    assert other.hidden is False


def _restricted(practice):
    user = UserFactory.create(email="rita@mine.test")
    member = PracticeMember.objects.create(practice=practice, user=user, role="staff", sees_all_clients=False)
    http = HttpClient()
    http.force_login(user)
    return member, http


def test_a_restricted_staff_member_cannot_hide_or_show_clients_not_assigned_to_them(mine):
    practice, _, _ = mine
    member, http = _restricted(practice)
    theirs = _client(practice, "Assigned Ltd")
    ClientAssignment.objects.create(member=member, client=theirs)
    unassigned = _client(practice, "Unassigned Ltd")
    response = http.post(
        "/partner/clients/visibility/", {"action": "hide", "client": [theirs.pk, unassigned.pk]}, follow=True
    )
    assert "1 client hidden." in response.content.decode()  # says nothing about the other one
    assert set(Client.objects.filter(hidden=True).values_list("business_name", flat=True)) == {"Assigned Ltd"}


def test_a_restricted_staff_member_cannot_delete_accept_decline_or_amend_clients_not_assigned_to_them(mine):
    practice, _, _ = mine
    member, http = _restricted(practice)
    api = HttpClient(enforce_csrf_checks=False)
    api.force_login(member.user)
    imported = _client(practice, "Imported Ltd", tab="imported")
    pending = [_client(practice, f"Asking {i} Ltd", tab="pending", requested_by="client") for i in range(3)]
    assigned = _client(practice, "Assigned Imported Ltd", tab="imported")
    ClientAssignment.objects.create(member=member, client=assigned)

    assert http.post(f"/partner/clients/{imported.pk}/delete/").status_code == 404
    assert http.post(f"/partner/clients/{pending[0].pk}/invitation/", {"decision": "accept"}).status_code == 404
    declined = http.post(f"/partner/clients/{pending[1].pk}/invitation/", {"decision": "decline", "confirm": "yes"})
    assert declined.status_code == 404
    amended = http.post(f"/partner/clients/{imported.pk}/details/", {"business_name": "Mine now", "version": 1})
    assert amended.status_code == 404
    assert api.delete(f"/api/v1/practice/clients/{imported.pk}").status_code == 404
    refused = api.post(
        f"/api/v1/practice/clients/{pending[2].pk}/invitation", {"decision": "decline"}, content_type="application/json"
    )
    assert refused.status_code == 404
    assert set(Client.objects.filter(tab="pending").values_list("pk", flat=True)) == {c.pk for c in pending}
    assert Client.objects.get(pk=imported.pk).business_name == "Imported Ltd"
    assert not Event.objects.filter(actor=member.user).exists()
    # Their own client: they see it, but deleting is an admin's decision.
    refused_own = http.post(f"/partner/clients/{assigned.pk}/delete/")
    assert refused_own.status_code == 403
    assert "Only your practice&#x27;s admins can delete a client." in refused_own.content.decode()
    assert Client.objects.filter(pk=assigned.pk).exists()


def test_a_restricted_staff_member_is_assigned_the_client_they_add_and_is_not_offered_imports(mine):
    practice, _, _ = mine
    member, http = _restricted(practice)
    page = http.get("/partner/clients/").content.decode()
    assert "Add client" in page
    assert "Import CSV" not in page
    response = http.post("/partner/clients/add/", {"business_name": "Staff Added Ltd"}, follow=True)
    assert response.status_code == 200
    client = Client.objects.get(business_name="Staff Added Ltd")
    assert response.redirect_chain[-1][0] == f"/partner/clients/{client.pk}/"
    assert ClientAssignment.objects.filter(member=member, client=client, assigned_by=member.user).exists()
    assert "Staff Added Ltd" in http.get("/partner/clients/").content.decode()
    event = Event.objects.get(action="practice.client.create", client=client)
    assert event.data["assigned_to"] == "rita@mine.test"


def test_an_imported_clients_panel_does_not_claim_who_pays(mine):
    """The list says "—" until Add subscriptions chooses who pays; the panel says the same thing in words."""
    practice, _, http = mine
    imported = _client(practice, "Imported Ltd", tab="imported")
    panel = http.get(f"/partner/clients/{imported.pk}/", HTTP_HX_REQUEST="true").content.decode()
    assert "Who pays is chosen when you add subscriptions" in panel
    assert "Accountant paying" not in panel


def test_side_panel_has_a_real_url_and_an_htmx_partial(mine):
    practice, _, http = mine
    client = _client(practice, "Alpha Ltd", contact_name="Ann")
    full = http.get(f"/partner/clients/{client.pk}/").content.decode()
    assert 'id="side-panel"' in full
    assert '<h2 id="client-heading" tabindex="-1">Alpha Ltd</h2>' in full  # focus goes to it (app.js)
    partial = http.get(f"/partner/clients/{client.pk}/", headers={"HX-Request": "true"}).content.decode()
    assert "<html" not in partial
    assert "Alpha Ltd" in partial
    manage = http.get(f"/partner/clients/{client.pk}/?panel=details").content.decode()
    assert '<label for="id_business_name">' in manage
    assert ">Save</button>" in manage


def test_a_panel_opened_from_a_link_shows_over_its_own_tab(mine):
    """ "Accept or decline on your Pending tab" (an email's link to the panel) opens over Pending, not Active."""
    practice, _, http = mine
    waiting = _client(practice, "Waiting Ltd", tab="pending")
    _client(practice, "Active Ltd")
    page = http.get(f"/partner/clients/{waiting.pk}/").content.decode()
    assert re.search(r'href="\?tab=pending"[^>]*aria-current="page"', page)
    assert "Active Ltd" not in page  # the list beside it is the Pending tab's
    chosen = http.get(f"/partner/clients/{waiting.pk}/?tab=active").content.decode()
    assert re.search(r'href="\?tab=active"[^>]*aria-current="page"', chosen)  # a tab in the URL still wins


def test_the_summary_shows_the_clients_business_details_and_services(mine):
    from partnerdesk.billing.tests.subscription_factories import make_service, subscribe

    practice, _, http = mine
    client = _client(
        practice,
        "Alpha Ltd",
        contact_name="Ann",
        phone="0113 496 0000",
        address="1 High Street\nLeeds",
        postcode="LS1 4AP",
        vat_number="GB123456789",
        company_number="01234567",
    )
    subscribe(client.company, make_service("t-books", name="Test Books"), make_service("t-pay", name="Test Pay"))
    text = " ".join(
        re.sub(
            r"<[^>]+>", " ", http.get(f"/partner/clients/{client.pk}/", HTTP_HX_REQUEST="true").content.decode()
        ).split()
    )
    for fact in (
        "Phone 0113 496 0000",
        "Address 1 High Street Leeds LS1 4AP",
        "VAT number GB123456789",
        "Company number 01234567",
        "Services Test Books, Test Pay",
    ):
        assert fact in text, fact


def test_add_client_validates_and_creates_an_active_non_participating_client(mine):
    _, _, http = mine
    bad = http.post(
        "/partner/clients/add/",
        {"business_name": " ", "vat_number": "12345", "company_number": "123", "postcode": "NOPE", "email": "x@"},
    )
    errors = bad.context["form"].errors
    assert set(errors) == {"business_name", "vat_number", "company_number", "postcode", "email"}
    # Too long is said in the field's own words, not "Ensure this value has at most 10 characters".
    too_long = (
        http.post(
            "/partner/clients/add/",
            {"business_name": "Long Ltd", "postcode": "SW1A 1AA XYZ", "company_number": "SC1234567", "phone": "1" * 31},
        )
        .context["form"]
        .errors
    )
    assert too_long["postcode"] == ["Enter a UK postcode, e.g. SW1A 1AA."]
    assert too_long["company_number"] == ["Enter the 8-character company number (e.g. 01234567 or SC123456)."]
    assert too_long["phone"] == ["Phone can be at most 30 characters (it has 31)."]
    response = http.post(
        "/partner/clients/add/",
        {
            "business_name": "New Co Ltd",
            "vat_number": "gb 123456789",
            "company_number": "sc123456",
            "postcode": "sw1a1aa",
        },
    )
    client = Client.objects.get(business_name="New Co Ltd")
    assert response["Location"] == f"/partner/clients/{client.pk}/"
    assert (client.tab, client.access, client.payer, client.company.owner_id) == ("active", "none", "accountant", None)
    assert (client.vat_number, client.company_number, client.postcode) == ("GB123456789", "SC123456", "SW1A 1AA")
    assert Event.objects.filter(action="practice.client.create", client=client).exists()


def test_add_client_with_an_existing_name_or_email_asks_first(mine):
    practice, _, http = mine
    existing = _client(practice, "Acme Ltd", email="pat@acme.test")
    _client(practice, "Riverside Café")
    accented = http.post(
        "/api/v1/practice/clients", {"business_name": "RIVERSIDE CAFÉ"}, content_type="application/json"
    )
    assert accented.status_code == 409  # Unicode case folding on every database
    page = http.post("/partner/clients/add/", {"business_name": "ACME  Ltd"})
    assert page.status_code == 200
    body = page.content.decode()
    assert "You already have a client with this business name: Acme Ltd" in body
    assert 'name="allow_duplicate"' in body
    by_email = http.post("/partner/clients/add/", {"business_name": "Other Ltd", "email": "PAT@acme.test"})
    assert "with this email: Acme Ltd" in by_email.content.decode()
    assert Client.objects.count() == 2
    added = http.post("/partner/clients/add/", {"business_name": "Acme Ltd", "allow_duplicate": "1"})
    assert added.status_code == 302
    assert Client.objects.filter(business_name="Acme Ltd").count() == 2

    api = http.post("/api/v1/practice/clients", {"business_name": "Acme Ltd"}, content_type="application/json")
    assert (api.status_code, api.json()["code"], api.json()["existing_client_id"]) == (
        409,
        "duplicate_client",
        existing.pk,
    )
    anyway = http.post(
        "/api/v1/practice/clients",
        {"business_name": "Acme Ltd", "allow_duplicate": True},
        content_type="application/json",
    )
    assert anyway.status_code == 201


def test_add_client_duplicate_check_reveals_nothing_a_restricted_staff_member_cannot_see(mine):
    practice, _, _ = mine
    _client(practice, "Unassigned Ltd")
    _member, http = _restricted(practice)
    assert http.post("/partner/clients/add/", {"business_name": "Unassigned Ltd"}).status_code == 302
    assert Client.objects.filter(business_name="Unassigned Ltd").count() == 2


def test_names_with_hidden_direction_or_control_characters_are_refused_in_the_form_the_api_and_imports(mine):
    from partnerdesk.practice.imports import validate_values

    _, _, http = mine
    spoof = "Invoice\u202eLtd.exe"
    page = http.post("/partner/clients/add/", {"business_name": spoof, "contact_name": "Pat\u200bOwner"})
    assert set(page.context["form"].errors) == {"business_name", "contact_name"}
    assert "hidden control or text-direction characters" in page.content.decode()
    api = http.post("/api/v1/practice/clients", {"business_name": spoof}, content_type="application/json")
    assert (api.status_code, api.json()["code"]) == (422, "client_details_invalid")
    assert "business_name" in api.json()["fields"]
    _, problems = validate_values({"business_name": spoof})
    assert [(p["field"], p["code"]) for p in problems] == [("business_name", "invalid_business_name")]
    assert not Client.objects.exists()


def test_amend_non_participating_details(mine):
    practice, _, http = mine
    client = _client(practice, "Alpha Ltd")
    panel = http.get(f"/partner/clients/{client.pk}/?panel=details").content.decode()
    assert "Optional. To let the client sign in, use Manage → Give client access" in panel
    assert "Only enter an email address for a participating client" not in panel
    response = http.post(
        f"/partner/clients/{client.pk}/details/",
        {"business_name": "Alpha Trading Ltd", "phone": "0161 000 0000", "version": 1},
    )
    assert response.status_code == 302
    client.refresh_from_db()
    assert (client.business_name, client.version) == ("Alpha Trading Ltd", 2)
    assert not ChangeRequest.objects.exists()
    event = Event.objects.get(action="practice.client.update", client=client)
    assert event.data["changes"]["business_name"] == ["Alpha Ltd", "Alpha Trading Ltd"]


def test_saving_over_a_newer_edit_is_refused(mine):
    practice, _, http = mine
    client = _client(practice, "Alpha Ltd")
    http.post(f"/partner/clients/{client.pk}/details/", {"business_name": "First Edit Ltd", "version": 1})
    stale = http.post(f"/partner/clients/{client.pk}/details/", {"business_name": "Second Edit Ltd", "version": 1})
    assert stale.status_code == 409
    assert "Someone else changed this client" in stale.content.decode()
    client.refresh_from_db()
    assert client.business_name == "First Edit Ltd"
    # The refused form still carries the version it was opened at: pressing Save again is refused again (it
    # used to carry the new version, and the second Save overwrote the other edit), until the latest details
    # are loaded.
    for htmx in (False, True):
        headers = {"HTTP_HX_REQUEST": "true"} if htmx else {}
        again = http.post(
            f"/partner/clients/{client.pk}/details/", {"business_name": "Second Edit Ltd", "version": 1}, **headers
        )
        page = again.content.decode()
        assert '<input type="hidden" name="version" value="1">' in page
        assert "Load the latest details" in page
        assert "Someone else changed this client" in page
    client.refresh_from_db()
    assert (client.business_name, client.version) == ("First Edit Ltd", 2)
    fresh = http.get(f"/partner/clients/{client.pk}/?panel=details").content.decode()
    assert '<input type="hidden" name="version" value="2">' in fresh


def test_a_details_form_opened_before_access_was_given_or_a_rename_cannot_write_back_old_details(mine):
    from partnerdesk.identity.services import company_rename
    from partnerdesk.practice.lifecycle import client_access_cancel, client_access_invite

    practice, admin, http = mine
    member = PracticeMember.objects.get(user=admin)
    client = _client(practice, "Alpha Ltd", contact_name="Pat", address="1 High St", postcode="LS1 1AA")
    opened = client.version
    client_access_invite(member=member, client_id=client.pk, email="pat@alpha.test", email_confirm="pat@alpha.test")
    client_access_cancel(member=member, client_id=client.pk)
    stale = http.post(
        f"/partner/clients/{client.pk}/details/",
        {"business_name": "Alpha Ltd", "contact_name": "Pat", "email": "", "version": opened},
    )
    assert stale.status_code == 409
    assert Client.objects.get(pk=client.pk).email == "pat@alpha.test"
    opened = Client.objects.get(pk=client.pk).version
    company_rename(actor=admin, company_id=client.company_id, business_name="Alpha Trading Ltd")
    stale = http.post(
        f"/partner/clients/{client.pk}/details/",
        {"business_name": "Alpha Ltd", "email": "pat@alpha.test", "version": opened},
    )
    assert stale.status_code == 409
    assert Client.objects.get(pk=client.pk).business_name == "Alpha Trading Ltd"


def test_an_invited_clients_email_is_where_the_link_went(mine):
    """Amending the address of a client awaiting activation would leave the link at the old one (and an empty
    one made Resend invitation fail): refused with the way forward, nothing saved."""
    practice, _, http = mine
    client = _client(practice, "Alpha Ltd", email="old@alpha.test", access="invited")
    panel = http.get(f"/partner/clients/{client.pk}/?panel=details").content.decode()
    found = re.search(r'<input[^>]*name="email"[^>]*>', panel)
    assert found is not None
    field = found.group(0)
    assert "readonly" in field
    assert 'value="old@alpha.test"' in field
    assert "The invitation went to this address" in panel
    for email in ("", "new@alpha.test"):
        response = http.post(
            f"/partner/clients/{client.pk}/details/", {"business_name": "Alpha Ltd", "email": email, "version": 1}
        )
        assert response.status_code == 400
        assert "awaiting activation at old@alpha.test" in response.content.decode()
        assert "cancel the invitation" in response.content.decode()
    client.refresh_from_db()
    assert (client.email, client.version) == ("old@alpha.test", 1)
    assert not Event.objects.filter(action="practice.client.update").exists()
    # Other details can still be amended, and Resend invitation still has its address.
    saved = http.post(
        f"/partner/clients/{client.pk}/details/",
        {"business_name": "Alpha Ltd", "email": "old@alpha.test", "phone": "0161 000 0000", "version": 1},
    )
    assert saved.status_code == 302
    assert http.post(f"/partner/clients/{client.pk}/give-access/resend/").status_code == 302
    assert OutboundEmail.objects.filter(to=["old@alpha.test"]).exists()


def test_a_client_with_its_own_login_keeps_an_email_address(mine):
    practice, _, http = mine
    owner = UserFactory.create(email="owner@alpha.test")
    client = _client(practice, "Alpha Ltd", email="owner@alpha.test", access="both")
    client.company.owner = owner
    client.company.save()
    response = http.post(f"/partner/clients/{client.pk}/details/", {"business_name": "Alpha Ltd", "version": 1})
    assert response.status_code == 400
    assert "their email address can&#x27;t be removed" in response.content.decode()
    client.refresh_from_db()
    assert client.email == "owner@alpha.test"
    assert not ChangeRequest.objects.exists()


def test_amend_participating_client_tells_the_administration_team(mine, settings):
    practice, _user, http = mine
    owner = UserFactory.create(email="owner@alpha.test")
    client = _client(practice, "Alpha Ltd", email="owner@alpha.test")
    client.company.owner = owner
    client.company.save()
    CompanyMembership.objects.create(user=owner, company=client.company, role="owner")
    panel = http.get(f"/partner/clients/{client.pk}/?panel=details").content.decode()
    assert "Only enter an email address if the client should have access" in panel
    response = http.post(
        f"/partner/clients/{client.pk}/details/",
        {"business_name": "Alpha Ltd", "email": "owner@alpha.test", "phone": "0113 111 2222", "version": 1},
        follow=True,
    )
    assert "administration team has been told" in response.content.decode()
    change = ChangeRequest.objects.get()
    assert (change.business_name, change.client_email, change.practice_name, change.practice_user_email) == (
        "Alpha Ltd",
        "owner@alpha.test",
        "Mine LLP",
        "me@mine.test",
    )
    email = OutboundEmail.objects.get(template="practice-client-details-changed")
    assert email.to == [settings.ADMIN_TEAM_EMAIL]
    assert email.context["practice_user_email"] == "me@mine.test"
    assert email.context["changes"] == [{"field": "Phone", "old": "", "new": "0113 111 2222"}]  # the form's words


def test_history_tab_lists_the_clients_audit_events(mine):
    practice, _, http = mine
    client = _client(practice, "Alpha Ltd")
    http.post(
        f"/partner/clients/{client.pk}/details/",
        {"business_name": "Alpha Two Ltd", "vat_number": "GB123456789", "version": 1},
    )
    history = http.get(f"/partner/clients/{client.pk}/?panel=history").content.decode()
    assert "Client details amended: Business name, VAT number" in history
    assert "me@mine.test" in history


def test_delete_client_only_from_pending_or_imported(mine):
    practice, _, http = mine
    imported = _client(practice, "Imported Ltd", tab="imported")
    active = _client(practice, "Active Ltd")
    confirm = http.get(f"/partner/clients/{imported.pk}/delete/").content.decode()
    assert ">Yes</button>" in confirm
    response = http.post(f"/partner/clients/{imported.pk}/delete/", follow=True)
    assert "Imported Ltd deleted." in response.content.decode()
    assert not Client.objects.filter(pk=imported.pk).exists()
    assert Event.objects.filter(action="practice.client.delete", client_id=imported.pk).exists()  # history outlives it
    refused = http.post(f"/partner/clients/{active.pk}/delete/", follow=True)
    assert "Stop Managing This Client" in refused.content.decode()
    assert Client.objects.filter(pk=active.pk).exists()
    # Nor is an Active client offered the question ("Nothing has been billed" would not be true).
    asked = http.get(f"/partner/clients/{active.pk}/delete/", follow=True)
    assert asked.redirect_chain == [(f"/partner/clients/{active.pk}/?panel=details", 302)]
    page = asked.content.decode()
    assert "An Active client can&#x27;t be deleted. Use Manage → Stop Managing This Client." in page
    assert "Nothing has been billed" not in page


def test_export_is_the_filtered_list_as_csv(mine):
    practice, _, http = mine
    _client(practice, "Alpha, Bakery", email="a@alpha.test", access="invited")
    _client(practice, "=HYPERLINK(evil)", access="invited")
    _client(practice, "Beta Ltd")
    response = http.get("/partner/clients/export.csv", {"access": "invited"})
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    lines = text.strip().splitlines()
    assert lines[0].startswith("Business name,Contact,Email")
    assert len(lines) == 3
    assert '"Alpha, Bakery"' in text
    assert "'=HYPERLINK(evil)" in text
    assert "Beta Ltd" not in text


def test_filter_by_assigned_staff(mine):
    from partnerdesk.practice.models import ClientAssignment

    practice, _, http = mine
    staff_user = UserFactory.create(email="raj@mine.test", full_name="Raj Patel")
    staff = PracticeMember.objects.create(practice=practice, user=staff_user, role="staff", sees_all_clients=False)
    assigned = _client(practice, "Assigned Ltd")
    _client(practice, "Unassigned Ltd")
    ClientAssignment.objects.create(member=staff, client=assigned)
    body = http.get("/partner/clients/", {"assigned": staff.pk}).content.decode()
    assert "Assigned Ltd" in body
    assert "Unassigned Ltd" not in body
    assert ">Raj Patel</option>" in body
    api = http.get("/api/v1/practice/clients", {"assigned": staff.pk}).json()
    assert [c["business_name"] for c in api["results"]] == ["Assigned Ltd"]


def test_each_row_links_its_side_panel_and_shows_its_state(mine):
    practice, _, http = mine
    alpha = _client(practice, "Alpha & Sons Ltd", contact_name="Ann", email="ann@alpha.test", access="both")
    Client.objects.filter(pk=alpha.pk).update(updated_at=datetime(2026, 3, 5, 23, 30, tzinfo=UTC))
    _client(practice, "Hidden Ltd", hidden=True, payer="client")
    _client(practice, "Imported Ltd", tab="imported")
    body = http.get("/partner/clients/?hidden=1&sort=name").content.decode()
    found = re.search(rf'<tr data-row-link>\s*<td><input[^>]*value="{alpha.pk}".*?</tr>', body, re.S)
    assert found is not None
    row = found.group(0)
    url = f"/partner/clients/{alpha.pk}/"
    # The panel's URL (a real one, and the one htmx asks for) keeps the list's query; app.js puts it in the address.
    panel = f"{url}?hidden=1&amp;sort=name"
    assert f'<a href="{panel}" hx-get="{panel}" hx-target="#side-panel">Alpha &amp; Sons Ltd</a>' in row
    assert "<td>Ann</td>" in row
    assert '<td class="long-text">ann@alpha.test</td>' in row
    assert "<td>—</td>" in row  # no services
    assert "<td>My company and client both have access</td>" in row
    assert "<td>Accountant paying</td>" in row
    # Shown in the practice's time zone (London: still 5 March at 23:30 UTC in winter).
    assert '<time datetime="2026-03-05T23:30:00+00:00">5 Mar 2026</time>' in row
    found = re.search(r'<tr data-row-link class="is-hidden">.*?</tr>', body, re.S)
    assert found is not None
    hidden = found.group(0)
    assert 'Hidden Ltd</a> <span class="badge">Hidden</span>' in hidden
    assert "<td>Client paying</td>" in hidden
    imported = http.get("/partner/clients/?tab=imported").content.decode()
    assert re.search(
        r"Imported Ltd</a></th>\s*<td></td>\s*<td class=\"long-text\"></td>\s*<td>—</td>\s*<td>No client access</td>\s*<td>—</td>",
        imported,
    )


def test_the_panel_uses_the_seeds_words_for_details_and_enable(mine):
    """ "Manage, then Edit Client Details" (participating), "Select the Details tab" (non-participating), and
    "Select Enable then Yes" straight from the selected client."""
    practice, _, http = mine
    plain = _client(practice, "Plain Ltd")
    page = http.get(f"/partner/clients/{plain.pk}/?panel=details").content.decode()
    assert '<a href="#client-details" data-focus-first-field>Details</a>' in page
    owner = UserFactory.create(email="owner@owned.test")
    owned = _client(practice, "Owned Ltd", access="disabled", email=owner.email)
    owned.company.owner = owner
    owned.company.save(update_fields=["owner"])
    details = http.get(f"/partner/clients/{owned.pk}/?panel=details").content.decode()
    assert '<a href="#client-details" data-focus-first-field>Edit Client Details</a>' in details
    summary = http.get(f"/partner/clients/{owned.pk}/").content.decode()
    assert f'<a href="/partner/clients/{owned.pk}/enable/">Enable</a>' in summary
    assert f"/partner/clients/{plain.pk}/enable/" not in http.get(f"/partner/clients/{plain.pk}/").content.decode()


def _staff(practice, email, **extra):
    user = UserFactory.create(email=email, full_name="Raj Patel")
    member = PracticeMember.objects.create(practice=practice, user=user, role="staff", **extra)
    http = HttpClient()
    http.force_login(user)
    return member, http


def test_restricted_staff_with_nothing_assigned_are_told_why_and_whom_to_ask(mine):
    practice, admin, _ = mine
    admin.full_name = "Helen Hartley"
    admin.save()
    _client(practice, "Not Theirs Ltd")
    _member, http = _staff(practice, "raj@mine.test", sees_all_clients=False)
    body = http.get("/partner/clients/").content.decode()
    assert "No clients match." not in body
    assert "No clients are assigned to you." in body
    assert "You see only the clients an admin assigns to you: ask Helen Hartley." in body
    assert "You see only the clients assigned to you." in body
    assert "me@mine.test" in body  # the admin's address, to write to


def test_unrestricted_staff_see_who_the_admins_are(mine):
    practice, _admin, _ = mine
    _member, http = _staff(practice, "raj@mine.test")
    body = http.get("/partner/clients/").content.decode()
    assert "Your practice&#x27;s admins:" in body or "Your practice's admins:" in body
    assert 'href="mailto:me@mine.test"' in body


def test_assigned_to_filter_lists_only_staff_not_admins(mine):
    practice, _admin, http = mine
    member, _ = _staff(practice, "raj@mine.test", sees_all_clients=False)
    body = http.get("/partner/clients/").content.decode()
    select = body[body.index('id="filter-assigned"') :]
    select = select[: select.index("</select>")]
    assert f'<option value="{member.pk}">Raj Patel</option>' in select
    admin_member = PracticeMember.objects.get(practice=practice, role="admin")
    assert f'value="{admin_member.pk}"' not in select
    assert "who-to-ask" not in body  # admins are not told to ask themselves


def test_an_empty_tab_says_what_lands_there_and_how_to_start(mine):
    practice, _, http = mine
    active = http.get("/partner/clients/").content.decode()
    assert "You have no clients yet" in active
    assert "No clients match." not in active
    for url, words in (
        ("/partner/clients/add/", "Add client"),
        ("/partner/clients/import/", "Import CSV"),
        ("/partner/clients/connect/", "Connect existing client"),
    ):
        assert f'<a href="{url}">{words}</a>' in active.split('id="empty-state"')[1]
    pending = http.get("/partner/clients/", {"tab": "pending"}).content.decode()
    assert "New Client Invitations" in pending
    assert "Awaiting client approval" in pending
    imported = http.get("/partner/clients/", {"tab": "imported"}).content.decode()
    assert "Clients from a CSV import land here" in imported
    assert "Add subscriptions" in imported
    # A search or filter that leaves nothing is still "No clients match."
    _client(practice, "Alpha Ltd")
    searched = http.get("/partner/clients/", {"q": "zzz"}).content.decode()
    assert "No clients match." in searched
    assert "You have no clients yet" not in searched
    filtered = http.get("/partner/clients/", {"access": "both"}).content.decode()
    assert "No clients match." in filtered
    assert 'id="empty-state"' not in filtered


def test_hidden_clients_are_said_beside_the_count_with_the_way_to_show_them(mine):
    practice, _, http = mine
    for i in range(5):
        _client(practice, f"Shown {i} Ltd")
    _client(practice, "Tucked Ltd", hidden=True)
    body = http.get("/partner/clients/").content.decode()
    assert 'Active <span class="count">(5)</span>' in body
    assert (
        '1 hidden client on this tab is not counted. <a href="?tab=active&amp;hidden=1">Show hidden clients</a>' in body
    )
    shown = http.get("/partner/clients/", {"hidden": "1"}).content.decode()
    assert 'Active <span class="count">(6)</span>' in shown
    assert 'id="hidden-count"' not in shown
    # Every client of the tab hidden: not "You have no clients yet".
    _client(practice, "Only Hidden Ltd", tab="imported", hidden=True)
    imported = http.get("/partner/clients/", {"tab": "imported"}).content.decode()
    assert 'id="empty-state"' not in imported
    assert "1 hidden client on this tab is not counted." in imported


def test_a_new_client_without_services_is_pointed_to_manage_subscriptions(mine):
    _, _, http = mine
    response = http.post("/partner/clients/add/", {"business_name": "Fresh Ltd"}, follow=True)
    client = Client.objects.get(business_name="Fresh Ltd")
    body = response.content.decode()
    assert "Fresh Ltd added to your Active clients. It has no services yet: choose them with Manage → Manage" in body
    assert (
        f'None yet. Choose them with Manage → <a href="/partner/clients/{client.pk}/subscriptions/">'
        "Manage Subscriptions</a>." in body
    )


def _attr(html: str, pattern: str, attr: str = "href") -> str:
    """The attribute of the first element whose opening tag matches ``pattern``, unescaped."""
    found = re.search(rf"<[^>]*{pattern}[^>]*>", html)
    assert found is not None, pattern
    value = re.search(rf'\s{attr}="([^"]*)"', found.group(0))
    assert value is not None, (pattern, attr)
    return value.group(1).replace("&amp;", "&")


@pytest.mark.parametrize(
    ("tab", "filters"),
    [("active", "&access=invited"), ("pending", ""), ("imported", "")],
)
def test_the_side_panel_keeps_the_lists_search_sort_filters_and_page_everywhere(mine, tab, filters):
    """Open a client from a searched, sorted, filtered second page: the panel's own URL, its Summary, Manage and
    History, its Save and its Close all keep that list, and the panel's URL loaded on its own shows that very list
    beside it (page 2, sorted, filtered): a reload or a shared link does not fall back to the bare tab."""
    practice, _, http = mine
    for i in range(55):
        _client(practice, f"Baker {i:02d} Ltd", tab=tab, access="invited" if tab == "active" else "none")
    _client(practice, "Other Ltd", tab=tab)
    state = f"tab={tab}&q=bak&sort=name&dir=desc{filters}"
    listing = http.get(f"/partner/clients/?{state}&page=2&panel=details&utm=x").content.decode()
    assert f"{tab.capitalize()} clients, page 2 of 2" in listing
    last = Client.objects.get(business_name="Baker 00 Ltd")  # last by name, descending: on page 2
    row = f"/partner/clients/{last.pk}/?{state}&page=2"  # the list's own parameters only, with its page
    assert _attr(listing, f'hx-get="/partner/clients/{last.pk}/') == row
    assert _attr(listing, f'hx-get="/partner/clients/{last.pk}/', "hx-get") == row
    assert "Other Ltd" not in listing

    panel = http.get(row, headers={"HX-Request": "true"}).content.decode()
    assert "<html" not in panel
    assert _attr(panel, 'class="panel-close"') == f"/partner/clients/?{state}&page=2"
    assert _attr(panel, "data-panel-url", "data-panel-url") == row
    assert _attr(panel, ">Summary<") == row
    assert _attr(panel, ">Manage<") == f"{row}&panel=details"
    assert _attr(panel, ">History<") == f"{row}&panel=history"

    manage = http.get(f"{row}&panel=details", headers={"HX-Request": "true"}).content.decode()
    assert _attr(manage, 'class="panel-close"') == f"/partner/clients/?{state}&page=2"
    assert _attr(manage, "data-panel-url", "data-panel-url") == f"{row}&panel=details"
    details = f"/partner/clients/{last.pk}/details/?{state}&page=2"
    assert _attr(manage, 'hx-target="#side-panel" novalidate', "action") == details
    assert _attr(manage, 'hx-target="#side-panel" novalidate', "hx-post") == details

    # Loaded on its own (a reload, a shared link): the same list beside the panel.
    full = http.get(row).content.decode()
    assert f"{tab.capitalize()} clients, page 2 of 2" in full
    assert re.search(rf'href="\?tab={tab}"[^>]*aria-current="page"', full)
    assert "Baker 00 Ltd</a>" in full
    assert "Baker 54 Ltd</a>" not in full
    assert "Other Ltd" not in full
    assert _attr(full, 'class="panel-close"') == f"/partner/clients/?{state}&page=2"
    history = http.get(f"{row}&panel=history").content.decode()
    assert f"{tab.capitalize()} clients, page 2 of 2" in history
    assert _attr(history, 'rel="prev"') == f"?{state}&page=1"  # the list's own links leave the panel's out

    if tab != "pending":  # Save without JavaScript: back to Manage over the same list
        form = {
            "version": last.version,
            "business_name": "Baker 00 Ltd",
            "contact_name": "Bea",
            "email": "",
            "phone": "",
            "address": "",
            "postcode": "",
            "vat_number": "",
            "company_number": "",
        }
        saved = http.post(details, form)
        assert (saved.status_code, saved["Location"]) == (302, f"{row}&panel=details")


def test_a_panel_without_a_list_query_closes_onto_its_own_tab(mine):
    practice, _, http = mine
    waiting = _client(practice, "Waiting Ltd", tab="pending")
    active = _client(practice, "Active Ltd")
    listing = http.get("/partner/clients/").content.decode()
    assert _attr(listing, f'hx-get="/partner/clients/{active.pk}/') == f"/partner/clients/{active.pk}/"  # no "?"
    panel = http.get(f"/partner/clients/{active.pk}/", headers={"HX-Request": "true"}).content.decode()
    assert _attr(panel, 'class="panel-close"') == "/partner/clients/?tab=active"
    assert _attr(panel, ">Manage<") == f"/partner/clients/{active.pk}/?panel=details"
    from_email = http.get(f"/partner/clients/{waiting.pk}/").content.decode()  # a link from an email
    assert _attr(from_email, 'class="panel-close"') == "/partner/clients/?tab=pending"
    # Its row's URL names no tab either: loaded on its own, a panel shows over its client's tab.
    assert _attr(from_email, f'hx-get="/partner/clients/{waiting.pk}/') == f"/partner/clients/{waiting.pk}/"


def test_the_panels_whole_page_and_htmx_fragment_are_never_cached_as_one(mine):
    """The same URL is a whole page (address bar, reload, Back) or the panel alone (htmx): a browser that kept the
    fragment would show it bare on Back from another page."""
    practice, _, http = mine
    client = _client(practice, "Alpha Ltd")
    for url in (f"/partner/clients/{client.pk}/", f"/partner/clients/{client.pk}/?panel=history"):
        assert "HX-Request" in http.get(url)["Vary"]
        assert "HX-Request" in http.get(url, headers={"HX-Request": "true"})["Vary"]
    refused = http.post(f"/partner/clients/{client.pk}/details/", {"version": client.version})
    assert "HX-Request" in refused["Vary"]
