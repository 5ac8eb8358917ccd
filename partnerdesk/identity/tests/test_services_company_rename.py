"""Customer services renames a business: the owner is told by email and on the company's page, and a practice's
own company carries the practice's name with it."""

from __future__ import annotations

import pytest
from django.conf import settings

from partnerdesk.audit.models import Action, Event
from partnerdesk.identity.services import company_create, company_rename
from partnerdesk.identity.tests.factories import UserFactory
from partnerdesk.notifications.models import Message, OutboundEmail
from partnerdesk.notifications.tasks import render_email
from partnerdesk.practice.models import Practice
from partnerdesk.practice.tests.staff_factories import make_practice

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff():
    return UserFactory.create(email="cs@partnerdesk.test", full_name="Casey Services", is_staff=True)


def test_rename_tells_the_owner_by_name_with_the_customer_services_address_and_on_the_company_page(staff):
    owner = UserFactory.create(email="ana@acme.test", full_name="Ana Lopes")
    company = company_create(business_name="Acme Ltd", owner_email=owner.email, owner=owner)
    company_rename(actor=staff, company_id=company.pk, business_name="Acme Trading Ltd")
    message = render_email(OutboundEmail.objects.get(template="company-renamed"))
    [(html, _)] = message.alternatives
    assert message.body.startswith("Hello Ana Lopes,")
    assert f"contact Customer Services at {settings.CUSTOMER_SERVICES_EMAIL}." in message.body
    assert f'href="mailto:{settings.CUSTOMER_SERVICES_EMAIL}"' in str(html)
    posted = Message.objects.get(company=company)
    assert posted.subject == "Your business name is now Acme Trading Ltd"
    assert '"Acme Ltd" to "Acme Trading Ltd"' in posted.body
    assert settings.CUSTOMER_SERVICES_EMAIL in posted.body
    assert posted.owner_only


def test_renaming_a_practices_own_company_renames_the_practice_with_its_audit(staff):
    practice, _admin = make_practice(name="Hartley LLP")
    company_rename(actor=staff, company_id=practice.company_id, business_name="Hartley & Moss LLP")
    assert Practice.objects.get(pk=practice.pk).name == "Hartley & Moss LLP"
    event = Event.objects.get(action=Action.PRACTICE_SETTINGS_UPDATE, practice=practice)
    assert event.actor == staff
    assert event.data == {"name": {"from": "Hartley LLP", "to": "Hartley & Moss LLP"}}
    assert Event.objects.filter(action=Action.COMPANY_RENAME, company_id=practice.company_id).count() == 1


def test_renaming_an_ordinary_company_touches_no_practice(staff):
    practice, _admin = make_practice(name="Hartley LLP")
    company = company_create(business_name="Acme Ltd")
    company_rename(actor=staff, company_id=company.pk, business_name="Acme Trading Ltd")
    assert Practice.objects.get(pk=practice.pk).name == "Hartley LLP"
    assert not Event.objects.filter(action=Action.PRACTICE_SETTINGS_UPDATE).exists()
