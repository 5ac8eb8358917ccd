"""Billing pages: Manage Subscriptions (practice side and owner side), Add subscriptions from the Imported
tab, and Direct Debit payment details (company owners and practice admins).

The wizard keeps its state in the URL and the form (the chosen service ids), never in the session:
list -> tick services -> **Remove** -> **Continue** -> summary -> **Finish** (POST).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from partnerdesk.billing import selectors, services
from partnerdesk.billing.forms import AddServiceForm, ImportedSubscriptionsForm, MandateForm
from partnerdesk.billing.models import Licence, Service
from partnerdesk.identity import selectors as identity_selectors
from partnerdesk.identity.disabled import company_disabled_page
from partnerdesk.identity.models import Company, CompanyMembership, User
from partnerdesk.lib.errors import DomainError, NotFound
from partnerdesk.practice.models import Client, PracticeMember
from partnerdesk.practice.permissions import practice_admin_page
from partnerdesk.practice.selectors import (
    client_for_member,
    membership_for_user,
    visible_clients,
)


def _user(request: HttpRequest) -> User:
    assert isinstance(request.user, User)  # guaranteed by @login_required
    return request.user


def _member(request: HttpRequest) -> PracticeMember:
    member = membership_for_user(user=_user(request))
    if member is None:
        raise Http404("You are not a member of a practice.")
    return member


def _access_missing(client: Client) -> str:
    """What an imported client's details still need before it can be given a login ("" when ready)."""
    from partnerdesk.practice.lifecycle import field_label, missing_for_access

    fields = missing_for_access(client) + ([] if client.email else ["email"])
    return ", ".join(field_label(f) for f in fields)


def _chosen_ids(values: list[str]) -> list[int]:
    """Database ids from the form or the URL (anything else ignored), in order, without repeats."""
    ids: list[int] = []
    for value in values:
        if value.isdigit() and len(value) < 19 and int(value) > 0 and int(value) not in ids:
            ids.append(int(value))
    return ids


# --- Manage Subscriptions ----------------------------------------------------------------------------


@dataclass
class Wizard:
    """Where the wizard runs: for a practice's client, or for the owner's own company."""

    company: Company
    side: str  # "practice" | "owner"
    list_url: str
    summary_url: str
    add_url: str
    back_url: str
    client: Client | None = None
    membership: CompanyMembership | None = None


def _practice_wizard(request: HttpRequest, client_id: int) -> Wizard:
    member = _member(request)
    try:
        client = client_for_member(member=member, client_id=client_id)
    except NotFound:
        raise Http404("No such client") from None
    if client.tab != Client.Tab.ACTIVE:
        raise Http404("No such client")
    return Wizard(
        company=client.company,
        side="practice",
        client=client,
        list_url=reverse("billing:client_subscriptions", args=[client.pk]),
        summary_url=reverse("billing:client_subscriptions_summary", args=[client.pk]),
        add_url=reverse("billing:client_subscriptions_add", args=[client.pk]),
        back_url=reverse("practice:client", args=[client.pk]),
    )


def _owner_wizard(request: HttpRequest, customer_number: str) -> Wizard | HttpResponse:
    """The owner's Manage Subscriptions; the "access disabled" page while the company is disabled or suspended."""
    try:
        membership = identity_selectors.membership_for_company(user=_user(request), customer_number=customer_number)
    except NotFound:
        raise Http404("No such company") from None
    if membership.role != CompanyMembership.Role.OWNER:
        raise Http404("No such page")
    if identity_selectors.is_access_disabled(membership):
        return company_disabled_page(request, membership)
    company = membership.company
    return Wizard(
        company=company,
        side="owner",
        membership=membership,
        list_url=reverse("billing:company_subscriptions", args=[company.customer_number]),
        summary_url=reverse("billing:company_subscriptions_summary", args=[company.customer_number]),
        add_url=reverse("billing:company_subscriptions_add", args=[company.customer_number]),
        back_url=reverse("identity:company", args=[company.customer_number]),
    )


def _may_change(request: HttpRequest, wizard: Wizard) -> tuple[bool, str]:
    try:
        services.payer_side(actor=_user(request), company=wizard.company)
    except NotFound:
        raise Http404("No such company") from None
    except DomainError as exc:
        return False, exc.message
    return True, ""


