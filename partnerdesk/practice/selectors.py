from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import Case, Count, Exists, IntegerField, OuterRef, Q, QuerySet, Value, When

from partnerdesk.audit.models import Action, Event
from partnerdesk.identity.models import Company, User
from partnerdesk.lib.errors import NotFound
from partnerdesk.lib.tokens import hash_token
from partnerdesk.notifications.models import Message
from partnerdesk.practice.models import Client, ClientAssignment, Practice, PracticeInvitation, PracticeMember


def membership_for_user(*, user: User) -> PracticeMember | None:
    """The person's practice membership (a person works for at most one practice in this edition)."""
    return PracticeMember.objects.select_related("practice__company").filter(user=user).order_by("created_at").first()


def member_for_user(*, user: User) -> PracticeMember:
    """The person's practice membership, or NotFound (the API's 404) for anyone outside a practice."""
    member = membership_for_user(user=user)
    if member is None:
        raise NotFound("You are not a member of a practice")
    return member


def admin_recipients(*, practice: Practice) -> list[tuple[str, str]]:
    """Whom a practice's emails go to, one email each, as (address, name to greet): its admins, by their full name
    when their login address is verified (decision 69: an unverified address never chooses a greeting), else as
    "<practice> team"; with no admin, its contact email (always a proven address), greeted as "<practice> team"."""
    from allauth.account.models import EmailAddress

    team = f"{practice.name} team"
    verified = EmailAddress.objects.filter(
        user=OuterRef("user_id"), email__iexact=OuterRef("user__email"), verified=True
    )
    admins = (
        PracticeMember.objects.filter(practice=practice, role=PracticeMember.Role.ADMIN)
        .annotate(verified=Exists(verified))
        .order_by("user__email")
        .values_list("user__email", "user__full_name", "verified")
    )
    recipients = [(address, (name if is_verified and name else team)) for address, name, is_verified in admins]
    if not recipients and practice.contact_email:
        recipients = [(practice.contact_email, team)]
    return recipients


def own_practices_admins(*, user: User) -> list[tuple[str, list[str]]]:
    """For someone who is not in a practice: the practices whose own company they are linked to, each with its
    admins ("Name (email)"), so Partner Edition can say whom to ask for an invitation."""
    practices = Practice.objects.filter(company__memberships__user=user).order_by("name", "pk")
    found: list[tuple[str, list[str]]] = []
    for practice in practices:
        admins = (
            PracticeMember.objects.filter(practice=practice, role=PracticeMember.Role.ADMIN)
            .select_related("user")
            .order_by("user__email")
        )
        found.append(
            (
                practice.name,
                [f"{m.user.full_name} ({m.user.email})" if m.user.full_name else m.user.email for m in admins],
            )
        )
    return found


def client_list(
    *, member: PracticeMember, tab: str = Client.Tab.ACTIVE, include_hidden: bool = False
) -> QuerySet[Client]:
    """The practice's clients on one tab (hidden ones left out unless asked), always scoped to the member's practice."""
    # prefetch, not select_related: the company is fetched for the rows of the page only (one more query at any
    # size), instead of a join PostgreSQL may run over every client before LIMIT/OFFSET (bench_client_list).
    from partnerdesk.billing.selectors import services_prefetch

    # The services column: the page's companies' services in force, in one more query.
    clients = visible_clients(member=member).filter(tab=tab).prefetch_related("company", services_prefetch())
    if not include_hidden:
        clients = clients.filter(hidden=False)
    return clients.order_by("business_name", "id")


# Sorting by Access follows its words ("Awaiting Client Activation" first), as the column reads.
ACCESS_LABEL_ORDER = Case(
    *[
        When(access=value, then=Value(position))
        for position, (value, _) in enumerate(sorted(Client.Access.choices, key=lambda choice: choice[1]))
    ],
    default=Value(len(Client.Access.choices)),
    output_field=IntegerField(),
)

