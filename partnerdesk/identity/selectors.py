from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AnonymousUser
from django.db.models import Exists, OuterRef, QuerySet

from partnerdesk.identity.models import AccessRequest, Company, CompanyMembership, User
from partnerdesk.lib.errors import NotFound, PermissionDenied
from partnerdesk.practice.models import AccountantInvitation, Client, Practice, PracticeMember


def memberships_with_access(*, user: User) -> QuerySet[CompanyMembership]:
    """The person's companies, each marked ``access_disabled`` when its accountant has disabled the
    client's access, and ``access_suspended`` when the company is suspended for want of payment details
    after a transfer. This is the one place that rule is read: portal, API and OIDC claims use it
    (``practice.access`` applies the same rule to company data)."""
    disabled = Client.objects.filter(company=OuterRef("company_id"), access=Client.Access.DISABLED)
    return (
        CompanyMembership.objects.filter(user=user)
        .select_related("company")
        .annotate(access_disabled=Exists(disabled))
        .order_by("company__business_name", "company_id")
    )


def is_access_disabled(membership: CompanyMembership) -> bool:
    """The company's users may not reach it: disabled by the accountant, or suspended (no payment details)."""
    return bool(getattr(membership, "access_disabled", False)) or membership.company.suspended_at is not None


def is_access_suspended(membership: CompanyMembership) -> bool:
    return membership.company.suspended_at is not None


def membership_for_company(*, user: User, customer_number: str) -> CompanyMembership:
    """The person's membership of one company (404 for anyone else's)."""
    membership = memberships_with_access(user=user).filter(company__customer_number=customer_number).first()
    if membership is None:
        raise NotFound("No such company")
    return membership


class CompanyAccessDisabled(PermissionDenied):
    code = "company_access_disabled"
    default_message = (
        "Access to this company is disabled. Contact your accountant, or add payment details if it is suspended."
    )


def usable_membership_for_company(*, user: User, customer_number: str) -> CompanyMembership:
    """The person's membership of a company they may reach now: 404 for anyone else's, 403
    ``company_access_disabled`` while its accountant has disabled access or it is suspended."""
    membership = membership_for_company(user=user, customer_number=customer_number)
    if is_access_disabled(membership):
        raise CompanyAccessDisabled(CompanyAccessDisabled.default_message)
    return membership


def home_summary(*, user: User | AnonymousUser) -> dict[str, Any]:
    """What the signed-in home page lists: the person's companies, practices and requests."""
    if not isinstance(user, User):
        return {}
    from django.db.models import prefetch_related_objects

    from partnerdesk.billing.selectors import services_prefetch
    from partnerdesk.practice.connect import connect_requests_for_owner

    # A practice's own company has Partner Edition by being a practice (it is not a service of the catalogue).
    memberships: list[CompanyMembership] = list(
        memberships_with_access(user=user).annotate(
            partner_edition=Exists(Practice.objects.filter(company_id=OuterRef("company_id")))
        )
    )
    # Each company's services in force, for the Services column (one query for all of them).
    prefetch_related_objects(memberships, services_prefetch(lookup="company__subscription_items"))
    return {
        "memberships": memberships,
        "connect_requests": list(connect_requests_for_owner(memberships=memberships)),
        "practice_memberships": list(
            PracticeMember.objects.filter(user=user).select_related("practice").order_by("practice__name")
        ),
        "my_requests": list(access_requests_by(user=user).filter(status=AccessRequest.Status.PENDING)),
        "requests_to_decide": list(access_requests_to_decide(user=user)),
        "payment_prompts": payment_prompts(memberships=memberships),
    }


def payment_prompts(*, memberships: list[CompanyMembership]) -> list[dict[str, Any]]:
    """ "Your client can still log in but is prompted to enter their Direct Debit details": each company the person
    owns that pays for itself without a Direct Debit, for the banner where they land after signing in (in at most
    three queries, however many companies the person owns)."""
    from partnerdesk.billing.grace import payment_prompts_for

    owned = [
        membership
        for membership in memberships
        if membership.role == CompanyMembership.Role.OWNER and not getattr(membership, "access_disabled", False)
    ]
    prompts = payment_prompts_for(companies=[membership.company for membership in owned])
    return [
        {**prompts[membership.company_id], "company": membership.company}
        for membership in owned
        if membership.company_id in prompts
    ]


def companies_claim(*, user: User) -> list[dict[str, Any]]:
    """The companies a person may use in the products, for OIDC tokens and the API (disabled ones left out),
    each with the codes of its services in force today (one query for all the person's companies)."""
    from partnerdesk.billing.selectors import service_codes_by_company

    usable = [m for m in memberships_with_access(user=user) if not is_access_disabled(m)]
    codes = service_codes_by_company(company_ids=[m.company_id for m in usable])
    return [
        {
            "customer_number": m.company.customer_number,
            "business_name": m.company.business_name,
            "role": m.role,
            "services": codes.get(m.company_id, []),
        }
        for m in usable
    ]


def practice_claim(*, user: User) -> dict[str, Any] | None:
    """The practice a person works for, for the products (Partner Edition): its name and customer number, their
    role, and whether they see every client or only those assigned to them (the API lists which). None for
    anyone outside a practice; removing a member ends their product tokens, so the next token says so."""
    from partnerdesk.practice.selectors import membership_for_user, sees_every_client

    member = membership_for_user(user=user)
    if member is None:
        return None
    return {
        "name": member.practice.name,
        "customer_number": member.practice.company.customer_number,
        "role": member.role,
        "sees_all_clients": sees_every_client(member),
    }


