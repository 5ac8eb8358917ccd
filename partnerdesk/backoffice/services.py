from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from allauth.account.models import EmailAddress
from django.contrib.auth.models import Group, Permission
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.db.models import Q
from django.http import HttpRequest
from django.utils import timezone

from partnerdesk.audit.models import Action
from partnerdesk.audit.services import record_event
from partnerdesk.backoffice.models import ChangeRequest
from partnerdesk.identity.models import Company, User
from partnerdesk.lib.errors import Conflict, DomainError, NotFound
from partnerdesk.lib.text import HIDDEN_CHARACTERS, HIDDEN_CHARACTERS_MESSAGE
from partnerdesk.notifications.services import message_post, message_subject
from partnerdesk.practice import contact_email as contact_addresses
from partnerdesk.practice.models import Practice, PracticeInvitation, PracticeMember
from partnerdesk.practice.staff_services import InvalidInput

CUSTOMER_SERVICES = "Customer services"
# What the back office's staff need (app_label.codename), as migration 0003 first made the group.
CUSTOMER_SERVICES_PERMISSIONS = [
    "identity.view_company",
    "identity.change_company",
    "identity.view_companymembership",
    "backoffice.view_changerequest",
    "backoffice.change_changerequest",
    "identity.view_user",
    "identity.view_accessrequest",
    "practice.view_practice",
    "practice.view_practicemember",
    "practice.view_client",
    "audit.view_event",
    "notifications.view_outboundemail",
    "notifications.view_message",
    "billing.view_invoice",
    "billing.view_invoiceline",
    "billing.view_licence",
    "billing.view_subscriptionitem",
    "billing.view_service",
    "billing.view_serviceprice",
    "billing.view_directdebitmandate",
    # Set up a new practice (Practices -> "Set up a practice", migration 0004): the form's one permission.
    "practice.add_practice",
]


def customer_services_group() -> Group:
    """The "Customer services" group with its permissions (made by a migration; made again here where a test
    database was flushed, as the browser tests' are)."""
    group, _ = Group.objects.get_or_create(name=CUSTOMER_SERVICES)
    wanted = Q()
    for name in CUSTOMER_SERVICES_PERMISSIONS:
        app_label, codename = name.split(".")
        wanted |= Q(content_type__app_label=app_label, codename=codename)
    group.permissions.set(Permission.objects.filter(wanted))
    return group


def change_requests_mark_done(*, actor: User, ids: list[int], request: HttpRequest | None = None) -> int:
    """The administration team has applied these change requests. Returns how many were still new."""
    with transaction.atomic():
        pending = list(
            ChangeRequest.objects.select_for_update()
            .select_related("client__practice", "client__company")
            .filter(pk__in=ids, status="new")
        )
        now = timezone.now()
        for change in pending:
            change.status = ChangeRequest.Status.DONE
            change.handled_by = actor
            change.handled_at = now
            change.save(update_fields=["status", "handled_by", "handled_at"])
            record_event(
                action=Action.CHANGE_REQUEST_DONE,
                actor=actor,
                request=request,
                client=change.client,
                practice=change.client.practice,
                company=change.client.company,
                data={"change_request": change.pk},
            )
    return len(pending)


# --- setting up a new practice ---------------------------------------------------------------------------------

# Who the first admin's invitation says invited them: the firm knows Partnerdesk, not the back office's staff.
SETUP_INVITER_NAME = "Partnerdesk Customer Services"  # = CUSTOMER_SERVICES_NAME


class PracticeSetupInvalid(DomainError):
    """Bad input for Set up a practice; ``extra["field"]`` names the form's field."""

    code = "invalid_input"
    status = 422
    title = "Check the details you entered"


class AdminOfAnotherPractice(Conflict):
    code = "member_of_another_practice"
    title = "That address already belongs to a member of another practice."


@dataclass(frozen=True)
class PracticeSetUp:
    practice: Practice
    company: Company
    invitation: PracticeInvitation


def _setup_email(value: str, *, field: str) -> str:
    email = (value or "").strip().lower()
    try:
        validate_email(email)
    except ValidationError:
        raise PracticeSetupInvalid("Enter a valid email address.", code="email_invalid", field=field) from None
    return email


def _member_elsewhere(email: str) -> PracticeMember | None:
    """A practice member whose login (or a verified address of theirs) is ``email``: a person belongs to one
    practice (decision 71), so they could never accept the new practice's invitation."""
    verified = EmailAddress.objects.filter(email__iexact=email, verified=True).values("user_id")
    return (
        PracticeMember.objects.select_related("practice")
        .filter(Q(user__email__iexact=email) | Q(user_id__in=verified))
        .order_by("pk")
        .first()
    )


