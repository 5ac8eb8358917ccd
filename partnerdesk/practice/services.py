"""Writes for the practice side: clients (add, amend details, hide/show), staff and invitations."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.http import HttpRequest
from django.utils import timezone

from partnerdesk.audit.models import Action, Event
from partnerdesk.audit.services import record_event
from partnerdesk.backoffice.models import ChangeRequest
from partnerdesk.billing.licences import licence_current, licence_open
from partnerdesk.billing.models import Licence
from partnerdesk.identity.models import Company, User
from partnerdesk.identity.services import company_create
from partnerdesk.lib.errors import Conflict, DomainError, InvalidTransition, NotFound
from partnerdesk.lib.request import client_ip
from partnerdesk.notifications.services import message_post, message_subject, send_email, send_email_each
from partnerdesk.practice.connect import ConnectRequestAwaitingClient, connect_request_withdrawn
from partnerdesk.practice.contact_email import practice_for_address
from partnerdesk.practice.forms import detail_label
from partnerdesk.practice.locks import lock_companies, lock_company_of, lock_practice
from partnerdesk.practice.models import AccountantInvitation, Client, ClientAssignment, PracticeMember
from partnerdesk.practice.permissions import require_may_delete_client
from partnerdesk.practice.selectors import admin_recipients, sees_every_client, visible_clients

DETAIL_FIELDS = Client.DETAIL_FIELDS


def _lock_client(*, member: PracticeMember, client_id: int, related: tuple[str, ...] = ()) -> Client:
    """Lock one client the member may see (its row only: related rows are read, not locked); a client of the practice
    that a restricted staff member is not assigned is as unknown to them as another practice's. Its company's row
    is locked first (``locks``), as the owner's side and the lifecycle changes do."""
    lock_company_of(visible_clients(member=member), client_id)
    client = (
        visible_clients(member=member)
        .select_for_update(of=("self",))
        .select_related(*related)
        .filter(pk=client_id)
        .first()
    )
    if client is None:
        raise NotFound("No such client")
    return client


class StaleClientDetails(Conflict):
    code = "client_details_stale"
    title = "Someone else changed this client's details after you opened them. Reload to see their changes, then amend again."


class ClientEmailLocked(InvalidTransition):
    """The email address of a client awaiting activation is where its link went; a client with its own login
    (access, or access disabled) keeps an address."""

    code = "client_email_locked"


def _check_email_change(client: Client, new_email: str) -> None:
    if client.access == Client.Access.INVITED and new_email != client.email:
        raise ClientEmailLocked(
            f"This client is awaiting activation at {client.email}. To use another address, cancel the "
            "invitation (Manage, Cancel invitation), then Give client access again."
        )
    if client.access in (Client.Access.BOTH, Client.Access.DISABLED) and client.email and not new_email:
        raise ClientEmailLocked(
            "This client has their own login, so their email address can't be removed. "
            "To stop their access, use Disable."
        )


class DuplicateClient(Conflict):
    code = "duplicate_client"
    title = "You already have a client with this business name or email"


def _refuse_duplicate(*, member: PracticeMember, name: str, email: str) -> None:
    """Compared in Python as the import compares (Unicode case folding, spaces collapsed): SQLite's LIKE folds
    ASCII letters only, so "RIVERSIDE CAFÉ" would not match "Riverside Café" in SQL."""
    from partnerdesk.practice.imports import normalise_email, normalise_name

    wanted_name, wanted_email = normalise_name(name), normalise_email(email)
    rows = visible_clients(member=member).order_by("pk").values_list("pk", "business_name", "email")
    for pk, business_name, client_email in rows.iterator(chunk_size=2000):
        same_name = normalise_name(business_name) == wanted_name
        if same_name or (wanted_email and normalise_email(client_email) == wanted_email):
            raise DuplicateClient(
                f"You already have a client with this {'business name' if same_name else 'email'}: {business_name}. "
                "If this is a different business, choose Add anyway.",
                existing_client_id=pk,
            )


