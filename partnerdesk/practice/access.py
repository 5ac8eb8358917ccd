"""Who may read and change a company's data (ledger, subscriptions), and a practice's compliance data.

One place for the rule, used by the ledger, billing and compliance apps, their views and the API:

- the company's own people (owner and users) while the company is neither disabled by its accountant
  nor suspended for want of payment details;
- a member of the practice that currently manages it (Active tab, relationship not ended), when the
  member may see that client (restricted staff see only their assigned clients).

Anyone else gets ``NotFound`` (a 404: another tenant's object is never confirmed to exist), except the
company's own people while it is disabled or suspended: they know it exists, and are told why they can't reach it
(``CompanyAccessDisabled``, 403 ``company_access_disabled``, as the company's users and approvals endpoints).
"""

from __future__ import annotations

from typing import Literal

from partnerdesk.identity.models import Company, CompanyMembership, User
from partnerdesk.lib.errors import NotFound
from partnerdesk.practice.models import Client

Side = Literal["client", "practice"]


def client_side_blocked(*, company: Company) -> bool:
    """True when the company's own users may not reach it: disabled by the accountant, or suspended."""
    if company.suspended_at is not None:
        return True
    return Client.objects.filter(company=company, access=Client.Access.DISABLED).exists()


def practice_client_for(*, user: User, company: Company) -> Client | None:
    """The live client relationship through which this person, as practice member, reaches the company."""
    from partnerdesk.practice.selectors import membership_for_user, visible_clients

    member = membership_for_user(user=user)
    if member is None:
        return None
    return visible_clients(member=member).filter(company=company, tab=Client.Tab.ACTIVE).first()


def company_access(*, user: User, company: Company) -> Side:
    """Which side this person reaches the company's data from, or NotFound."""
    if not user.is_authenticated:
        raise NotFound("No such company")
    member = CompanyMembership.objects.filter(user=user, company=company).exists()
    if member and not client_side_blocked(company=company):
        return "client"
    if practice_client_for(user=user, company=company) is not None:
        return "practice"
    if member:
        from partnerdesk.identity.selectors import CompanyAccessDisabled

        raise CompanyAccessDisabled(CompanyAccessDisabled.default_message)
    raise NotFound("No such company")


def company_for_user(*, user: User, customer_number: str) -> tuple[Company, Side]:
    """Look a company up by customer number for someone allowed to reach it (NotFound otherwise)."""
    company = Company.objects.filter(customer_number=customer_number).first()
    if company is None:
        raise NotFound("No such company")
    return company, company_access(user=user, company=company)
