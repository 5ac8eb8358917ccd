import datetime as dt
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from partnerdesk.audit.models import Event
from partnerdesk.billing.models import PracticeDiscount
from partnerdesk.billing.selectors import discount_rate_in_force
from partnerdesk.lib.errors import InvalidTransition, NotFound
from partnerdesk.notifications.models import OutboundEmail
from partnerdesk.practice import staff_services as services
from partnerdesk.practice.models import Client, ClientAssignment, Practice, PracticeMember
from partnerdesk.practice.selectors import client_list, visible_clients
from partnerdesk.practice.tests.staff_factories import add_member, make_client, make_practice

pytestmark = pytest.mark.django_db


@pytest.fixture
def practice_admin():
    return make_practice()


def test_admin_changes_a_members_role_both_ways(practice_admin):
    practice, admin = practice_admin
    staff = add_member(practice, "staff@hartley.test")
    assert services.member_change_role(actor=admin, practice=practice, member_id=staff.pk, role="admin").role == "admin"
    assert services.member_change_role(actor=admin, practice=practice, member_id=staff.pk, role="staff").role == "staff"
    events = Event.objects.filter(action="practice.staff.role_change").order_by("id")
    assert [(e.data["from"], e.data["to"]) for e in events] == [("staff", "admin"), ("admin", "staff")]


def test_the_last_admin_cannot_be_demoted_or_removed(practice_admin):
    practice, admin = practice_admin
    me = PracticeMember.objects.get(user=admin)
    with pytest.raises(services.LastAdmin):
        services.member_change_role(actor=admin, practice=practice, member_id=me.pk, role="staff")
    with pytest.raises(services.LastAdmin):
        services.member_remove(actor=admin, practice=practice, member_id=me.pk)
    second = add_member(practice, "second@hartley.test", role="admin")
    services.member_change_role(actor=admin, practice=practice, member_id=me.pk, role="staff")
    with pytest.raises(NotFound):  # no longer an admin: admin-only actions are a 404 for them
        services.member_change_role(actor=admin, practice=practice, member_id=second.pk, role="staff")
    with pytest.raises(services.LastAdmin):
        services.member_change_role(actor=second.user, practice=practice, member_id=second.pk, role="staff")


def test_an_admin_may_leave_when_another_admin_remains(practice_admin):
    practice, admin = practice_admin
    add_member(practice, "second@hartley.test", role="admin")
    me = PracticeMember.objects.get(user=admin)
    services.member_remove(actor=admin, practice=practice, member_id=me.pk)
    assert not PracticeMember.objects.filter(user=admin).exists()


def test_staff_and_other_practices_cannot_manage_members(practice_admin):
    practice, _admin = practice_admin
    staff = add_member(practice, "staff@hartley.test")
    other, other_admin = make_practice("Other LLP", "boss@other.test")
    calls = [
        lambda actor, p: services.member_change_role(actor=actor, practice=p, member_id=staff.pk, role="admin"),
        lambda actor, p: services.member_remove(actor=actor, practice=p, member_id=staff.pk),
        lambda actor, p: services.member_set_visibility(
            actor=actor, practice=p, member_id=staff.pk, sees_all_clients=False
        ),
        lambda actor, p: services.practice_update_settings(actor=actor, practice=p, name="Taken over"),
    ]
    for call in calls:
        with pytest.raises(NotFound):
            call(staff.user, practice)
        with pytest.raises(NotFound):
            call(other_admin, practice)
    for call in calls[:3]:
        with pytest.raises(NotFound):  # the other admin's own practice has no such member
            call(other_admin, other)
    staff.refresh_from_db()
    assert (staff.role, staff.sees_all_clients) == ("staff", True)
    assert Practice.objects.get(pk=practice.pk).name == "Hartley LLP"