def client_create(
    *,
    member: PracticeMember,
    details: dict[str, Any],
    allow_duplicate: bool = False,
    request: HttpRequest | None = None,
) -> Client:
    """Add client: a new company and its client record on the Active tab, non-participating, accountant-paying.
    A second client with the business name or email of one the member can see is refused unless asked for (two
    businesses may share a name; a double submission or a forgotten client is the likelier story)."""
    with transaction.atomic():
        # One addition at a time per practice, or two identical ones at the same moment would both pass the check.
        lock_practice(member.practice_id)
        if not allow_duplicate:
            _refuse_duplicate(member=member, name=details["business_name"], email=details.get("email", ""))
        company = company_create(business_name=details["business_name"], owner_email=details.get("email", ""))
        client = Client.objects.create(
            practice=member.practice,
            company=company,
            tab=Client.Tab.ACTIVE,
            access=Client.Access.NONE,
            payer=Client.Payer.ACCOUNTANT,
            **{field: details.get(field, "") for field in DETAIL_FIELDS},
        )
        licence_open(
            company=company, payer=Licence.Payer.ACCOUNTANT, practice=member.practice, starts_on=timezone.localdate()
        )
        # A staff member who sees only assigned clients is assigned the client they add (else it would vanish
        # from their list the moment they created it).
        restricted = not sees_every_client(member)
        if restricted:
            ClientAssignment.objects.create(member=member, client=client, assigned_by=member.user)
        record_event(
            action=Action.CLIENT_CREATE,
            actor=member.user,
            request=request,
            practice=member.practice,
            company=company,
            client=client,
            data={"business_name": client.business_name, **({"assigned_to": member.user.email} if restricted else {})},
        )
    return client


def client_update_details(
    *, member: PracticeMember, client_id: int, version: int, details: dict[str, Any], request: HttpRequest | None = None
) -> Client:
    """Amend a client's details, refusing to overwrite a newer edit (compare-and-set on ``version``).

    For a participating client the administration team is told: an email and a change request in the
    back office with the client's business name and email, the practice's name and the user's login email.
    """
    with transaction.atomic():
        client = _lock_client(
            member=member,
            client_id=client_id,
            related=(
                "company",
                "practice",
            ),
        )
        if client.awaiting_client_approval:
            raise ConnectRequestAwaitingClient()
        if client.version != version:
            raise StaleClientDetails()
        if "email" in details:
            _check_email_change(client, details["email"])
        changes = {
            field: [getattr(client, field), details.get(field, "")]
            for field in DETAIL_FIELDS
            if field in details and getattr(client, field) != details[field]
        }
        if not changes:
            return client
        for field, (_, new) in changes.items():
            setattr(client, field, new)
        client.version = F("version") + 1
        client.updated_at = timezone.now()
        client.save(update_fields=[*changes.keys(), "version", "updated_at"])
        client.refresh_from_db(fields=["version"])
        record_event(
            action=Action.CLIENT_UPDATE,
            actor=member.user,
            request=request,
            practice=client.practice,
            company=client.company,
            client=client,
            data={"changes": changes},
        )
        if client.company.owner_id is not None:  # participating: the administration team applies it
            change_request = ChangeRequest.objects.create(
                client=client,
                business_name=client.business_name,
                client_email=client.email,
                practice_name=client.practice.name,
                practice_user_email=member.user.email,
                changes=changes,
            )
            send_email(
                template="practice-client-details-changed",
                to=settings.ADMIN_TEAM_EMAIL,
                context={
                    "business_name": client.business_name,
                    "client_email": client.email,
                    "practice_name": client.practice.name,
                    "practice_user_email": member.user.email,
                    "changes": [{"field": detail_label(f), "old": o, "new": n} for f, (o, n) in changes.items()],
                    "change_request_id": change_request.pk,
                },
            )
    return client


def clients_set_hidden(
    *, member: PracticeMember, client_ids: Iterable[int], hidden: bool, request: HttpRequest | None = None
) -> int:
    """Show/Hide: only the list changes (subscription, billing and access stay as they are). Returns how many
    changed. A bounded number of queries whatever the count: one update and one bulk audit insert."""
    ids = {int(i) for i in client_ids}
    with transaction.atomic():
        # Only clients the member may see: a restricted staff member's unassigned clients are left alone
        # (as every other action on them is a 404), and the count says nothing about them. Their companies
        # first (``locks``): the audit events point at them.
        lock_companies(visible_clients(member=member).filter(pk__in=ids).values_list("company_id", flat=True))
        changing = list(
            Client.objects.select_for_update()
            .filter(pk__in=visible_clients(member=member).filter(pk__in=ids).values("pk"))
            .exclude(hidden=hidden)
            .values_list("pk", "company_id")
        )
        if not changing:
            return 0
        Client.objects.filter(pk__in=[pk for pk, _ in changing]).update(hidden=hidden)
        now = timezone.now()
        Event.objects.bulk_create(
            [
                Event(
                    at=now,
                    action=Action.CLIENT_HIDE if hidden else Action.CLIENT_SHOW,
                    actor=member.user,
                    actor_email=member.user.email,
                    ip=client_ip(request),
                    practice=member.practice,
                    company_id=company_id,
                    client_id=pk,
                )
                for pk, company_id in changing
            ],
            batch_size=500,
        )
    return len(changing)