def access_requests_by(*, user: User) -> QuerySet[AccessRequest]:
    return AccessRequest.objects.filter(requester=user).select_related("company", "requester")


def access_requests_to_decide(*, user: User) -> QuerySet[AccessRequest]:
    """Pending requests this person may approve or decline (see services.may_decide for the rule)."""
    from allauth.account.models import EmailAddress

    # Three ways a request is the person's to decide, each its own indexed lookup, united by id: never a pass over
    # every request ever made (the home page asks this for everyone who signs in).
    pending = AccessRequest.objects.filter(status=AccessRequest.Status.PENDING)
    # 1. Requests for the companies the person owns (unless the accountant disabled access, or it is suspended).
    owned = Company.objects.filter(owner=user, suspended_at__isnull=True).exclude(
        Exists(Client.objects.filter(company=OuterRef("pk"), access=Client.Access.DISABLED))
    )
    mine = pending.filter(company_id__in=owned.values("pk")).order_by().values("pk")
    # 2. Requests for ownerless companies a practice the person is an admin of manages (looked up only for admins:
    # the planner cannot tell an empty set of practices from a large one).
    admin_practice_ids = list(
        PracticeMember.objects.filter(user=user, role=PracticeMember.Role.ADMIN).values_list("practice_id", flat=True)
    )
    managed = Client.objects.filter(company=OuterRef("company_id"), tab=Client.Tab.ACTIVE)
    if admin_practice_ids:
        mine = mine.union(
            pending.filter(company__owner__isnull=True)
            .filter(Exists(managed.filter(practice_id__in=admin_practice_ids)))
            .order_by()
            .values("pk")
        )
    # 3. Requests for unmanaged ownerless companies recorded with one of the person's verified addresses.
    verified = EmailAddress.objects.filter(user=user, verified=True).values_list("email", flat=True)
    ownerless_at_my_address = Company.objects.filter(owner__isnull=True, owner_email__in=list(verified)).exclude(
        Exists(Client.objects.filter(company=OuterRef("pk"), tab=Client.Tab.ACTIVE))
    )
    mine = mine.union(pending.filter(company_id__in=ownerless_at_my_address.values("pk")).order_by().values("pk"))
    return pending.filter(pk__in=mine).select_related("company", "requester").order_by("created_at")


def company_members(*, company: Company) -> QuerySet[CompanyMembership]:
    return CompanyMembership.objects.filter(company=company).select_related("user").order_by("role", "user__email")


def own_practice_of(*, company: Company, user: User) -> dict[str, Any]:
    """When the company is a practice's own (its Partner Edition subscription): the practice, and whether ``user``
    is one of its admins, who rename both in Partner Edition Settings. Empty for any other company."""
    practice = Practice.objects.filter(company=company).first()
    if practice is None:
        return {}
    is_admin = PracticeMember.objects.filter(practice=practice, user=user, role=PracticeMember.Role.ADMIN).exists()
    return {"own_practice": practice, "own_practice_admin": is_admin}


def managing_practice(*, company: Company) -> Practice | None:
    client = (
        Client.objects.filter(company=company, tab=Client.Tab.ACTIVE)
        .select_related("practice")
        .order_by("created_at")
        .first()
    )
    return client.practice if client else None


def deciding_client(*, company: Company) -> Client | None:
    """The client relationship through which a practice decides the access requests of a company it manages that
    has no owner yet (non-participating: DESIGN.md, "Link to a subscription"); None for a company with an owner or
    that no practice manages. Approving one gives that client access (``practice.lifecycle``)."""
    if company.owner_id is not None:
        return None
    return (
        Client.objects.filter(company=company, tab=Client.Tab.ACTIVE)
        .select_related("practice", "company")
        .order_by("created_at")
        .first()
    )


def decided_by_my_practice(*, user: User, access_request: AccessRequest) -> bool:
    """The request was decided by this person, or by someone of the practice they are an admin of (the practice
    decided for a client without an owner): they may read what became of it, though the decision is no longer
    theirs (the approved requester became the owner)."""
    if access_request.decided_by_id is None:
        return False
    if access_request.decided_by_id == user.pk:
        return True
    mine = PracticeMember.objects.filter(user=user, role=PracticeMember.Role.ADMIN).values("practice_id")
    return PracticeMember.objects.filter(user_id=access_request.decided_by_id, practice_id__in=mine).exists()


def company_notices(*, membership: CompanyMembership, limit: int = 5) -> QuerySet[Any]:
    """The company's latest in-app messages this member may see (the owner's own are the owner's)."""
    notices = membership.company.messages.order_by("-created_at")
    if membership.role != CompanyMembership.Role.OWNER:
        notices = notices.filter(owner_only=False)
    return notices[:limit]


def pending_accountant_invitation(*, company: Company) -> AccountantInvitation | None:
    """The owner's Invite your accountant while it waits, to the address they typed (whether or not it is a
    practice's: the portal never says). A practice's own request to manage the company is not one
    (``practice.connect``)."""
    invitation = (
        AccountantInvitation.objects.filter(company=company, status=AccountantInvitation.Status.PENDING)
        .select_related("client")
        .first()
    )
    return None if invitation is None or invitation.answered else invitation


def disabled_page_context(*, membership: CompanyMembership) -> dict[str, Any]:
    """What the "access disabled" page names: the practice that disabled it and how to reach it."""
    client = (
        Client.objects.filter(company_id=membership.company_id, access=Client.Access.DISABLED)
        .select_related("practice")
        .first()
    )
    return {"membership": membership, "practice": client.practice if client is not None else None}
