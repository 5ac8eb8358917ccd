import pytest
from django.test import Client as HttpClient
from django.utils import timezone

from partnerdesk.audit.models import Event
from partnerdesk.identity.models import Company
from partnerdesk.identity.tests.factories import UserFactory
from partnerdesk.practice.models import Client, ClientAssignment, Practice, PracticeInvitation, PracticeMember
from partnerdesk.practice.tests.staff_factories import add_member, invitation_token, make_client, make_practice

pytestmark = pytest.mark.django_db


def _api(user) -> HttpClient:
    client = HttpClient()
    client.force_login(user)
    return client


@pytest.fixture
def setup():
    practice, admin = make_practice()
    staff = add_member(practice, "staff@hartley.test")
    other, other_admin = make_practice("Other LLP", "boss@other.test")
    return practice, admin, staff, other, other_admin


def test_members_invitations_and_acceptance_through_the_api(setup):
    _practice, admin, _staff, _other, _ = setup
    api = _api(admin)
    members = api.get("/api/v1/practice/members").json()
    assert {(m["email"], m["role"]) for m in members} == {
        ("admin@hartley.test", "admin"),
        ("staff@hartley.test", "staff"),
    }

    created = api.post("/api/v1/practice/invitations", {"email": "new@example.test"}, content_type="application/json")
    assert created.status_code == 201
    body = created.json()
    assert (body["email"], body["role"], body["status"]) == ("new@example.test", "staff", "pending")
    assert "token" not in body
    assert [i["id"] for i in api.get("/api/v1/practice/invitations").json()] == [body["id"]]
    duplicate = api.post("/api/v1/practice/invitations", {"email": "new@example.test"}, content_type="application/json")
    assert (duplicate.status_code, duplicate.json()["code"]) == (409, "invitation_pending")

    invitation = PracticeInvitation.objects.get(pk=body["id"])
    old = invitation_token(invitation)
    assert api.post(f"/api/v1/practice/invitations/{body['id']}/resend").status_code == 200
    new = invitation_token(invitation)
    newcomer = _api(UserFactory.create(email="new@example.test"))
    stale = newcomer.post("/api/v1/practice/invitations/accept", {"token": old}, content_type="application/json")
    assert (stale.status_code, stale.json()["code"]) == (404, "invitation_not_found")
    accepted = newcomer.post("/api/v1/practice/invitations/accept", {"token": new}, content_type="application/json")
    assert accepted.status_code == 200
    assert (accepted.json()["email"], accepted.json()["role"]) == ("new@example.test", "staff")
    again = newcomer.post("/api/v1/practice/invitations/accept", {"token": new}, content_type="application/json")
    assert (again.status_code, again.json()["code"]) == (409, "invitation_accepted")
    assert api.get("/api/v1/practice/invitations").json() == []


def test_accept_with_another_email_is_refused(setup):
    _practice, admin, *_ = setup
    api = _api(admin)
    body = api.post("/api/v1/practice/invitations", {"email": "new@example.test"}, content_type="application/json")
    token = invitation_token(PracticeInvitation.objects.get(pk=body.json()["id"]))
    response = _api(UserFactory.create()).post(
        "/api/v1/practice/invitations/accept", {"token": token}, content_type="application/json"
    )
    assert (response.status_code, response.json()["code"]) == (403, "invitation_email_mismatch")
    assert response["Content-Type"] == "application/problem+json"


def test_revoke_only_pending(setup):
    _practice, admin, *_ = setup
    api = _api(admin)
    invitation_id = api.post(
        "/api/v1/practice/invitations", {"email": "new@example.test", "role": "admin"}, content_type="application/json"
    ).json()["id"]
    assert api.delete(f"/api/v1/practice/invitations/{invitation_id}").status_code == 204
    again = api.delete(f"/api/v1/practice/invitations/{invitation_id}")
    assert (again.status_code, again.json()["code"]) == (409, "invitation_closed")
    assert PracticeInvitation.objects.get(pk=invitation_id).status == "revoked"


