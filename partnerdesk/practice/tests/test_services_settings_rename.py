"""A practice renaming itself in Settings renames its own billing company (the practice is a Company with the
Partner Edition subscription), in one transaction and one audit event, as customer services' rename of that company
renames the practice."""

from __future__ import annotations

import pytest

from partnerdesk.audit.models import Action, Event
from partnerdesk.identity.models import Company, CompanyMembership
from partnerdesk.identity.selectors import companies_claim, managing_practice, practice_claim
from partnerdesk.identity.tests.factories import UserFactory
from partnerdesk.lib.errors import Conflict, NotFound
from partnerdesk.notifications.models import Message
from partnerdesk.practice import staff_services as services
from partnerdesk.practice.models import Client, Practice, PracticeMember
from partnerdesk.practice.tests.staff_factories import add_member, make_client, make_practice

pytestmark = pytest.mark.django_db


@pytest.fixture
def firm():
    """Hartley LLP, whose admin Helen owns the practice's own company (as in the demo data)."""
    practice, admin = make_practice("Hartley LLP", "helen@hartley.test")
    Company.objects.filter(pk=practice.company_id).update(owner=admin, owner_email=admin.email)
    CompanyMembership.objects.create(user=admin, company=practice.company, role=CompanyMembership.Role.OWNER)
    return practice, admin


def test_renaming_the_practice_renames_its_company_in_one_audited_change(firm):
    practice, admin = firm
    services.practice_update_settings(actor=admin, practice=practice, name="Hartley & Moss LLP")
    company = Company.objects.get(pk=practice.company_id)
    assert (Practice.objects.get(pk=practice.pk).name, company.business_name) == (
        "Hartley & Moss LLP",
        "Hartley & Moss LLP",
    )
    [event] = Event.objects.filter(action=Action.PRACTICE_SETTINGS_UPDATE)
    assert (event.actor, event.practice_id, event.company_id) == (admin, practice.pk, company.pk)
    assert event.data == {
        "name": {"from": "Hartley LLP", "to": "Hartley & Moss LLP"},
        "company_business_name": {"from": "Hartley LLP", "to": "Hartley & Moss LLP"},
    }
    # The products see one name: the practice claim and the company claim of its owner agree.
    assert practice_claim(user=admin)["name"] == "Hartley & Moss LLP"  # type: ignore[index]
    assert [c["business_name"] for c in companies_claim(user=admin)] == ["Hartley & Moss LLP"]
    # Helen did it herself: no note to herself on the company's page.
    assert not Message.objects.filter(company=company).exists()


def test_another_practices_client_record_of_the_firm_follows_and_its_clients_see_the_new_name(firm):
    practice, admin = firm
    other, _ = make_practice("Other LLP", "boss@other.test")
    record = Client.objects.create(practice=other, company=practice.company, business_name="Hartley LLP")
    customer = make_client(practice, "Acme Ltd")
    services.practice_update_settings(actor=admin, practice=practice, name="Hartley & Moss LLP")
    record.refresh_from_db()
    assert (record.business_name, record.version) == ("Hartley & Moss LLP", 2)  # an open Details form can't undo it
    assert managing_practice(company=customer.company).name == "Hartley & Moss LLP"  # type: ignore[union-attr]


def test_the_companys_owner_is_told_on_its_page_when_another_admin_renames_it(firm):
    practice, helen = firm
    second = add_member(practice, "raj@hartley.test", role=PracticeMember.Role.ADMIN)
    services.practice_update_settings(actor=second.user, practice=practice, name="Hartley & Moss LLP")
    [message] = Message.objects.filter(company=practice.company)
    assert message.owner_only
    assert message.subject == "Your business name is now Hartley & Moss LLP"
    assert '"Hartley LLP" to "Hartley & Moss LLP"' in message.body
    assert helen.email not in message.body


def test_a_company_whose_name_had_drifted_takes_the_practices_name_on_the_next_save(firm):
    practice, admin = firm
    Company.objects.filter(pk=practice.company_id).update(business_name="Hartley Old Name Ltd")
    services.practice_update_settings(actor=admin, practice=practice, name="Hartley LLP")
    assert Company.objects.get(pk=practice.company_id).business_name == "Hartley LLP"
    [event] = Event.objects.filter(action=Action.PRACTICE_SETTINGS_UPDATE)
    assert event.data == {"company_business_name": {"from": "Hartley Old Name Ltd", "to": "Hartley LLP"}}
    services.practice_update_settings(actor=admin, practice=practice, name="Hartley LLP", contact_email="")
    assert Event.objects.filter(action=Action.PRACTICE_SETTINGS_UPDATE).count() == 1  # nothing changed


def test_a_refused_change_renames_nothing(firm):
    practice, admin = firm
    make_practice("Other LLP", "boss@other.test")
    # Helen's own verified login address, already another practice's contact email: refused after the rename ran.
    Practice.objects.filter(name="Other LLP").update(contact_email=admin.email)
    with pytest.raises(Conflict):
        services.practice_update_settings(
            actor=admin, practice=practice, name="Hartley & Moss LLP", contact_email=admin.email
        )
    assert Practice.objects.get(pk=practice.pk).name == "Hartley LLP"
    assert Company.objects.get(pk=practice.company_id).business_name == "Hartley LLP"
    assert not Event.objects.filter(action=Action.PRACTICE_SETTINGS_UPDATE).exists()


def test_staff_and_outsiders_cannot_rename_the_company(firm):
    practice, _admin = firm
    staff = add_member(practice, "staff@hartley.test")
    for user in (staff.user, UserFactory.create()):
        with pytest.raises(NotFound):
            services.practice_update_settings(actor=user, practice=practice, name="Taken over")
    assert Company.objects.get(pk=practice.company_id).business_name == "Hartley LLP"