SORTS = {
    "name": ("business_name", "id"),
    "contact": ("contact_name", "id"),
    "email": ("email", "id"),
    "access": ("access_label_order", "business_name", "id"),
    "payer": ("payer", "business_name", "id"),
    "activity": ("updated_at", "id"),
}


@dataclass(frozen=True)
class ClientListQuery:
    """What the client list shows: tab, search, sort and filters, all kept in the URL."""

    tab: str = Client.Tab.ACTIVE
    q: str = ""
    sort: str = "name"
    descending: bool = False
    access: str = ""
    payer: str = ""
    show_hidden: bool = False
    assigned_to: int | None = None  # a practice member's id: only clients assigned to them
    service: str = ""  # a service code: only clients whose company has it in force

    @property
    def narrowed(self) -> bool:
        """Whether search or a filter leaves out some of the tab's clients (sorting never does)."""
        return bool(self.q or self.access or self.payer or self.assigned_to is not None or self.service)


def client_search(*, member: PracticeMember, query: ClientListQuery) -> QuerySet[Client]:
    clients = client_list(member=member, tab=query.tab, include_hidden=query.show_hidden)
    if query.q:
        term = query.q.strip()
        match = Q(business_name__icontains=term) | Q(contact_name__icontains=term) | Q(email__icontains=term)
        if len(term) == 8 and term.isdigit():  # a customer number: looked up on its unique index, not joined
            match |= Q(company_id__in=Company.objects.filter(customer_number=term).values("id"))
        clients = clients.filter(match)
    if query.access:
        clients = clients.filter(access=query.access)
    if query.payer:
        clients = clients.filter(payer=query.payer)
    if query.assigned_to is not None:
        clients = clients.filter(assignments__member_id=query.assigned_to)
    if query.service:
        from partnerdesk.billing.selectors import has_service_q

        clients = clients.filter(has_service_q(code=query.service))
    fields = SORTS.get(query.sort, SORTS["name"])
    if query.sort == "access":  # in the order of the words on screen, not of the stored values
        clients = clients.annotate(access_label_order=ACCESS_LABEL_ORDER)
    return clients.order_by(*[f"-{f}" if query.descending else f for f in fields])


def tab_counts_and_hidden(*, member: PracticeMember) -> tuple[dict[str, int], dict[str, int]]:
    """How many shown and how many hidden clients each tab holds (one grouped query): the list says how many
    hidden clients its count leaves out."""
    rows = (
        visible_clients(member=member)
        .values_list("tab")
        .annotate(shown_n=Count("id", filter=Q(hidden=False)), hidden_n=Count("id", filter=Q(hidden=True)))
        .values_list("tab", "shown_n", "hidden_n")
    )
    found = {tab: (shown, hidden) for tab, shown, hidden in rows}
    shown_counts = {tab: found.get(tab, (0, 0))[0] for tab in Client.Tab.values}
    hidden_counts = {tab: found.get(tab, (0, 0))[1] for tab in Client.Tab.values}
    return shown_counts, hidden_counts


def client_for_member(*, member: PracticeMember, client_id: int) -> Client:
    """One client of the member's practice; another practice's client is a 404 (NotFound)."""
    client = visible_clients(member=member).select_related("company", "company__owner").filter(pk=client_id).first()
    if client is None:
        raise NotFound("No such client")
    return client


@dataclass(frozen=True, slots=True)
class HistoryEntry:
    """One line of a client's History tab: when, what (in words), who."""

    at: dt.datetime
    what: str
    actor_email: str