def test_role_visibility_assignments_and_removal(setup):
    practice, admin, staff, *_ = setup
    api = _api(admin)
    clients = [make_client(practice, f"Client {i}") for i in range(3)]
    ids = [c.pk for c in clients]
    visibility = api.put(
        f"/api/v1/practice/members/{staff.pk}/visibility", {"sees_all_clients": False}, content_type="application/json"
    )
    assert visibility.json()["sees_all_clients"] is False
    assigned = api.post(
        f"/api/v1/practice/members/{staff.pk}/clients", {"client_ids": ids}, content_type="application/json"
    ).json()
    assert assigned == {"changed": 3, "client_ids": sorted(ids)}
    unassigned = api.post(
        f"/api/v1/practice/members/{staff.pk}/clients/unassign",
        {"client_ids": ids[:1]},
        content_type="application/json",
    ).json()
    assert unassigned == {"changed": 1, "client_ids": sorted(ids[1:])}
    assert api.get(f"/api/v1/practice/members/{staff.pk}/clients").json()["client_ids"] == sorted(ids[1:])
    # A client the practice stops managing is no longer one of theirs, in the list or the count.
    Client.all_objects.filter(pk=ids[2]).update(ended_at=timezone.now(), ended_reason="deleted")
    assert api.get(f"/api/v1/practice/members/{staff.pk}/clients").json()["client_ids"] == [ids[1]]
    listed = {m["id"]: m["assigned_clients"] for m in api.get("/api/v1/practice/members").json()}
    assert listed[staff.pk] == 1
    role = api.put(f"/api/v1/practice/members/{staff.pk}/role", {"role": "admin"}, content_type="application/json")
    assert role.json()["role"] == "admin"
    me = PracticeMember.objects.get(user=admin)
    assert (
        api.put(
            f"/api/v1/practice/members/{me.pk}/role", {"role": "staff"}, content_type="application/json"
        ).status_code
        == 200
    )
    last = _api(staff.user).delete(f"/api/v1/practice/members/{staff.pk}")
    assert (last.status_code, last.json()["code"]) == (409, "last_admin")
    assert _api(staff.user).delete(f"/api/v1/practice/members/{me.pk}").status_code == 204
    assert not ClientAssignment.objects.filter(member__user=admin).exists()


def test_bad_input_is_a_problem_not_a_crash(setup):
    _practice, admin, staff, *_ = setup
    api = _api(admin)
    bad_role = api.put(f"/api/v1/practice/members/{staff.pk}/role", {"role": "owner"}, content_type="application/json")
    assert bad_role.status_code == 422
    bad_email = api.post("/api/v1/practice/invitations", {"email": "nope"}, content_type="application/json")
    assert (bad_email.status_code, bad_email.json()["code"]) == (422, "email_invalid")
    huge = api.delete(f"/api/v1/practice/members/{2**70}")
    assert huge.status_code == 422
    empty = api.post(
        f"/api/v1/practice/members/{staff.pk}/clients", {"client_ids": []}, content_type="application/json"
    )
    assert empty.status_code == 422


def test_settings_read_and_update(setup):
    _practice, admin, *_ = setup
    api = _api(admin)
    assert api.get("/api/v1/practice/settings").json() == {
        "name": "Hartley LLP",
        "contact_email": "",
        "contact_email_pending": "",
        "discount_rate": "0.00",
    }
    updated = api.patch(
        "/api/v1/practice/settings",
        {"name": "Hartley & Moss", "contact_email": "office@hartley.test", "discount_rate": "50"},
        content_type="application/json",
    ).json()
    assert updated == {  # the new address waits for the link emailed to it
        "name": "Hartley & Moss",
        "contact_email": "",
        "contact_email_pending": "office@hartley.test",
        "discount_rate": "0.00",
    }
    spoofed = api.patch("/api/v1/practice/settings", {"name": "Hartley\u202e & Moss"}, content_type="application/json")
    assert (spoofed.status_code, spoofed.json()["code"]) == (422, "invalid_name")
    assert api.get("/api/v1/practice/settings").json()["name"] == "Hartley & Moss"