def _base_context(request: HttpRequest, wizard: Wizard) -> dict[str, Any]:
    may_change, reason = _may_change(request, wizard)
    context: dict[str, Any] = {
        "wizard": wizard,
        "company": wizard.company,
        "client": wizard.client,
        "may_change": may_change,
        "not_payer_reason": reason,
        "payer": selectors.payer_for(company=wizard.company),
    }
    if wizard.side == "practice":
        context["member"] = membership_for_user(user=_user(request))
    else:
        context["membership"] = wizard.membership
        context["is_owner"] = True
    return context


def _render_list(
    request: HttpRequest, wizard: Wizard, *, add_form: AddServiceForm | None = None, status: int = 200
) -> HttpResponse:
    context = _base_context(request, wizard)
    items = list(selectors.current_and_scheduled(company=wizard.company))
    chosen = _chosen_ids(request.GET.getlist("service"))
    open_ids = {item.service_id for item in items if item.ends_on is None}
    chosen = [pk for pk in chosen if pk in open_ids]
    removing = request.GET.get("step") == "remove"
    if removing and not chosen:
        messages.error(request, "Select the service you want to remove, then Remove.")
    context.update(
        {
            "items": items,
            "chosen": set(chosen),
            # What "You chose to remove" names, in the table's order.
            "chosen_items": [item for item in items if item.service_id in set(chosen) and item.ends_on is None],
            "removing": removing and bool(chosen),
            "continue_url": f"{wizard.summary_url}?{urlencode({'service': chosen}, doseq=True)}",
            "add_form": add_form
            or AddServiceForm(
                exclude_ids={item.service_id for item in items if item.ends_on is None},
                current=[item.service for item in items if item.ends_on is None],
            ),
            "catalogue": selectors.catalogue(),
        }
    )
    return render(request, "billing/subscriptions.html", context, status=status)


def _refusal_for_non_payer(request: HttpRequest, wizard: Wizard, context: dict[str, Any]) -> HttpResponse | None:
    """The side that does not pay sees the services on the list (which says why it can't change them), never the
    payer's prices: an owner whose accountant pays must not learn the practice's discount."""
    if context["may_change"]:
        return None
    if request.method == "POST":
        return _render_list(request, wizard, status=400)
    return redirect(wizard.list_url)


def _summary(request: HttpRequest, wizard: Wizard) -> HttpResponse:
    context = _base_context(request, wizard)
    if (refusal := _refusal_for_non_payer(request, wizard, context)) is not None:
        return refusal
    source = request.POST if request.method == "POST" else request.GET
    chosen = selectors.services_by_ids(ids=_chosen_ids(source.getlist("service")))
    if not chosen:
        messages.error(request, "Select the service you want to remove, then Remove.")
        return redirect(wizard.list_url)
    effective_on = selectors.today()
    summary = selectors.removal_summary(company=wizard.company, services=chosen, effective_on=effective_on)
    if not summary.lines:  # e.g. Back after Finish: nothing of this is in force any more
        names = ", ".join(s.name for s in chosen)
        messages.info(request, f"{names}: not part of {wizard.company.business_name}'s services (already removed?).")
        return redirect(wizard.list_url)
    error = ""
    if request.method == "POST":
        try:
            services.subscriptions_remove(
                actor=_user(request),
                company=wizard.company,
                services=chosen,
                effective_on=effective_on,
                confirm_no_service=request.POST.get("confirm_no_service") == "1",
                request=request,
            )
        except NotFound:
            raise Http404("No such company") from None
        except DomainError as exc:
            error = exc.message
        else:
            names = ", ".join(line.service.name for line in summary.lines)
            who = "The client" if wizard.side == "practice" else "Your users"
            messages.success(
                request,
                f"{names} removed from {wizard.company.business_name}. {who} will no longer see "
                f"{'it' if len(summary.lines) == 1 else 'them'} from the next sign-in, and the next monthly "
                "invoice is amended accordingly.",
            )
            return redirect(wizard.list_url)
    context.update(
        {
            "summary": summary,
            "chosen": chosen,
            "error": error,
            "back_url": f"{wizard.list_url}?{urlencode({'service': [s.pk for s in chosen], 'step': 'remove'}, doseq=True)}",
        }
    )
    return render(request, "billing/subscriptions_summary.html", context, status=400 if error else 200)


