from __future__ import annotations

from django.contrib.auth.models import Group, Permission
from django.db import transaction
from django.db.models import Q
from django.http import HttpRequest
from django.utils import timezone

from partnerdesk.audit.models import Action
from partnerdesk.audit.services import record_event
from partnerdesk.backoffice.models import ChangeRequest
from partnerdesk.identity.models import User

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