def test_renaming_through_the_api_renames_the_practices_own_company(setup):
    practice, admin, *_ = setup
    api = _api(admin)
    response = api.patch("/api/v1/practice/settings", {"name": "Hartley & Moss"}, content_type="application/json")
    assert response.json()["name"] == "Hartley & Moss"
    assert Company.objects.get(pk=practice.company_id).business_name == "Hartley & Moss"
    event = Event.objects.get(action="practice.settings.update")
    assert (event.actor, event.practice_id, event.company_id) == (admin, practice.pk, practice.company_id)
    # Only the contact email: the name (and the company's) stay as they are, with no second event.
    api.patch("/api/v1/practice/settings", {"contact_email": ""}, content_type="application/json")
    assert Company.objects.get(pk=practice.company_id).business_name == "Hartley & Moss"
    assert Event.objects.filter(action="practice.settings.update").count() == 1
    properties = api.get("/api/v1/openapi.json").json()["components"]["schemas"]["SettingsIn"]["properties"]
    assert "business name of its own company" in properties["name"]["description"]


def test_staff_and_other_practices_get_404_on_every_endpoint(setup):
    practice, admin, staff, other, other_admin = setup
    client = make_client(practice, "Mine")
    invitation_id = (
        _api(admin)
        .post("/api/v1/practice/invitations", {"email": "new@example.test"}, content_type="application/json")
        .json()["id"]
    )
    target = staff.pk
    json = "application/json"
    calls = [
        ("put", f"/api/v1/practice/members/{target}/role", {"role": "admin"}),
        ("put", f"/api/v1/practice/members/{target}/visibility", {"sees_all_clients": False}),
        ("delete", f"/api/v1/practice/members/{target}", None),
        ("get", f"/api/v1/practice/members/{target}/clients", None),
        ("post", f"/api/v1/practice/members/{target}/clients", {"client_ids": [client.pk]}),
        ("post", f"/api/v1/practice/members/{target}/clients/unassign", {"client_ids": [client.pk]}),
        ("post", f"/api/v1/practice/invitations/{invitation_id}/resend", None),
        ("delete", f"/api/v1/practice/invitations/{invitation_id}", None),
    ]
    # The practice's own staff are told these are for its admins; another practice's admin finds nothing.
    for who, status in ((staff.user, 403), (other_admin, 404)):
        api = _api(who)
        for method, url, data in calls:
            kwargs = {"data": data, "content_type": json} if data is not None else {}
            response = getattr(api, method)(url, **kwargs)
            assert response.status_code == status, (who.email, method, url, response.content)
    assert _api(staff.user).get("/api/v1/practice/invitations").status_code == 403
    settings = _api(staff.user).get("/api/v1/practice/settings")
    assert (settings.status_code, settings.json()["code"]) == (403, "practice_admin_only")
    assert _api(other_admin).get("/api/v1/practice/members").json()[0]["email"] == "boss@other.test"
    # the other admin cannot assign our client to their own staff either
    theirs = add_member(other, "their-staff@other.test")
    response = _api(other_admin).post(
        f"/api/v1/practice/members/{theirs.pk}/clients", {"client_ids": [client.pk]}, content_type=json
    )
    assert response.status_code == 404
    assert PracticeMember.objects.get(pk=staff.pk).role == "staff"
    assert PracticeInvitation.objects.get(pk=invitation_id).status == "pending"
    assert Practice.objects.get(pk=practice.pk).name == "Hartley LLP"


def test_anonymous_gets_401():
    assert HttpClient().get("/api/v1/practice/members").status_code == 401