def _add(request: HttpRequest, wizard: Wizard) -> HttpResponse:
    """Add a service: choose -> check (price, from when, what it replaces) -> Add."""
    context = _base_context(request, wizard)
    if (refusal := _refusal_for_non_payer(request, wizard, context)) is not None:
        return refusal
    form = AddServiceForm(request.POST)
    if form.is_valid():
        service: Service = form.cleaned_data["service"]
        replacing = selectors.alternatives_in_force(company=wizard.company, service=service)
        if request.POST.get("confirm") != "yes":
            schedule = selectors.price_schedule(service=service, payer=context["payer"], start=selectors.today())
            context.update(
                {
                    "service": service,
                    "replacing": [item.service for item in replacing],
                    "starts_on": selectors.today(),
                    "monthly_rrp": schedule[0].monthly_rrp,
                    "monthly_price": schedule[0].monthly_price,
                    "price_changes": schedule[1:],  # announced within the coming month
                }
            )
            return render(request, "billing/subscriptions_add_check.html", context)
        try:
            services.subscription_add(actor=_user(request), company=wizard.company, service=service, request=request)
        except NotFound:
            raise Http404("No such company") from None
        except DomainError as exc:
            messages.error(request, exc.message)
        else:
            instead = f", replacing {', '.join(i.service.name for i in replacing)}" if replacing else ""
            messages.success(request, f"{service.name} added to {wizard.company.business_name}{instead}.")
        return redirect(wizard.list_url)
    return _render_list(request, wizard, add_form=form, status=400)


@login_required
def client_subscriptions(request: HttpRequest, client_id: int) -> HttpResponse:
    """Manage Subscriptions for a practice's client: its services, Remove, and Add a service."""
    return _render_list(request, _practice_wizard(request, client_id))


@login_required
def client_subscriptions_summary(request: HttpRequest, client_id: int) -> HttpResponse:
    """Continue -> what changes, from when, the effect on the next invoice -> Finish."""
    return _summary(request, _practice_wizard(request, client_id))


@login_required
@require_POST
def client_subscriptions_add(request: HttpRequest, client_id: int) -> HttpResponse:
    return _add(request, _practice_wizard(request, client_id))


@login_required
def company_subscriptions(request: HttpRequest, customer_number: str) -> HttpResponse:
    """Manage Subscriptions for the Subscription Owner of a client-paying company."""
    wizard = _owner_wizard(request, customer_number)
    return wizard if isinstance(wizard, HttpResponse) else _render_list(request, wizard)


@login_required
def company_subscriptions_summary(request: HttpRequest, customer_number: str) -> HttpResponse:
    wizard = _owner_wizard(request, customer_number)
    return wizard if isinstance(wizard, HttpResponse) else _summary(request, wizard)


@login_required
@require_POST
def company_subscriptions_add(request: HttpRequest, customer_number: str) -> HttpResponse:
    wizard = _owner_wizard(request, customer_number)
    return wizard if isinstance(wizard, HttpResponse) else _add(request, wizard)


# --- Imported tab -> Add subscriptions ------------------------------------------------------------------


@login_required
def imported_subscriptions(request: HttpRequest) -> HttpResponse:
    """Choose services and who pays for up to 50 imported clients; they move to the Active tab."""
    member = _member(request)
    if request.method == "POST" and request.POST.get("action") != "apply":
        # From the client list's selection (its row checkboxes are named "client"): keep the state in the URL.
        ids = _chosen_ids(request.POST.getlist("client") + request.POST.getlist("ids"))
        return redirect(f"{reverse('billing:imported_subscriptions')}?{urlencode({'ids': ids}, doseq=True)}")
    source = request.POST if request.method == "POST" else request.GET
    ids = _chosen_ids(source.getlist("ids") + source.getlist("client"))
    too_many = len(ids) > services.IMPORTED_BATCH_LIMIT
    clients = list(
        visible_clients(member=member)
        .filter(tab=Client.Tab.IMPORTED, pk__in=ids[: services.IMPORTED_BATCH_LIMIT * 10])
        .order_by("business_name", "pk")
    )
    form = ImportedSubscriptionsForm(request.POST if request.method == "POST" else None)
    error = ""
    if too_many:
        error = f"Choose at most {services.IMPORTED_BATCH_LIMIT} clients at a time (you chose {len(ids)})."
    elif not clients:
        moved_on = ids and visible_clients(member=member).filter(pk__in=ids[: services.IMPORTED_BATCH_LIMIT]).exists()
        error = (
            "These clients are no longer on the Imported tab: their subscriptions were added and they are on your "
            "Active tab."
            if moved_on
            else "Select one or more clients on the Imported tab first."
        )
    if request.method == "POST" and not error and form.is_valid():
        try:
            moved = services.clients_add_subscriptions(
                member=member,
                client_ids=[c.pk for c in clients],
                services=list(form.cleaned_data["services"]),
                payer=form.cleaned_data["payer"],
                give_access=_chosen_ids(request.POST.getlist("give_access")),
                request=request,
            )
        except DomainError as exc:
            error = exc.message
        else:
            count = len(moved)
            invited = sum(1 for c in moved if c.access == Client.Access.INVITED)
            messages.success(
                request,
                f"Subscriptions set up for {count} client{'s' if count != 1 else ''}: now on your Active tab."
                + (f" {invited} activation email{'s' if invited != 1 else ''} sent." if invited else ""),
            )
            return redirect(f"{reverse('practice:clients')}?tab=active")
    return render(
        request,
        "billing/imported_subscriptions.html",
        {
            "member": member,
            "clients": clients,
            "rows": [(client, _access_missing(client)) for client in clients],
            "form": form,
            "error": error,
            "too_many": too_many,
            "limit": services.IMPORTED_BATCH_LIMIT,
            "catalogue": selectors.catalogue(),
            "payer_accountant": Licence.Payer.ACCOUNTANT,
            "give_access": set(_chosen_ids(request.POST.getlist("give_access"))) if request.method == "POST" else set(),
        },
        status=400 if request.method == "POST" or too_many else 200,
    )