def client_history(*, client: Client, limit: int = 50) -> list[HistoryEntry]:
    """The client's audit events, newest first, in words: an amendment names what changed (the Details form's
    labels), an assignment whom it was assigned to."""
    from partnerdesk.practice.forms import detail_label

    entries = []
    for event in Event.objects.filter(client=client).order_by("-at", "-id")[:limit]:
        # Who it was assigned to (un)assigned from, by name, rather than the action's generic label.
        name = event.data.get("name") or event.data.get("user")
        summary = ASSIGNMENT_SUMMARIES.get(str(event.action)) if name else None
        what = summary.format(name=name) if summary else event.get_action_display()
        requester = event.data.get("requester")
        if requester and str(event.action) in REQUEST_SUMMARIES:
            # Someone's request to use the subscription, which the practice decides for a client without an owner.
            key = f"{event.action}:owner" if event.data.get("owner") else str(event.action)
            what = REQUEST_SUMMARIES.get(key, REQUEST_SUMMARIES[str(event.action)]).format(requester=requester)
        changes = event.data.get("changes") if event.action == Action.CLIENT_UPDATE else None
        if isinstance(changes, dict):
            # In the Details form's order (PostgreSQL's jsonb does not keep the keys' order).
            changed = [detail_label(field) for field in Client.DETAIL_FIELDS if field in changes]
            if changed:
                what = f"{what}: {', '.join(changed)}"
        entries.append(HistoryEntry(at=event.at, what=what, actor_email=event.actor_email))
    return entries


ASSIGNMENT_SUMMARIES: dict[str, str] = {
    Action.STAFF_ASSIGN.value: "Assigned to {name}",
    Action.STAFF_UNASSIGN.value: "Unassigned from {name}",
}


REQUEST_SUMMARIES: dict[str, str] = {
    Action.ACCESS_REQUEST_CREATE.value: "Access requested by {requester}",
    Action.ACCESS_REQUEST_APPROVE.value: "Access request from {requester} approved",
    f"{Action.ACCESS_REQUEST_APPROVE.value}:owner": (
        "Access request from {requester} approved: they are the Subscription Owner, and the client has access"
    ),
    Action.ACCESS_REQUEST_DECLINE.value: "Access request from {requester} declined",
    Action.ACCESS_REQUEST_CANCEL.value: "Access request from {requester} cancelled",
    Action.ACCESS_REQUEST_EXPIRE.value: "Access request from {requester} expired",
}


def sees_every_client(member: PracticeMember) -> bool:
    """Admins, and staff not restricted to the clients assigned to them."""
    return member.role == PracticeMember.Role.ADMIN or member.sees_all_clients


def visible_clients(*, member: PracticeMember, include_ended: bool = False) -> QuerySet[Client]:
    """Every client of the member's practice for admins and unrestricted staff; only assigned ones otherwise.
    Ended relationships are left out unless asked for (former clients, Final Accounts data)."""
    manager = Client.all_objects if include_ended else Client.objects
    clients = manager.filter(practice_id=member.practice_id)
    if not sees_every_client(member):
        clients = clients.filter(assignments__member=member)
    return clients


PRODUCT_HOME_CLIENTS = 25


def clients_with_product(*, member: PracticeMember, product: str) -> tuple[list[Client], int]:
    """The Active clients this member may open that have ``product`` in force (a product's home page for a
    practice member), first ``PRODUCT_HOME_CLIENTS`` by name, and how many there are in all."""
    from partnerdesk.billing.selectors import has_product_q, services_prefetch

    clients = visible_clients(member=member).filter(has_product_q(product=product), tab=Client.Tab.ACTIVE)
    first = list(
        clients.select_related("company")
        .prefetch_related(services_prefetch())
        .order_by("business_name", "pk")[:PRODUCT_HOME_CLIENTS]
    )
    total = len(first) if len(first) < PRODUCT_HOME_CLIENTS else clients.count()
    return first, total


def former_clients(*, member: PracticeMember, with_services: bool = False) -> QuerySet[Client]:
    """Ended clients the practice still holds Final Accounts data for (compliance data only). ``with_services``:
    each company's services in force prefetched as ``services_in_force`` (the API lists them), in one more query."""
    from partnerdesk.billing.selectors import services_prefetch
    from partnerdesk.compliance.models import AccountsPeriod

    periods = AccountsPeriod.objects.filter(client=OuterRef("pk"))
    clients = (
        visible_clients(member=member, include_ended=True)
        .filter(ended_at__isnull=False)
        .filter(Exists(periods))
        .select_related("company")
        .order_by("business_name", "id")
    )
    return clients.prefetch_related(services_prefetch()) if with_services else clients