def test_removing_a_member_ends_their_access_to_every_client_at_once(practice_admin):
    practice, admin = practice_admin
    staff = add_member(practice, "staff@hartley.test", sees_all_clients=False)
    clients = [make_client(practice, f"Client {i}") for i in range(3)]
    services.clients_assign(actor=admin, practice=practice, member_id=staff.pk, client_ids=[c.pk for c in clients])
    assert visible_clients(member=staff).count() == 3
    services.member_remove(actor=admin, practice=practice, member_id=staff.pk)
    assert not PracticeMember.objects.filter(pk=staff.pk).exists()
    assert not ClientAssignment.objects.filter(member_id=staff.pk).exists()
    event = Event.objects.get(action="practice.staff.remove")
    assert event.data == {"member": staff.pk, "user": "staff@hartley.test", "role": "staff", "assignments": 3}
    email = OutboundEmail.objects.get(template="practice-member-removed")
    assert email.to == ["staff@hartley.test"]


def test_removing_a_member_ends_their_product_sessions(practice_admin):
    from allauth.idp.oidc.models import Client as OIDCClient
    from allauth.idp.oidc.models import Token

    practice, admin = practice_admin
    staff = add_member(practice, "staff@hartley.test")
    product = OIDCClient.objects.create(name="Partner Edition", id="partner-edition-test")
    Token.objects.create(client=product, user=staff.user, type=Token.Type.REFRESH_TOKEN, hash="s" * 64)
    Token.objects.create(client=product, user=admin, type=Token.Type.REFRESH_TOKEN, hash="a" * 64)
    services.member_remove(actor=admin, practice=practice, member_id=staff.pk)
    assert list(Token.objects.values_list("user_id", flat=True)) == [admin.pk]


def test_visible_clients_for_admins_unrestricted_and_restricted_staff(practice_admin):
    practice, admin = practice_admin
    admin_member = PracticeMember.objects.get(user=admin)
    everyone = add_member(practice, "all@hartley.test")
    restricted = add_member(practice, "some@hartley.test", sees_all_clients=False)
    a, b, c = (make_client(practice, name) for name in ("Alpha", "Beta", "Gamma"))
    other, _ = make_practice("Other LLP", "boss@other.test")
    make_client(other, "Not ours")
    services.clients_assign(actor=admin, practice=practice, member_id=restricted.pk, client_ids=[a.pk, c.pk])
    assert set(visible_clients(member=admin_member)) == {a, b, c}
    assert set(visible_clients(member=everyone)) == {a, b, c}
    assert set(visible_clients(member=restricted)) == {a, c}
    assert [x.business_name for x in client_list(member=restricted)] == ["Alpha", "Gamma"]
    # an admin with a stale "restricted" flag still sees everything
    PracticeMember.objects.filter(pk=admin_member.pk).update(sees_all_clients=False)
    admin_member.refresh_from_db()
    assert set(visible_clients(member=admin_member)) == {a, b, c}


def test_visibility_is_for_staff_only_and_audited(practice_admin):
    practice, admin = practice_admin
    staff = add_member(practice, "staff@hartley.test")
    me = PracticeMember.objects.get(user=admin)
    with pytest.raises(InvalidTransition):
        services.member_set_visibility(actor=admin, practice=practice, member_id=me.pk, sees_all_clients=False)
    member = services.member_set_visibility(actor=admin, practice=practice, member_id=staff.pk, sees_all_clients=False)
    assert member.sees_all_clients is False
    assert Event.objects.get(action="practice.staff.visibility").data["sees_all_clients"] is False


def test_bulk_assign_and_unassign(practice_admin):
    practice, admin = practice_admin
    staff = add_member(practice, "staff@hartley.test", sees_all_clients=False)
    clients = [make_client(practice, f"Client {i:02d}") for i in range(5)]
    ids = [c.pk for c in clients]
    assert services.clients_assign(actor=admin, practice=practice, member_id=staff.pk, client_ids=ids[:3]) == 3
    assert services.clients_assign(actor=admin, practice=practice, member_id=staff.pk, client_ids=ids) == 2
    assert ClientAssignment.objects.filter(member=staff).count() == 5
    assert services.clients_unassign(actor=admin, practice=practice, member_id=staff.pk, client_ids=ids[:2]) == 2
    assert set(visible_clients(member=staff).values_list("pk", flat=True)) == set(ids[2:])
    events = [
        (e.action, e.client_id, e.data["clients"])
        for e in Event.objects.filter(action__in=["practice.staff.assign", "practice.staff.unassign"]).order_by("id")
    ]
    # One event per client, on the client (its History), in the order of the calls.
    assert events == [
        *[("practice.staff.assign", pk, [pk]) for pk in ids],
        *[("practice.staff.unassign", pk, [pk]) for pk in ids[:2]],
    ]