# --- Direct Debit payment details ----------------------------------------------------------------------


def _mandate_page(
    request: HttpRequest, *, company: Company, template: str, action_url: str, context: dict[str, Any]
) -> HttpResponse:
    user = _user(request)
    form = MandateForm()
    status = 200
    if request.method == "POST":
        if request.POST.get("action") == "cancel":
            if request.POST.get("confirm") != "yes":  # Cancel Direct Debit -> Yes, cancel
                payer = selectors.payer_for(company=company)
                return render(
                    request,
                    "billing/mandate_cancel.html",
                    {
                        **context,
                        "company": company,
                        "action_url": action_url,
                        "mandate": selectors.mandate_active(company=company),
                        "pays": payer.payer == Licence.Payer.CLIENT or hasattr(company, "practice"),
                    },
                )
            try:
                services.mandate_cancel(actor=user, company=company, request=request)
            except NotFound as exc:
                messages.error(request, exc.message)
            else:
                messages.success(request, "Direct Debit cancelled.")
            return redirect(action_url)
        form = MandateForm(request.POST)
        if form.is_valid():
            try:
                services.mandate_create(actor=user, company=company, request=request, **form.cleaned_data)
            except DomainError as exc:
                form.add_error(exc.extra.get("field"), exc.message)
            else:
                messages.success(request, "Direct Debit details saved. Thank you.")
                return redirect(action_url)
        status = 400
    payer = selectors.payer_for(company=company)
    return render(
        request,
        template,
        {
            **context,
            "company": company,
            "form": form,
            "mandate": selectors.mandate_active(company=company),
            "suspended": company.suspended_at is not None,
            "accountant_pays": payer.payer == Licence.Payer.ACCOUNTANT and not hasattr(company, "practice"),
            "action_url": action_url,
        },
        status=status,
    )


@never_cache  # bank details, even masked, are not kept in caches
@login_required
def company_payment(request: HttpRequest, customer_number: str) -> HttpResponse:
    """The Subscription Owner's payment details (identity:company_payment)."""
    try:
        membership = identity_selectors.membership_for_company(user=_user(request), customer_number=customer_number)
    except NotFound:
        raise Http404("No such company") from None
    # Disabled by the accountant: nothing to pay here. Suspended for want of payment details: this page is
    # exactly where access is restored, so it stays open to the owner.
    if getattr(membership, "access_disabled", False):
        return company_disabled_page(request, membership)
    if membership.role != CompanyMembership.Role.OWNER:
        raise Http404("No such page")
    company = membership.company
    return _mandate_page(
        request,
        company=company,
        template="identity/company_payment.html",
        action_url=reverse("identity:company_payment", args=[company.customer_number]),
        context={"membership": membership, "is_owner": True},
    )


@never_cache  # bank details, even masked, are not kept in caches
@login_required
def practice_payment(request: HttpRequest) -> HttpResponse:
    """A practice admin's payment details for the practice's own invoices."""
    member = practice_admin_page(request, page="its payment details")
    return _mandate_page(
        request,
        company=member.practice.company,
        template="billing/mandate_practice.html",
        action_url=reverse("billing:practice_payment"),
        context={"member": member},
    )