def admin_membership_for_user(*, user: User) -> PracticeMember | None:
    """The person's membership when they are an admin of their practice (admin-only pages are a 404 otherwise)."""
    member = membership_for_user(user=user)
    return member if member is not None and member.role == PracticeMember.Role.ADMIN else None


def practice_members(*, practice: Practice) -> QuerySet[PracticeMember]:
    """A practice's members with their login, admins first: who is who, without counting anyone's clients (the
    client list's Assigned to filter, whom to ask; "is there another admin")."""
    return (
        PracticeMember.objects.filter(practice=practice)
        .select_related("user")
        .order_by("role", "user__full_name", "user__email", "id")  # admins first
    )


def staff_list(*, practice: Practice) -> QuerySet[PracticeMember]:
    """A practice's members with their login and how many clients are assigned to each (one query, over every
    assignment of the practice: for the Staff page and the API's members, not for a page that only names people)."""
    return (
        practice_members(practice=practice)
        # Live clients only: a former client's assignment stays (its Final Accounts data) but is not a client to do.
        .annotate(
            assigned_count=Count("assignments", filter=Q(assignments__client__ended_at__isnull=True)),
            # Of which hidden: the person's client list leaves those out unless they ask for hidden clients.
            assigned_hidden_count=Count(
                "assignments",
                filter=Q(assignments__client__ended_at__isnull=True, assignments__client__hidden=True),
            ),
        )
    )


def member_of_practice(*, practice: Practice, member_id: int) -> PracticeMember:
    """One member of the practice; another practice's member is a 404 (NotFound)."""
    member = PracticeMember.objects.select_related("user", "practice").filter(practice=practice, pk=member_id).first()
    if member is None:
        raise NotFound("No such member")
    return member


def pending_invitations(*, practice: Practice) -> QuerySet[PracticeInvitation]:
    return (
        PracticeInvitation.objects.filter(practice=practice, status=PracticeInvitation.Status.PENDING)
        .select_related("invited_by")
        .order_by("-created_at", "-id")
    )


def invitation_for_token(*, token: str) -> PracticeInvitation | None:
    """The invitation a link's token opens (looked up by its hash), or None for an unknown or superseded link."""
    if not token or len(token) > 200:
        return None
    return PracticeInvitation.objects.select_related("practice").filter(token_hash=hash_token(token)).first()


def assigned_client_ids(*, member: PracticeMember, among: Iterable[int] | None = None) -> set[int]:
    """The member's live clients (a stopped client's assignment is kept only for its Final Accounts data); with
    ``among``, only which of those clients (a page of the assignments list)."""
    assignments = ClientAssignment.objects.filter(member=member, client__ended_at__isnull=True)
    if among is not None:
        assignments = assignments.filter(client_id__in=list(among))
    return set(assignments.values_list("client_id", flat=True))


def assignable_clients(*, practice: Practice, q: str = "") -> QuerySet[Client]:
    """Every client of the practice on any tab, for the assignments page (``q``: business name, contact or email)."""
    clients = Client.objects.filter(practice=practice)
    term = q.strip()
    if term:
        clients = clients.filter(
            Q(business_name__icontains=term) | Q(contact_name__icontains=term) | Q(email__icontains=term)
        )
    return clients.order_by("business_name", "id")


def practice_messages(*, member: PracticeMember) -> QuerySet[Message]:
    """The practice's in-app messages (New Client Invitations, answers to its requests, withdrawals), newest first.
    They name clients, so a staff member restricted to assigned clients sees only those about a client they can see,
    or could see when it was posted (a withdrawn invitation's client is gone by then)."""
    messages = Message.objects.filter(practice_id=member.practice_id)
    if not sees_every_client(member):
        shown_to = Message.visible_to.through.objects.filter(practicemember_id=member.pk).values("message_id")
        messages = messages.filter(Q(client_id__in=visible_clients(member=member).values("pk")) | Q(pk__in=shown_to))
    return messages.order_by("-created_at", "-id")