class ClientNotDeletable(DomainError):
    code = "client_not_deletable"
    status = 409
    title = "Only Pending and Imported clients can be deleted. Use Stop Managing This Client for Active clients."


def client_delete(*, member: PracticeMember, client_id: int, request: HttpRequest | None = None) -> str:
    """Delete Client (Pending or Imported tab only; nothing was billed for them). Returns the business name.
    Admins only (``permissions.require_may_delete_client``)."""
    with transaction.atomic():
        client = _lock_client(member=member, client_id=client_id, related=("company", "practice"))
        require_may_delete_client(member)  # after the lookup: a client they can't see is a 404, as everywhere
        if client.tab not in (Client.Tab.PENDING, Client.Tab.IMPORTED):
            raise ClientNotDeletable()
        company = client.company
        name = client.business_name
        record_event(
            action=Action.CLIENT_DELETE,
            actor=member.user,
            request=request,
            practice=member.practice,
            company=company,
            client=client,
            data={"business_name": name, "tab": client.tab, "requested_by": client.requested_by},
        )
        if client.awaiting_client_approval:  # the practice withdraws its request: the owner's portal says so
            connect_request_withdrawn(client=client)
        client.delete()
        # The company row stays (without a practice): customer numbers and registration ids are never reused.
    return name


INVITE_ACCOUNTANT_SENT = (
    "Thank you. If that email address belongs to a practice using Partner Edition, they will see your "
    "invitation and can accept it."
)


def accountant_invitation_pending(*, company: Company) -> AccountantInvitation | None:
    """The owner's invitation while it waits, locked; one the practice has answered is closed here (a read shows
    it as over already: ``identity.selectors.pending_accountant_invitation``)."""
    invitation = (
        AccountantInvitation.objects.filter(company=company, status=AccountantInvitation.Status.PENDING)
        .select_for_update(of=("self",))  # PostgreSQL refuses FOR UPDATE on the outer join's nullable side
        .select_related("client")
        .first()
    )
    if invitation is None or not invitation.answered:
        return invitation
    invitation.status = AccountantInvitation.Status.CLOSED
    invitation.save(update_fields=["status"])
    return None


def accountant_invite(
    *, actor: User, company: Company, practice_email: str, request: HttpRequest | None = None
) -> AccountantInvitation:
    """My accountant -> Invite your accountant: the company's owner invites a practice by its email. The
    practice sees a "New Client Invitation" on its Pending tab; the client keeps paying. The owner is never
    told whether the address belongs to a practice: the invitation is kept either way (shown as sent to the
    address, until withdrawn or answered), so a second invitation is refused alike for both."""
    email = practice_email.strip().lower()
    with transaction.atomic():
        locked = Company.objects.select_for_update().get(pk=company.pk)
        if locked.owner_id != actor.pk:
            raise NotFound("No such company")
        waiting = accountant_invitation_pending(company=locked)
        if waiting is not None:
            raise AccountantInvitationPending(
                f"You have already invited {waiting.email}. Withdraw that invitation to invite someone else."
            )
        if Client.objects.filter(company=locked).exists():
            raise AccountantAlreadyConnected()
        # Only an address the practice has proven (an admin's verified login, a confirmed contact email): one it
        # merely typed into its settings would hand it invitations meant for someone else.
        practice = practice_for_address(email)
        invitation = AccountantInvitation.objects.create(
            company=locked, email=email, matched=practice is not None, invited_by=actor
        )
        if practice is None:
            record_event(
                action=Action.CLIENT_INVITE_PRACTICE,
                actor=actor,
                request=request,
                company=locked,
                data={"email": email, "matched": False},
            )
            return invitation
        client = Client.objects.create(
            practice=practice,
            company=locked,
            business_name=locked.business_name,
            email=actor.email,
            contact_name=actor.full_name,
            tab=Client.Tab.PENDING,
            access=Client.Access.BOTH,
            payer=Client.Payer.CLIENT,
            requested_by=Client.RequestedBy.CLIENT,
        )
        invitation.client = client
        invitation.save(update_fields=["client"])
        record_event(
            action=Action.CLIENT_INVITE_PRACTICE,
            actor=actor,
            request=request,
            practice=practice,
            company=locked,
            client=client,
            data={"email": email, "matched": True},
        )
        message_post(
            client=client,
            practice=practice,
            subject=message_subject("New Client Invitation: {business}", business=locked.business_name),
            body=f"{actor.get_full_name()} invited your practice to manage {locked.business_name}.",
            link=f"/partner/clients/{client.pk}/",
        )
        send_email_each(
            template="practice-client-invitation",
            recipients=admin_recipients(practice=practice),
            context={
                "business_name": locked.business_name,
                "owner_name": actor.get_full_name(),
                "owner_email": actor.email,
                "client_path": f"/partner/clients/{client.pk}/",
            },
        )
    return invitation