def test_assign_refuses_another_practices_client_admins_and_empty_lists(practice_admin):
    practice, admin = practice_admin
    staff = add_member(practice, "staff@hartley.test")
    mine = make_client(practice, "Mine")
    other, _ = make_practice("Other LLP", "boss@other.test")
    theirs = make_client(other, "Theirs")
    with pytest.raises(NotFound):
        services.clients_assign(actor=admin, practice=practice, member_id=staff.pk, client_ids=[mine.pk, theirs.pk])
    assert not ClientAssignment.objects.exists()
    with pytest.raises(services.InvalidInput):
        services.clients_assign(actor=admin, practice=practice, member_id=staff.pk, client_ids=[])
    me = PracticeMember.objects.get(user=admin)
    with pytest.raises(InvalidTransition):
        services.clients_assign(actor=admin, practice=practice, member_id=me.pk, client_ids=[mine.pk])


def test_assignment_is_unique_per_member_and_client(practice_admin):
    practice, _admin = practice_admin
    staff = add_member(practice, "staff@hartley.test")
    client = make_client(practice, "Mine")
    ClientAssignment.objects.create(member=staff, client=client)
    with pytest.raises(IntegrityError), transaction.atomic():
        ClientAssignment.objects.create(member=staff, client=client)


def test_settings_name_and_contact_email_are_changed_and_audited(practice_admin):
    practice, admin = practice_admin
    updated = services.practice_update_settings(
        actor=admin, practice=practice, name="  Hartley  &  Moss ", contact_email="Office@Hartley.TEST"
    )
    assert (updated.name, updated.contact_email, updated.contact_email_pending) == (
        "Hartley & Moss",
        "",
        "office@hartley.test",
    )  # until the link emailed to it is opened
    event = Event.objects.get(action="practice.settings.update")
    assert event.data == {
        "name": {"from": "Hartley LLP", "to": "Hartley & Moss"},
        "company_business_name": {"from": "Hartley LLP", "to": "Hartley & Moss"},  # the practice's own company
        "contact_email_pending": {"from": "", "to": "office@hartley.test"},
    }
    services.practice_update_settings(actor=admin, practice=practice, name="Hartley & Moss")
    assert Event.objects.filter(action="practice.settings.update").count() == 1  # no change, no event


@pytest.mark.parametrize(("name", "email"), [("", None), ("   ", None), ("x" * 201, None), (None, "not-an-email")])
def test_settings_refuse_bad_input(practice_admin, name, email):
    practice, admin = practice_admin
    with pytest.raises(services.InvalidInput):
        services.practice_update_settings(actor=admin, practice=practice, name=name, contact_email=email)


def test_discount_rate_defaults_to_zero_and_is_kept_between_0_and_100(practice_admin):
    practice, _ = practice_admin
    assert discount_rate_in_force(practice=practice, on=timezone.localdate()) == Decimal("0")
    PracticeDiscount.objects.create(practice=practice, rate=Decimal("100"), effective_from=dt.date(2026, 1, 1))
    with pytest.raises(IntegrityError), transaction.atomic():
        PracticeDiscount.objects.create(practice=practice, rate=Decimal("100.01"), effective_from=dt.date(2026, 2, 1))
    with pytest.raises(IntegrityError), transaction.atomic():
        PracticeDiscount.objects.create(practice=practice, rate=Decimal("-1"), effective_from=dt.date(2026, 3, 1))


def test_client_tabs_still_scope_to_the_practice(practice_admin):
    practice, admin = practice_admin
    make_client(practice, "Waiting", tab=Client.Tab.PENDING)
    member = PracticeMember.objects.get(user=admin)
    assert [c.business_name for c in client_list(member=member, tab="pending")] == ["Waiting"]


def test_the_database_refuses_a_person_in_two_practices(practice_admin):
    _practice, admin = practice_admin
    other, _ = make_practice("Other LLP", "admin@other.test")
    with pytest.raises(IntegrityError), transaction.atomic():
        PracticeMember.objects.create(practice=other, user=admin, role=PracticeMember.Role.STAFF)
