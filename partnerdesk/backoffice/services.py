from __future__ import annotations

from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from partnerdesk.audit.models import Action
from partnerdesk.audit.services import record_event
from partnerdesk.backoffice.models import ChangeRequest
from partnerdesk.identity.models import User


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