def accountant_invitation_close(*, company: Company) -> None:
    """The company now has an accountant another way (it accepted a practice's request): the owner's waiting
    invitation is over, and a matched practice's New Client Invitation leaves its Pending tab. Runs inside the
    caller's transaction, which holds the company's row."""
    invitation = accountant_invitation_pending(company=company)
    if invitation is None:
        return
    invitation.status = AccountantInvitation.Status.CLOSED
    invitation.save(update_fields=["status"])
    if invitation.client is not None:
        Client.objects.filter(pk=invitation.client.pk, tab=Client.Tab.PENDING).delete()


def accountant_invitation_withdraw(*, actor: User, company: Company, request: HttpRequest | None = None) -> None:
    """My accountant -> Withdraw invitation (the owner): the practice's New Client Invitation, if the address was a
    practice's, leaves its Pending tab; the owner may then invite someone else."""
    with transaction.atomic():
        locked = Company.objects.select_for_update().get(pk=company.pk)
        if locked.owner_id != actor.pk:
            raise NotFound("No such company")
        invitation = accountant_invitation_pending(company=locked)
        if invitation is None:
            raise InvalidTransition(
                "There is no invitation waiting: it has been answered or withdrawn.", code="no_accountant_invitation"
            )
        invitation.status = AccountantInvitation.Status.WITHDRAWN
        invitation.save(update_fields=["status"])
        client = invitation.client
        record_event(
            action=Action.CLIENT_INVITE_PRACTICE_WITHDRAW,
            actor=actor,
            request=request,
            practice=client.practice if client is not None else None,
            company=locked,
            client=client,
            data={"email": invitation.email},
        )
        if client is not None:
            message_post(
                client=client,
                practice=client.practice,
                subject=message_subject("Invitation withdrawn: {business}", business=locked.business_name),
                body=f"{actor.get_full_name()} withdrew their invitation for your practice to manage "
                f"{locked.business_name}.",
                link="/partner/clients/?tab=pending",
            )
            # The practice was emailed the invitation; its link now leads nowhere.
            send_email_each(
                template="practice-client-invitation-withdrawn",
                recipients=admin_recipients(practice=client.practice),
                context={
                    "business_name": locked.business_name,
                    "owner_name": actor.get_full_name(),
                    "owner_email": actor.email,
                },
            )
            Client.objects.filter(pk=client.pk, tab=Client.Tab.PENDING).delete()


def client_invitation_decide(
    *, member: PracticeMember, client_id: int, accept: bool, request: HttpRequest | None = None
) -> Client:
    """Accept (the client moves to Active, still paying for itself) or Decline (the connection is removed)."""
    with transaction.atomic():
        client = _lock_client(member=member, client_id=client_id, related=("company__owner",))
        if client.tab != Client.Tab.PENDING:
            raise InvalidTransition("This client is not waiting on your Pending tab.", code="client_not_pending")
        if client.awaiting_client_approval:  # the practice's own request: only the client decides
            raise ConnectRequestAwaitingClient()
        record_event(
            action=Action.CLIENT_INVITATION_ACCEPT if accept else Action.CLIENT_INVITATION_DECLINE,
            actor=member.user,
            request=request,
            practice=member.practice,
            company=client.company,
            client=client,
        )
        owner = client.company.owner
        if owner is not None:
            send_email(
                template="practice-client-invitation-accepted" if accept else "practice-client-invitation-declined",
                to=owner.email,
                context={"business_name": client.business_name, "practice_name": member.practice.name},
            )
        if accept:
            if licence_current(company=client.company) is None:
                # The client keeps paying for itself: make sure it is billed as client-paying.
                licence_open(company=client.company, payer=Licence.Payer.CLIENT, starts_on=timezone.localdate())
            client.tab = Client.Tab.ACTIVE
            client.updated_at = timezone.now()
            client.save(update_fields=["tab", "updated_at"])
        else:
            client.delete()
    return client


class AccountantInvitationPending(DomainError):
    code = "accountant_invitation_pending"
    status = 409
    title = "Your invitation to an accountant is still waiting: withdraw it to invite someone else."


class AccountantAlreadyConnected(DomainError):
    code = "accountant_already_connected"
    status = 409
    title = (
        "An accountant already manages this subscription, or a practice's request to manage it is waiting for you "
        "on your My accountant page."
    )
