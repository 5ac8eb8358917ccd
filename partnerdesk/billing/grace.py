"""The 30-day grace period after a practice transfers a non-participating client, and suspension.

Day 0 is the transfer (the practice pays for it). Days 1-29 are free; day 30 (``Client.grace_ends_on``) is the first
day the client pays for (its licence starts then) and people are told day 29 as the last free day. Reminders go on
day 23 and day 29; on day 30 a company with no active Direct Debit mandate is suspended: its users cannot reach it (data kept) until someone
enters payment details, which lifts the suspension (``company_unsuspend``, called by the mandate service).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from django.db import transaction
from django.db.models import Max, Q
from django.http import HttpRequest
from django.utils import timezone

from partnerdesk.audit.models import Action
from partnerdesk.audit.services import record_event
from partnerdesk.identity.models import Company, CompanyMembership, User
from partnerdesk.identity.services import product_tokens_revoke
from partnerdesk.notifications.services import message_post


def company_unsuspend(*, company: Company, actor: User | None = None, request: HttpRequest | None = None) -> bool:
    """Lift a suspension because payment details were entered. Runs inside the caller's transaction;
    returns whether the company was suspended."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("company_unsuspend must run inside the calling service's transaction")
    lifted = Company.objects.filter(pk=company.pk, suspended_at__isnull=False).update(suspended_at=None)
    if not lifted:
        return False
    company.suspended_at = None
    record_event(action=Action.COMPANY_UNSUSPEND, actor=actor, request=request, company=company)
    message_post(
        company=company,
        subject="Access restored",
        body=f"Payment details are in place for {company.business_name}: everyone can use the service again.",
    )
    return True


REMINDER_DAYS_BEFORE_END = (7, 1)  # day 23 and day 29 of a 30-day grace period


def last_free_day(grace_ends_on: dt.date) -> dt.date:
    """``grace_ends_on`` (day 30) is the first day without free access: the client's licence starts then and a
    company without a mandate is suspended then. What people are told is the day before, the last free day."""
    return grace_ends_on - dt.timedelta(days=1)


def _has_mandate(company_id: int) -> bool:
    from partnerdesk.billing.models import DirectDebitMandate

    return DirectDebitMandate.objects.filter(company_id=company_id, status=DirectDebitMandate.Status.ACTIVE).exists()


def grace_run(*, today: dt.date | None = None) -> dict[str, int]:
    """Periodic (hourly; idempotent): reminders on day 23 and day 29, suspension on day 30, for transferred
    clients whose company has no Direct Debit mandate yet. Each client is its own small transaction."""
    from partnerdesk.practice.models import Client

    today = today or timezone.localdate()
    counts = {"reminders": 0, "suspended": 0}
    due = list(
        Client.all_objects.filter(
            ended_reason=Client.Ended.TRANSFERRED,
            grace_ends_on__isnull=False,
            grace_ends_on__lte=today + dt.timedelta(days=REMINDER_DAYS_BEFORE_END[0]),
            company__suspended_at__isnull=True,
        ).values_list("pk", flat=True)
    )
    for pk in due:
        with transaction.atomic():
            client = Client.all_objects.select_for_update(of=("self",)).select_related("company").get(pk=pk)
            company = Company.objects.select_for_update().get(pk=client.company_id)
            if company.suspended_at is not None or _has_mandate(company.pk) or client.grace_ends_on is None:
                continue
            days_left = (client.grace_ends_on - today).days
            if days_left <= 0:
                company.suspended_at = timezone.now()
                company.save(update_fields=["suspended_at"])
                # The products' claims list the company until their tokens end (as on Disable).
                product_tokens_revoke(user_ids=CompanyMembership.objects.filter(company=company).values("user_id"))
                record_event(
                    action=Action.COMPANY_SUSPEND,
                    company=company,
                    client=client,
                    data={"grace_ends_on": client.grace_ends_on.isoformat()},
                )
                _tell_owner(company, template="company-suspended", grace_ends_on=client.grace_ends_on)
                counts["suspended"] += 1
                continue
            wanted = sum(1 for before in REMINDER_DAYS_BEFORE_END if days_left <= before)
            if wanted > client.grace_reminders_sent:
                client.grace_reminders_sent = wanted
                client.save(update_fields=["grace_reminders_sent"])
                record_event(
                    action=Action.COMPANY_GRACE_REMINDER,
                    company=company,
                    client=client,
                    data={"days_left": days_left, "reminder": wanted},
                )
                _tell_owner(company, template="company-grace-reminder", grace_ends_on=client.grace_ends_on, today=today)
                counts["reminders"] += 1
    return counts


