"""Demo data for the embedded default: a practice with an admin and a staff member, and clients in several states."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from allauth.account.models import EmailAddress
from django.db import transaction
from django.utils import timezone

from partnerdesk.audit.models import Action
from partnerdesk.audit.services import record_event
from partnerdesk.identity.models import Company, CompanyMembership, User
from partnerdesk.identity.services import company_create
from partnerdesk.lib.tokens import hash_token, new_token
from partnerdesk.practice.models import Client, ClientAssignment, Practice, PracticeInvitation, PracticeMember

DEMO_PASSWORD = "partnerdesk-demo-2026"
DEMO_PRACTICE = "Hartley & Moss Accountants"


@dataclass(frozen=True)
class DemoLogin:
    email: str
    role: str


LOGINS = [
    DemoLogin("admin@hartleymoss.test", "Practice admin (Partner Edition)"),
    DemoLogin("staff@hartleymoss.test", "Practice staff (Partner Edition)"),
    DemoLogin("owner@brightsparks.test", "Client subscription owner (Business Cloud Accounting)"),
    DemoLogin("backoffice@partnerdesk.test", "Back office (/admin/)"),
]

# business name, contact, email, tab, access, hidden, owner login (participating)
CLIENTS = [
    ("Bright Sparks Electrical Ltd", "Priya Shah", "owner@brightsparks.test", "active", "both", False, True),
    ("Oakwood Joinery", "Tom Baker", "tom@oakwoodjoinery.test", "active", "invited", False, False),
    ("Riverside Café", "Ana Lopes", "", "active", "none", False, False),
    ("Greenfield Farm Partnership", "Huw Evans", "huw@greenfieldfarm.test", "active", "disabled", False, False),
    ("Northgate Dental Practice", "Dr Sam Okafor", "sam@northgatedental.test", "active", "none", True, False),
    ("Copper Kettle Tearooms", "Jean Hollis", "jean@copperkettle.test", "pending", "none", False, False),
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


def generated_clients(count: int = 53) -> list[tuple[str, str, str, str, str, bool, bool, str]]:
    """Deterministic extra clients so the demo list has every tab, access state, payer and hidden case."""
    rows = []
    for i in range(count):
        name = f"{_PLACES[i % len(_PLACES)]} {_TRADES[(i * 7 + i // len(_PLACES)) % len(_TRADES)]}{' Ltd' if i % 3 else ''}"
        tab = "pending" if i % 9 == 4 else "imported" if i % 9 == 7 else "active"
        access = _ACTIVE_ACCESS[i % len(_ACTIVE_ACCESS)] if tab == "active" else "none"
        payer = "client" if tab == "active" and i % 6 == 5 else "accountant"
        hidden = tab == "active" and i % 11 == 3
        contact = f"Contact {i + 1:02d}"
        email = f"accounts{i + 1:02d}@{name.split()[0].lower()}.test" if i % 4 else ""
        rows.append((name, contact, email, tab, access, hidden, False, payer))
    return rows


def _user(email: str, full_name: str, *, staff: bool = False) -> User:
    user = User.objects.filter(email=email).first()
    if user is None:
        user = User.objects.create_user(email=email, password=DEMO_PASSWORD, full_name=full_name)
        if staff:
            user.is_staff = user.is_superuser = True
            user.save(update_fields=["is_staff", "is_superuser"])
    EmailAddress.objects.get_or_create(user=user, email=email, defaults={"verified": True, "primary": True})
    return user


def load_demo() -> bool:
    """Create the demo data once. Returns False when it was already there."""
    with transaction.atomic():
        if Practice.objects.filter(name=DEMO_PRACTICE).exists():
            return False
        admin = _user("admin@hartleymoss.test", "Helen Hartley")
        staff = _user("staff@hartleymoss.test", "Raj Patel")
        _user("backoffice@partnerdesk.test", "Back Office", staff=True)
        practice_company = company_create(business_name=DEMO_PRACTICE, owner_email=admin.email, owner=admin)
        CompanyMembership.objects.create(user=admin, company=practice_company, role=CompanyMembership.Role.OWNER)
        practice = Practice.objects.create(company=practice_company, name=DEMO_PRACTICE, contact_email=admin.email)
        PracticeMember.objects.create(practice=practice, user=admin, role=PracticeMember.Role.ADMIN)
        PracticeMember.objects.create(practice=practice, user=staff, role=PracticeMember.Role.STAFF)
        rows = [(*row, "accountant") for row in CLIENTS] + generated_clients()
        for name, contact, email, tab, access, hidden, participating, payer in rows:
            owner = _user(email, contact) if participating else None
            company: Company = company_create(business_name=name, owner_email=email, owner=owner)
            if owner is not None:
                CompanyMembership.objects.create(user=owner, company=company, role=CompanyMembership.Role.OWNER)
            Client.objects.create(
                practice=practice,
                company=company,
                business_name=name,
                contact_name=contact,
                email=email,
                tab=tab,
                access=access,
                hidden=hidden,
                payer=payer,
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
        record_event(action=Action.DEMO_LOAD, actor=admin, practice=practice, data={"clients": len(rows)})
    return True
