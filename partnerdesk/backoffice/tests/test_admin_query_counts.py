"""The back office's lists and pages take a number of queries that does not grow with their rows: each related row a
column or an inline names (a practice, a login, a company) is joined or prefetched, not fetched per row."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.contrib.auth.models import Group
from django.test import Client as HttpClient
from django.utils import timezone

from partnerdesk.billing.models import Licence, PracticeDiscount
from partnerdesk.compliance.models import AccountsPeriod, Submission
from partnerdesk.identity.models import CompanyMembership, User
from partnerdesk.identity.services import company_create
from partnerdesk.notifications.models import Message
from partnerdesk.practice.models import Client, ClientAssignment, Practice, PracticeMember

pytestmark = pytest.mark.django_db
ROWS = 15
_people = iter(range(1_000_000))


def _person() -> User:
    """A login without a password (hashing one for each of the ~90 people here would be most of the test's time)."""
    return User.objects.create_user(email=f"person{next(_people)}@example.test")


@pytest.fixture
def data() -> dict[str, Any]:
    """ROWS of everything the back office lists, each naming a different practice, login or company."""
    starts = dt.date(2026, 1, 1)
    practices, members = [], []
    for i in range(ROWS):
        practice = Practice.objects.create(
            company=company_create(business_name=f"Firm {i:02d} LLP"), name=f"Firm {i:02d}"
        )
        PracticeDiscount.objects.create(practice=practice, rate=Decimal(10 + i), effective_from=starts)
        practices.append(practice)
        members.append(PracticeMember.objects.create(practice=practice, user=_person(), role="staff"))
    big = practices[0]
    for _ in range(ROWS):  # one practice with many members (its page's inline)
        PracticeMember.objects.create(practice=big, user=_person(), role="staff")
    clients = []
    for i in range(ROWS):
        owner = _person()
        company = company_create(business_name=f"Client {i:02d} Ltd", owner_email=owner.email, owner=owner)
        CompanyMembership.objects.create(user=owner, company=company, role="owner")
        Licence.objects.create(company=company, payer="accountant", practice=practices[i], starts_on=starts)
        client = Client.objects.create(practice=practices[i], company=company, business_name=company.business_name)
        clients.append(client)
        ClientAssignment.objects.create(member=members[i], client=client, assigned_by=_person())
        Message.objects.create(company=company, subject=f"To the company {i}", body="Hello")
        Message.objects.create(practice=practices[i], subject=f"To the practice {i}", body="Hello", client=client)
    crowded = company_create(business_name="Crowded Ltd")  # a company with many users (its page's inline)
    for _ in range(ROWS):
        CompanyMembership.objects.create(user=_person(), company=crowded, role="user")
    period = AccountsPeriod.objects.create(
        practice=practices[0], client=clients[0], period_start=dt.date(2024, 4, 1), period_end=dt.date(2025, 3, 31)
    )
    for i in range(ROWS):  # a period with many submissions, each recorded by someone else
        Submission.objects.create(
            period=period, kind="ct600", reference=f"R{i}", submitted_at=timezone.now(), created_by=_person()
        )
    return {
        "practice": big,
        "company": crowded,
        "message": Message.objects.filter(practice__isnull=False).first(),
        "period": period,
    }


def _admin(staff: bool) -> HttpClient:
    """Customer services (the deployed back office: staff in its group) or a superuser."""
    if staff:
        user = User.objects.create_user(email="cs@partnerdesk.test", password="x" * 16, is_staff=True)
        user.groups.add(Group.objects.get(name="Customer services"))
    else:
        user = User.objects.create_superuser(email="root@partnerdesk.test", password="x" * 16)
    http = HttpClient()
    http.force_login(user)
    return http


# (customer services?, url, most queries): one more than they take; a query per row added 15 to 45 to each.
PAGES = [
    (True, "/admin/billing/licence/", 8),  # the practice column
    (False, "/admin/billing/licence/", 6),
    (True, "/admin/identity/company/", 8),  # the owner column
    (False, "/admin/identity/company/", 6),
    (True, "/admin/identity/company/{company}/change/", 7),  # the users inline: login and "user @ company"
    (False, "/admin/identity/company/{company}/change/", 5),
    (True, "/admin/notifications/message/", 8),  # the company and practice columns
    (False, "/admin/notifications/message/", 6),
    (False, "/admin/notifications/message/{message}/change/", 8),  # "visible to": each member's name
    (False, "/admin/practice/clientassignment/", 6),  # client, member (login @ practice), assigned by
    (True, "/admin/practice/practice/", 8),  # the discount rate today
    (False, "/admin/practice/practice/", 6),
    (True, "/admin/practice/practice/{practice}/change/", 9),  # the members inline
    (False, "/admin/compliance/accountsperiod/{period}/change/", 7),  # who recorded each submission
]


@pytest.mark.parametrize(("staff", "url", "most"), PAGES)
def test_back_office_page_query_count_does_not_grow_with_its_rows(
    data, staff, url, most, django_assert_max_num_queries
):
    http = _admin(staff)
    path = url.format(**{key: value.pk for key, value in data.items()})
    assert http.get(path).status_code == 200  # the first request records the device (usersessions)
    with django_assert_max_num_queries(most):
        assert http.get(path).status_code == 200


def test_the_practice_list_shows_each_practices_rate_today(data):
    """The rate comes from the list's own query now: still the rate in force today, with its two places, and 0.00
    for a practice without one."""
    Practice.objects.create(company=company_create(business_name="No Rate LLP"), name="No Rate")
    PracticeDiscount.objects.create(
        practice=data["practice"], rate=Decimal("99.5"), effective_from=timezone.localdate() + dt.timedelta(days=40)
    )
    page = _admin(True).get("/admin/practice/practice/").content.decode()
    assert '<td class="field-discount_today">10.00%</td>' in page  # Firm 00: its later rate is not in force yet
    assert '<td class="field-discount_today">24.00%</td>' in page  # Firm 14
    assert '<td class="field-discount_today">0.00%</td>' in page  # No Rate


def test_the_company_page_still_names_each_user(data):
    page = _admin(True).get(f"/admin/identity/company/{data['company'].pk}/change/").content.decode()
    emails = CompanyMembership.objects.filter(company=data["company"]).values_list("user__email", flat=True)
    assert len(emails) == ROWS
    assert all(email in page for email in emails)