def practice_set_up(
    *,
    actor: User,
    business_name: str,
    contact_email: str,
    admin_email: str,
    discount_rate: Decimal,
    request: HttpRequest | None = None,
) -> PracticeSetUp:
    """Customer services sets up a new accountancy practice, in one transaction: its company (fresh customer number;
    the first admin's address as the company's owner email, so they can later link it as its Subscription Owner),
    the practice, its discount from today (dated, ``billing.practice_discount_set``), the contact email waiting for
    its confirmation link (decision 71: an address counts once proven), and the first admin's invitation (role
    admin, every client, 14 days, single-use). Audited as ``backoffice.practice.create``; the emails are queued in
    the outbox, so a failure anywhere leaves nothing behind and sends nothing.

    Partner Edition itself is the practice (its members get the product: OIDC claims, the client list); the practice's
    own company gets no billed service or licence, as the demo's practice has none."""
    from partnerdesk.billing.services import practice_discount_set
    from partnerdesk.identity.services import company_create
    from partnerdesk.practice import contact_email as contact_addresses
    from partnerdesk.practice.staff_services import first_admin_invite

    name = " ".join((business_name or "").split())
    if not name:
        raise PracticeSetupInvalid(
            "Enter the practice's business name.", code="business_name_required", field="business_name"
        )
    if len(name) > 200:
        raise PracticeSetupInvalid("Use 200 characters or fewer.", code="business_name_too_long", field="business_name")
    if HIDDEN_CHARACTERS.search(name):
        raise PracticeSetupInvalid(HIDDEN_CHARACTERS_MESSAGE, code="hidden_characters", field="business_name")
    contact = _setup_email(contact_email, field="contact_email")
    admin = _setup_email(admin_email, field="admin_email")
    try:
        rate = Decimal(discount_rate).quantize(Decimal("0.01"))
    except (InvalidOperation, TypeError, ValueError):
        rate = Decimal("-1")
    if not Decimal("0") <= rate <= Decimal("100"):
        raise PracticeSetupInvalid(
            "Enter a discount rate from 0 to 100 percent.", code="discount_invalid", field="discount_rate"
        )
    with transaction.atomic():
        other = contact_addresses.practice_for_address(contact)
        if other is not None:
            raise contact_addresses.ContactEmailTaken(
                f"{contact} is already the contact email of {other.name}: a practice's contact email leads an "
                "owner's invitation to one practice only. Use another address.",
                field="contact_email",
            )
        elsewhere = _member_elsewhere(admin)
        if elsewhere is not None:
            raise AdminOfAnotherPractice(
                f"{admin} already belongs to a member of {elsewhere.practice.name}, and a person belongs to one "
                "practice. Ask the firm for another address for its first admin.",
                field="admin_email",
            )
        company = company_create(business_name=name, owner_email=admin)
        practice = Practice.objects.create(company=company, name=name)
        practice_discount_set(practice=practice, rate=rate, actor=actor, request=request)
        contact_addresses.request_change(practice=practice, actor=actor, email=contact)
        invitation = first_admin_invite(
            actor=actor, practice=practice, email=admin, inviter_name=SETUP_INVITER_NAME, request=request
        )
        record_event(
            action=Action.PRACTICE_SET_UP,
            actor=actor,
            request=request,
            practice=practice,
            company=company,
            data={
                "business_name": name,
                "customer_number": company.customer_number,
                "contact_email": contact,
                "admin_email": admin,
                "discount_rate": str(rate),
                "invitation": invitation.pk,
            },
        )
    return PracticeSetUp(practice=practice, company=company, invitation=invitation)


CUSTOMER_SERVICES_NAME = "Partnerdesk Customer Services"


def practice_contact_email_send_confirmation(
    *, actor: User, practice_id: int, email: str, request: HttpRequest | None = None
) -> Practice:
    """Customer services starts a change of a practice's contact email (the practice lost its old mailbox, say):
    the same flow as the practice's Settings (decision 71), never a typed address taking effect. A link goes to the
    new address and it becomes the contact email only once someone opens it; the address in use is told at once;
    the practice's admins find a message saying who started it. Customer services' own login address proves
    nothing. Always a fresh link (an older one stops working). One audit event, ``practice.settings.update`` with
    ``via: backoffice``, as the practice's own change is recorded."""
    address = (email or "").strip().lower()
    try:
        validate_email(address)
    except ValidationError:
        raise InvalidInput("Enter a valid email address.", code="email_invalid") from None
    with transaction.atomic():
        practice = Practice.objects.select_for_update().filter(pk=practice_id).first()
        if practice is None:
            raise NotFound("No such practice")
        if address == practice.contact_email:
            raise InvalidInput("That is already the practice's contact email.", code="contact_email_unchanged")
        if Practice.objects.filter(contact_email__iexact=address).exclude(pk=practice.pk).exists():
            raise contact_addresses.ContactEmailTaken()
        diff = contact_addresses.request_change(
            practice=practice,
            actor=actor,
            email=address,
            resend=True,
            requester_name=CUSTOMER_SERVICES_NAME,
            actor_login_proves=False,
        )
        record_event(
            action=Action.PRACTICE_SETTINGS_UPDATE,
            actor=actor,
            request=request,
            practice=practice,
            data={**diff, "via": "backoffice"},
        )
        current = practice.contact_email or "none"
        message_post(
            practice=practice,
            subject=message_subject("Customer Services asked to change your contact email to {email}", email=address),
            body=f"Partnerdesk Customer Services sent a confirmation link to {address}. It becomes your practice's "
            f"contact email only once someone opens that link; until then it stays as it is ({current}). If your "
            "practice did not ask for this, contact Customer Services. Your admins can see or change it in Settings.",
            link="/partner/settings/",
        )
    return practice