def test_staff_read_the_members_list_and_are_told_only_admins_manage_them(setup):
    practice, admin, staff, *_ = setup
    restricted = add_member(practice, "raj@hartley.test", sees_all_clients=False)
    ClientAssignment.objects.create(member=restricted, client=make_client(practice, "Mine"))
    api = _api(staff.user)
    listed = api.get("/api/v1/practice/members")
    assert listed.status_code == 200
    assert listed.json() == _api(admin).get("/api/v1/practice/members").json()  # the same list the admins read
    by_email = {m["email"]: m for m in listed.json()}
    assert (by_email["admin@hartley.test"]["role"], by_email["admin@hartley.test"]["sees_all_clients"]) == (
        "admin",
        True,
    )
    assert (by_email["raj@hartley.test"]["sees_all_clients"], by_email["raj@hartley.test"]["assigned_clients"]) == (
        False,
        1,
    )
    # Every change, the invitations and a member's clients stay the admins': 403 with a stable code.
    json = "application/json"
    for method, url, data in (
        ("post", "/api/v1/practice/invitations", {"email": "new@example.test"}),
        ("get", "/api/v1/practice/invitations", None),
        ("put", f"/api/v1/practice/members/{restricted.pk}/role", {"role": "admin"}),
        ("put", f"/api/v1/practice/members/{restricted.pk}/visibility", {"sees_all_clients": True}),
        ("get", f"/api/v1/practice/members/{restricted.pk}/clients", None),
        ("delete", f"/api/v1/practice/members/{restricted.pk}", None),
    ):
        kwargs = {"data": data, "content_type": json} if data is not None else {}
        response = getattr(api, method)(url, **kwargs)
        assert response.status_code == 403, (method, url)
        body = response.json()
        assert (body["code"], body["detail"]) == (
            "practice_admin_only",
            "Only your practice's admins manage its members.",
        )
    assert PracticeMember.objects.get(pk=restricted.pk).role == "staff"
    assert not PracticeInvitation.objects.exists()
    outsider = UserFactory.create()
    assert _api(outsider).get("/api/v1/practice/members").status_code == 404
    described = api.get("/api/v1/openapi.json").json()["paths"]["/api/v1/practice/members"]["get"]["description"]
    assert "Every member of the practice may read" in described


def test_reading_a_members_clients_returns_only_the_client_ids(setup):
    practice, admin, staff, *_ = setup
    client = make_client(practice, "Mine")
    ClientAssignment.objects.create(member=staff, client=client)
    body = _api(admin).get(f"/api/v1/practice/members/{staff.pk}/clients").json()
    assert body == {"client_ids": [client.pk]}


def test_an_expired_pending_invitation_is_listed_as_expired(setup):
    _practice, admin, *_ = setup
    api = _api(admin)
    created = api.post("/api/v1/practice/invitations", {"email": "late@example.test"}, content_type="application/json")
    PracticeInvitation.objects.filter(pk=created.json()["id"]).update(expires_at=timezone.now())
    listed = api.get("/api/v1/practice/invitations").json()
    assert [(i["email"], i["status"]) for i in listed] == [("late@example.test", "expired")]


def test_resending_an_accepted_invitation_says_they_are_already_a_member(setup):
    _practice, admin, *_ = setup
    api = _api(admin)
    created = api.post(
        "/api/v1/practice/invitations", {"email": "joined@example.test"}, content_type="application/json"
    )
    PracticeInvitation.objects.filter(pk=created.json()["id"]).update(status="accepted")
    response = api.post(f"/api/v1/practice/invitations/{created.json()['id']}/resend")
    assert response.status_code == 409
    assert response.json()["detail"] == "They accepted: they are already a member."


def test_an_api_invitation_is_for_assigned_clients_only_unless_said(setup):
    _practice, admin, *_ = setup
    api = _api(admin)
    plain = api.post("/api/v1/practice/invitations", {"email": "a@example.test"}, content_type="application/json")
    assert plain.json()["sees_all_clients"] is False
    wide = api.post(
        "/api/v1/practice/invitations",
        {"email": "b@example.test", "sees_all_clients": True},
        content_type="application/json",
    )
    assert wide.json()["sees_all_clients"] is True
    assert PracticeInvitation.objects.get(email="b@example.test").sees_all_clients is True
