"""Which pending access requests a person decides (the home page, the Users page, the API's role=decider): the list
agrees with the rule the decisions themselves apply (``services.may_decide``), and finding it costs the same few
queries however many requests exist."""

from __future__ import annotations

import datetime as dt

import pytest
from allauth.account.models import EmailAddress
from django.utils import timezone

from partnerdesk.identity.models import AccessRequest, Company, CompanyMembership, User
from partnerdesk.identity.selectors import access_requests_to_decide
from partnerdesk.identity.services import company_create, may_decide
from partnerdesk.identity.tests.factories import UserFactory
from partnerdesk.practice.models import Client, Practice, PracticeMember

pytestmark = pytest.mark.django_db


def _request(company: Company, *, status: str = AccessRequest.Status.PENDING) -> AccessRequest:
    now = timezone.now()
    return AccessRequest.objects.create(
        requester=UserFactory.create(),
        company=company,
        status=status,
        expires_at=now + dt.timedelta(days=14),
        decided_at=None if status == AccessRequest.Status.PENDING else now,
    )


def _owned(owner: User, name: str) -> Company:
    company = company_create(business_name=name, owner_email=owner.email, owner=owner)
    CompanyMembership.objects.create(user=owner, company=company, role="owner")
    return company


@pytest.fixture
def world() -> dict[str, User]:
    owner = UserFactory.create(email="owner@example.test")
    admin = UserFactory.create(email="admin@practice.test")
    staff = UserFactory.create(email="staff@practice.test")
    holder = UserFactory.create(email="holder@example.test")  # holds ownerless companies' recorded address
    unverified = UserFactory.create(email="unverified@example.test", verified=False)
    EmailAddress.objects.create(user=unverified, email="unverified@example.test", verified=False, primary=True)
    bystander = UserFactory.create(email="bystander@example.test")
    practice = Practice.objects.create(company=company_create(business_name="Practice LLP"), name="Practice")
    PracticeMember.objects.create(practice=practice, user=admin, role="admin")
    PracticeMember.objects.create(practice=practice, user=staff, role="staff")

    _request(_owned(owner, "Mine Ltd"))
    _request(_owned(owner, "Mine Ltd"), status=AccessRequest.Status.APPROVED)  # decided already
    suspended = _owned(owner, "Suspended Ltd")
    Company.objects.filter(pk=suspended.pk).update(suspended_at=timezone.now())
    _request(suspended)
    disabled = _owned(owner, "Disabled Ltd")
    Client.objects.create(practice=practice, company=disabled, business_name="Disabled Ltd", access="disabled")
    _request(disabled)
    # Ownerless: managed by the practice (its admins decide), on its Pending tab only (not managed: the recorded
    # address decides), unmanaged (the recorded address, if verified), and another practice's.
    managed = company_create(business_name="Managed Ltd", owner_email="holder@example.test")
    Client.objects.create(practice=practice, company=managed, business_name="Managed Ltd")
    _request(managed)
    pending_tab = company_create(business_name="Pending Tab Ltd", owner_email="holder@example.test")
    Client.objects.create(practice=practice, company=pending_tab, business_name="Pending Tab Ltd", tab="pending")
    _request(pending_tab)
    _request(company_create(business_name="Unmanaged Ltd", owner_email="holder@example.test"))
    _request(company_create(business_name="Unverified Ltd", owner_email="unverified@example.test"))
    other = Practice.objects.create(company=company_create(business_name="Other LLP"), name="Other")
    theirs = company_create(business_name="Theirs Ltd", owner_email="holder@example.test")
    Client.objects.create(practice=other, company=theirs, business_name="Theirs Ltd")
    _request(theirs)
    return {
        "owner": owner,
        "admin": admin,
        "staff": staff,
        "holder": holder,
        "unverified": unverified,
        "bystander": bystander,
    }


@pytest.mark.parametrize(
    ("who", "names"),
    [
        ("owner", ["Mine Ltd"]),
        ("admin", ["Managed Ltd"]),
        ("staff", []),
        ("holder", ["Pending Tab Ltd", "Unmanaged Ltd"]),
        ("unverified", []),
        ("bystander", []),
    ],
)
def test_the_list_is_what_the_person_may_decide(world, who, names):
    user = world[who]
    listed = list(access_requests_to_decide(user=user))
    assert sorted(r.company.business_name for r in listed) == names
    decidable = [r for r in AccessRequest.objects.filter(status="pending") if may_decide(user=user, access_request=r)]
    assert sorted(r.pk for r in listed) == sorted(r.pk for r in decidable)


def test_finding_them_takes_the_same_queries_however_many_requests_exist(world, django_assert_max_num_queries):
    for _ in range(30):  # requests the admin does not decide, and decided ones, pile up
        _request(company_create(business_name="Elsewhere Ltd", owner_email="someone@else.test"))
        _request(Company.objects.get(business_name="Managed Ltd"), status=AccessRequest.Status.EXPIRED)
    with django_assert_max_num_queries(3):  # the admin's practices, their addresses, the requests
        listed = list(access_requests_to_decide(user=world["admin"]))
    assert [r.company.business_name for r in listed] == ["Managed Ltd"]
    assert listed[0].requester.email  # joined