def _tell_owner(company: Company, *, template: str, grace_ends_on: dt.date, today: dt.date | None = None) -> None:
    """A reminder says how many free days are left (day 23: 7, counting today) or, on the last free day (day 29),
    that access ends tomorrow: two reminders must not read the same."""
    from partnerdesk.notifications.services import send_email

    owner = company.owner if company.owner_id else None
    address = owner.email if owner else company.owner_email
    last_day = last_free_day(grace_ends_on)
    # Free days left, today included: 7 on day 23, 1 on day 29 (the last free day).
    days_left = max((last_day - today).days + 1, 1) if today else 0
    payment_path = f"/companies/{company.customer_number}/payment/"
    context = {
        "business_name": company.business_name,
        "customer_number": company.customer_number,
        "grace_ends_on": grace_ends_on.isoformat(),
        "days_left": days_left,
        "last_day": days_left == 1,
        "payment_path": payment_path,
        "recipient_name": owner.full_name if owner else "",
    }
    if address:
        send_email(template=template, to=address, context=context)
    if template != "company-grace-reminder":
        subject = "Access suspended"
        body = (
            "Your free access after the transfer has ended. Your data is kept: enter your Direct Debit details "
            "to use your services again."
        )
    elif days_left == 1:
        subject = "Last free day: enter your payment details"
        body = (
            f"Today is the last day of your free access after the transfer. Tomorrow, {grace_ends_on:%-d %B %Y}, "
            "your access ends unless you enter your Direct Debit details today."
        )
    else:
        subject = "Enter your payment details"
        body = (
            f"You have {days_left} days of free access left after the transfer, up to and including "
            f"{last_day:%-d %B %Y}. Enter your Direct Debit details by then to keep using your services."
        )
    message_post(
        company=company,
        subject=subject,
        body=body,
        link=payment_path,
        owner_only=template == "company-grace-reminder",  # a suspension concerns everyone who uses the company
    )


def payment_prompt(*, company: Company) -> dict[str, object] | None:
    """The portal banner: a company that pays (or will pay, after a transfer's grace) for itself and has no
    Direct Debit mandate is asked for one, with the end of its free access when there is one."""
    return payment_prompts_for(companies=[company]).get(company.pk)


def payment_prompts_for(*, companies: Iterable[Company]) -> dict[int, dict[str, object]]:
    """``payment_prompt`` for many companies at once (keyed by company id; none for a company not asked), in at
    most three queries whatever their number: a person's companies on Home and a product's home."""
    from partnerdesk.billing.models import DirectDebitMandate, Licence
    from partnerdesk.practice.models import Client

    by_id = {company.pk: company for company in companies}
    if not by_id:
        return {}
    today = timezone.localdate()
    paying = set(
        Licence.objects.filter(company_id__in=by_id, payer=Licence.Payer.CLIENT)
        .filter(Q(ends_on__isnull=True) | Q(ends_on__gt=today))
        .values_list("company_id", flat=True)
    )
    if paying:
        paying -= set(
            DirectDebitMandate.objects.filter(
                company_id__in=paying, status=DirectDebitMandate.Status.ACTIVE
            ).values_list("company_id", flat=True)
        )
    if not paying:
        return {}
    graces = dict(
        Client.all_objects.filter(
            company_id__in=paying, ended_reason=Client.Ended.TRANSFERRED, grace_ends_on__isnull=False
        )
        .values("company_id")
        .annotate(latest=Max("grace_ends_on"))
        .values_list("company_id", "latest")
    )
    prompts: dict[int, dict[str, object]] = {}
    for company_id in paying:
        grace = graces.get(company_id)
        ends = grace if grace and grace > today else None
        prompts[company_id] = {
            "grace_ends_on": ends,
            "last_free_day": last_free_day(ends) if ends else None,
            "suspended": by_id[company_id].suspended_at,
        }
    return prompts
