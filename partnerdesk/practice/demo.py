"""Demo data for the embedded default: a practice with an admin and a staff member, and clients in several states."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from allauth.account.models import EmailAddress
from django.db import transaction
from django.utils import timezone

from partnerdesk.audit.models import Action
from partnerdesk.audit.services import record_event
from partnerdesk.identity.models import Company, CompanyMembership, User
from partnerdesk.identity.services import company_create
from partnerdesk.lib.tokens import hash_token, new_token
from partnerdesk.practice.models import (
    AccountantInvitation,
    Client,
    ClientAssignment,
    Practice,
    PracticeInvitation,
    PracticeMember,
)

DEMO_PASSWORD = "partnerdesk-demo-2026"
DEMO_PRACTICE = "Hartley & Moss Accountants"


def demo_discount_from() -> date:
    """The demo practice's rate starts on the 1st of this month a year ago: before any demo licence starts (the
    earliest is 90 days back), and a date a practice could have had its rate from."""
    today = timezone.localdate()
    return date(today.year - 1, today.month, 1)


@dataclass(frozen=True)
class DemoLogin:
    email: str
    role: str


LOGINS = [
    DemoLogin("admin@hartleymoss.test", "Practice admin (Partner Edition)"),
    DemoLogin("staff@hartleymoss.test", "Practice staff (Partner Edition)"),
    DemoLogin("owner@brightsparks.test", "Client subscription owner (Business Cloud Accounting)"),
    DemoLogin("owner@northgateflorists.test", "Owner asked by the practice to connect (My accountant)"),
    DemoLogin("backoffice@partnerdesk.test", "Back office (/admin/)"),
]

# business name, contact, email, tab, access, hidden, owner login (participating)
CLIENTS = [
    ("Bright Sparks Electrical Ltd", "Priya Shah", "owner@brightsparks.test", "active", "both", False, True),
    ("Oakwood Joinery", "Tom Baker", "tom@oakwoodjoinery.test", "active", "invited", False, False),
    ("Riverside Café", "Ana Lopes", "", "active", "none", False, False),
    ("Greenfield Farm Partnership", "Huw Evans", "huw@greenfieldfarm.test", "active", "disabled", False, True),
    ("Northgate Dental Practice", "Dr Sam Okafor", "sam@northgatedental.test", "active", "none", True, False),
    ("Copper Kettle Tearooms", "Jean Hollis", "jean@copperkettle.test", "pending", "both", False, True),
    ("Fenwick Haulage Ltd", "Mark Fenwick", "", "imported", "none", False, False),
]


_TRADES = [
    "Bakery",
    "Joinery",
    "Plumbing",
    "Florists",
    "Garage",
    "Dental",
    "Opticians",
    "Printers",
    "Builders",
    "Kennels",
    "Salon",
    "Deli",
    "Cycles",
    "Surveyors",
    "Tailors",
    "Roofing",
    "Catering",
    "Lettings",
]
_PLACES = [
    "Ashford",
    "Bramley",
    "Carlton",
    "Dalby",
    "Elmhurst",
    "Fairfield",
    "Glenside",
    "Harrow",
    "Ivybridge",
    "Kingsley",
    "Langley",
    "Marston",
    "Newbury",
    "Oakham",
    "Penrith",
    "Quarry Bank",
    "Redhill",
    "Selby",
]
_ACTIVE_ACCESS = ["none", "none", "invited", "both", "disabled"]


def generated_clients(count: int = 52) -> list[tuple[str, str, str, str, str, bool, bool, str]]:
    """Deterministic extra clients so the demo list has every tab, access state, payer and hidden case."""
    rows = []
    for i in range(count):
        name = f"{_PLACES[i % len(_PLACES)]} {_TRADES[(i * 7 + i // len(_PLACES)) % len(_TRADES)]}{' Ltd' if i % 3 else ''}"
        tab = "pending" if i % 9 == 4 else "imported" if i % 9 == 7 else "active"
        # A Pending row is a client's invitation (New Client Invitation): its owner signs in, as the real flow
        # records it (access for both once accepted).
        access = _ACTIVE_ACCESS[i % len(_ACTIVE_ACCESS)] if tab == "active" else "both" if tab == "pending" else "none"
        # A Pending row is a client's invitation: the client pays for itself, as the real flow records it. Only a
        # client the practice pays for can be disabled.
        client_pays = tab == "pending" or (tab == "active" and i % 6 == 5 and access != "disabled")
        payer = "client" if client_pays else "accountant"
        hidden = tab == "active" and i % 11 == 3
        contact = f"Contact {i + 1:02d}"
        # As the real flows leave them: an invited client has the address the link went to; a client with
        # access (or whose access is disabled) is participating, its owner signs in with that address.
        # Only some clients without access have an email address at all.
        has_email = access != "none" or i % 4 != 0
        email = f"accounts{i + 1:02d}@{name.split()[0].lower()}.test" if has_email else ""
        participating = access in ("both", "disabled")
        rows.append((name, contact, email, tab, access, hidden, participating, payer))
    return rows


def _user(email: str, full_name: str, *, staff: bool = False) -> User:
    user = User.objects.filter(email=email).first()
    if user is None:
        user = User.objects.create_user(email=email, password=DEMO_PASSWORD, full_name=full_name)
        if staff:  # customer services: the back office's group, not a superuser
            from partnerdesk.backoffice.services import customer_services_group

            user.is_staff = True
            user.save(update_fields=["is_staff"])
            user.groups.add(customer_services_group())
    EmailAddress.objects.get_or_create(user=user, email=email, defaults={"verified": True, "primary": True})
    return user


def load_demo() -> bool:
    """Create the demo data once. Returns False when it was already there."""
    with transaction.atomic():
        if Practice.objects.filter(name=DEMO_PRACTICE).exists():
            return False
        admin = _user("admin@hartleymoss.test", "Helen Hartley")
        staff = _user("staff@hartleymoss.test", "Raj Patel")
        _user("backoffice@partnerdesk.test", "Customer Services", staff=True)
        practice_company = company_create(business_name=DEMO_PRACTICE, owner_email=admin.email, owner=admin)
        CompanyMembership.objects.create(user=admin, company=practice_company, role=CompanyMembership.Role.OWNER)
        # A partner discount, so accountant-paying licences and invoices show it (Partnerdesk sets it per practice).
        practice = Practice.objects.create(company=practice_company, name=DEMO_PRACTICE, contact_email=admin.email)
        from partnerdesk.billing.models import PracticeDiscount

        PracticeDiscount.objects.create(practice=practice, rate=Decimal("20.00"), effective_from=demo_discount_from())
        PracticeMember.objects.create(practice=practice, user=admin, role=PracticeMember.Role.ADMIN)
        PracticeMember.objects.create(practice=practice, user=staff, role=PracticeMember.Role.STAFF)
        rows = [(*row, "client" if row[3] == "pending" else "accountant") for row in CLIENTS] + generated_clients()
        named = {row[0] for row in CLIENTS}
        invite_for_real: list[Client] = []
        for name, contact, email, tab, access, hidden, participating, payer in rows:
            if name in named and access == "invited":
                # The named client awaiting activation is invited through the real flow (below), so the
                # developer inbox holds its activation email with a working link.
                access, invite_for_real = "none", [*invite_for_real, Client(business_name=name, email=email)]
            owner = _user(email, contact) if participating else None
            company: Company = company_create(business_name=name, owner_email=email, owner=owner)
            if owner is not None:
                CompanyMembership.objects.create(user=owner, company=company, role=CompanyMembership.Role.OWNER)
            client = Client.objects.create(
                practice=practice,
                company=company,
                business_name=name,
                contact_name=contact,
                email=email,
                address=f"{len(name)} High Street, {name.split()[0]}",
                postcode=f"AB{len(name) % 9 + 1} {len(contact) % 9}CD",
                tab=tab,
                access=access,
                hidden=hidden,
                payer=payer,
                requested_by=Client.RequestedBy.CLIENT if tab == "pending" else "",
            )
            if tab == "pending":  # the owner's Invite your accountant, as the portal records it
                AccountantInvitation.objects.create(
                    company=company, email=admin.email, matched=True, client=client, invited_by=owner
                )
            _demo_billing(client, index=len(name) + len(contact))
        from partnerdesk.practice.lifecycle import client_access_invite

        admin_member = PracticeMember.objects.get(practice=practice, user=admin)
        for wanted in invite_for_real:
            invited = Client.objects.get(practice=practice, business_name=wanted.business_name)
            client_access_invite(
                member=admin_member, client_id=invited.pk, email=wanted.email, email_confirm=wanted.email
            )
        # The staff member sees only the clients assigned to them; one more person is invited to join.
        staff_member = PracticeMember.objects.get(practice=practice, user=staff)
        staff_member.sees_all_clients = False
        staff_member.save(update_fields=["sees_all_clients"])
        assigned = Client.objects.filter(practice=practice, tab=Client.Tab.ACTIVE).order_by("business_name")[:8]
        ClientAssignment.objects.bulk_create(
            [ClientAssignment(member=staff_member, client=client, assigned_by=admin) for client in assigned]
        )
        PracticeInvitation.objects.create(
            practice=practice,
            email="new.starter@hartleymoss.test",
            role=PracticeMember.Role.STAFF,
            token_hash=hash_token(new_token()),  # the link itself is not needed for the demo
            invited_by=admin,
            expires_at=timezone.now() + timedelta(days=14),
        )
        _demo_former_client(practice)
        _demo_connect_request(PracticeMember.objects.get(practice=practice, user=admin))
        record_event(action=Action.DEMO_LOAD, actor=admin, practice=practice, data={"clients": len(rows)})
    return True


def _demo_billing(client: Client, *, index: int) -> None:
    """Active clients get their licence, one or two services and a few bookkeeping entries; clients
    awaiting activation get an (unusable) activation link so the state is consistent."""
    from partnerdesk.billing.licences import licence_open
    from partnerdesk.billing.models import Service, SubscriptionItem
    from partnerdesk.ledger.models import Entry
    from partnerdesk.practice.models import ClientAccessInvitation

    if client.tab != Client.Tab.ACTIVE:
        return
    started = timezone.localdate().replace(day=1) - timedelta(days=62)
    licence_open(company=client.company, payer=client.payer, practice=client.practice, starts_on=started)
    services = list(Service.objects.filter(is_active=True).order_by("sort_order"))
    if services:
        chosen = [services[index % 3], services[3]] if index % 2 and len(services) > 3 else [services[index % 3]]
        SubscriptionItem.objects.bulk_create(
            [SubscriptionItem(company=client.company, service=service, starts_on=started) for service in chosen]
        )
    Entry.objects.bulk_create(
        [
            Entry(
                company=client.company,
                date=started + timedelta(days=7 * n),
                description=("Sales invoice" if n % 2 else "Office supplies"),
                amount=Decimal(f"{(index * 37 + n * 11) % 900 + 25}.{n:02d}") * (1 if n % 2 else -1),
            )
            for n in range(1, 6)
        ]
    )
    if client.access == Client.Access.INVITED and client.email:
        ClientAccessInvitation.objects.create(
            client=client,
            company=client.company,
            email=client.email,
            token_hash=hash_token(new_token()),
            expires_at=timezone.now() + timedelta(days=14),
        )


def _demo_connect_request(member: PracticeMember) -> None:
    """Connect existing client: the practice asked to manage a company that has its own owner; it waits on the
    Pending tab ("Awaiting client approval") and in the owner's portal (My accountant)."""
    from partnerdesk.billing.licences import licence_open
    from partnerdesk.billing.models import Service, SubscriptionItem
    from partnerdesk.practice.connect import connect_request_create

    owner = _user("owner@northgateflorists.test", "Nadia North")
    company = company_create(business_name="Northgate Florists Ltd", owner_email=owner.email, owner=owner)
    CompanyMembership.objects.create(user=owner, company=company, role=CompanyMembership.Role.OWNER)
    started = timezone.localdate() - timedelta(days=90)
    licence_open(company=company, payer="client", starts_on=started)
    # Its own subscription: a service it pays for itself, and keeps paying for once it accepts.
    service = Service.objects.filter(is_active=True).order_by("sort_order").first()
    if service is not None:
        SubscriptionItem.objects.create(company=company, service=service, starts_on=started)
    connect_request_create(member=member, number=company.customer_number, owner_email=owner.email)


def _demo_former_client(practice: Practice) -> None:
    """One client that left (it removed the practice) while the practice holds its Final Accounts."""
    from partnerdesk.billing.licences import licence_open
    from partnerdesk.compliance.models import AccountsPeriod

    name = "Former Fabrications Ltd"
    company = company_create(business_name=name, owner_email="owner@formerfab.test")
    licence_open(company=company, payer="client", starts_on=timezone.localdate() - timedelta(days=40))
    client = Client.all_objects.create(
        practice=practice,
        company=company,
        business_name=name,
        contact_name="Fran Former",
        email="owner@formerfab.test",
        tab=Client.Tab.ACTIVE,
        payer=Client.Payer.CLIENT,
        ended_at=timezone.now() - timedelta(days=40),
        ended_reason=Client.Ended.REVOKED_BY_CLIENT,
    )
    year_end = timezone.localdate().replace(month=3, day=31)
    AccountsPeriod.objects.create(
        practice=practice,
        client=client,
        period_start=year_end.replace(year=year_end.year - 1) + timedelta(days=1),
        period_end=year_end,
    )
