import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from partnerdesk.audit.models import Event
from partnerdesk.billing.selectors import discount_rate_in_force
from partnerdesk.identity.models import User
from partnerdesk.identity.selectors import pending_accountant_invitation
from partnerdesk.notifications.models import OutboundEmail
from partnerdesk.practice.demo import DEMO_PASSWORD
from partnerdesk.practice.models import Client, Practice, PracticeInvitation, PracticeMember

pytestmark = pytest.mark.django_db


def test_demo_loads_once_and_prints_logins(settings, capsys):
    settings.DEBUG = True
    call_command("demo")
    first = capsys.readouterr().out
    call_command("demo")
    second = capsys.readouterr().out
    assert "Demo data loaded." in first
    assert "Demo data already present." in second
    assert "admin@hartleymoss.test" in second
    assert DEMO_PASSWORD in second
    assert Practice.objects.count() == 1
    # accountant-paying licences show a discount
    assert discount_rate_in_force(practice=Practice.objects.get(), on=timezone.localdate()) == 20
    assert Client.objects.count() == 60  # 7 named, 52 generated, 1 Connect existing client request
    asked = Client.objects.get(requested_by="practice")
    assert (asked.tab, asked.company.business_name) == ("pending", "Northgate Florists Ltd")
    assert asked.request_expires_at is not None
    # Its own subscription, as a company that pays for itself (the seeded catalogue is there in this test).
    assert asked.company.subscription_items.count() == 1
    assert set(Client.objects.values_list("access", flat=True)) == {"none", "invited", "both", "disabled"}
    # Disable is only for clients the practice pays for (a client who pays keeps what they pay for).
    assert not Client.objects.filter(access="disabled", payer="client").exists()
    assert set(Client.objects.values_list("payer", flat=True)) == {"accountant", "client"}
    # Each access state as the real flows leave it: an invited client has the address its link went to;
    # a client with access, or whose access is disabled, is participating (its owner signs in with that address).
    for client in Client.objects.exclude(access="none").select_related("company__owner"):
        assert client.email, client.business_name
        if client.access == "invited":
            assert client.company.owner is None, client.business_name
            assert client.access_invitations.filter(status="pending", email=client.email).exists()
        else:
            assert client.company.owner is not None, client.business_name
            assert client.company.owner.email == client.email
            assert client.company.owner.check_password(DEMO_PASSWORD)
    # The other Pending rows are clients' invitations, recorded as the real flow does: the client pays for itself.
    invitations = Client.objects.filter(tab="pending").exclude(requested_by="practice")
    assert invitations.count() >= 5
    assert set(invitations.values_list("requested_by", "payer")) == {("client", "client")}
    for invitation in invitations.select_related("company"):  # as the owner's My accountant page shows it
        waiting = pending_accountant_invitation(company=invitation.company)
        assert waiting is not None, invitation.business_name
        assert (waiting.client, waiting.email) == (invitation, "admin@hartleymoss.test")
    assert Client.objects.filter(hidden=True).count() >= 2
    staff = PracticeMember.objects.get(role="staff")
    assert staff.sees_all_clients is False
    assert staff.assignments.count() == 8
    assert PracticeInvitation.objects.filter(status="pending").count() == 1
    assert set(PracticeMember.objects.values_list("role", flat=True)) == {"admin", "staff"}
    assert set(Client.objects.values_list("tab", flat=True)) == {"active", "pending", "imported"}
    assert Event.objects.filter(action="demo.data.load").count() == 1
    assert User.objects.get(email="admin@hartleymoss.test").check_password(DEMO_PASSWORD)
    # The named client awaiting activation was invited through the real flow: its email, with a working link, is
    # in the outbox (so in the developer inbox).
    oakwood = Client.objects.get(business_name="Oakwood Joinery")
    assert oakwood.access == "invited"
    [activation] = OutboundEmail.objects.filter(template="client-activation", to=["tom@oakwoodjoinery.test"])
    assert activation.context["activation_path"].startswith("/activate/")


def test_demo_refuses_with_debug_off(settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="DEBUG off"):
        call_command("demo")
    assert not Practice.objects.exists()


def test_demo_back_office_reads_as_people_write(settings, client):
    """The header greets the demo's customer services by name ("Welcome, Customer Services.", not "Welcome, Back.");
    the practice's discount reads "20.00% from 1 December 2025", from a date a practice could have had it."""
    from partnerdesk.billing.models import PracticeDiscount

    settings.DEBUG = True
    call_command("demo")
    staff = User.objects.get(email="backoffice@partnerdesk.test")
    client.force_login(staff)
    assert "Welcome, <strong>Customer Services</strong>." in client.get("/admin/").content.decode()
    discount = PracticeDiscount.objects.get()
    today = timezone.localdate()
    assert discount.effective_from == today.replace(year=today.year - 1, day=1)
    page = client.get(f"/admin/practice/practice/{discount.practice_id}/change/").content.decode()
    assert f"20.00% from 1 {discount.effective_from:%B %Y}" in page
    assert str(discount) == f"Hartley & Moss Accountants: 20.00% from 1 {discount.effective_from:%B %Y}"
