"""Pages of the client access lifecycle: Give client access, Resend/Cancel invitation, Disable/Enable,
Stop Managing This Client, former clients, and the client's activation link. One view per URL."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from urllib.parse import urlencode

from allauth.account.models import EmailAddress
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from partnerdesk.billing.grace import last_free_day
from partnerdesk.identity.models import User
from partnerdesk.lib.errors import DomainError, NotFound, RateLimited
from partnerdesk.lib.ratelimit import INVITATION_LINK_PER_IP
from partnerdesk.lib.request import client_ip
from partnerdesk.practice import lifecycle, permissions
from partnerdesk.practice.lifecycle_forms import ActivateAccountForm, InviteClientForm, StopManagingForm
from partnerdesk.practice.models import Client, PracticeMember
from partnerdesk.practice.selectors import client_for_member, former_clients
from partnerdesk.practice.views import _member
from partnerdesk.views import rate_limited_page

ALREADY_ENDED = "client_already_ended"


def _client_or_404(member: PracticeMember, client_id: int) -> Client:
    """The live client; for one this practice managed until someone just stopped (or the client removed it),
    the service's ``client_already_ended`` error (``_ended_goes_to_list`` shows it); a 404 for anything else."""
    try:
        return client_for_member(member=member, client_id=client_id)
    except NotFound:
        gone = lifecycle.client_gone(member=member, client_id=client_id)
        if isinstance(gone, NotFound):
            raise Http404("No such client") from None
        raise gone from None


def _ended_goes_to_list(view: Callable[[HttpRequest, int], HttpResponse]) -> Callable[[HttpRequest, int], HttpResponse]:
    """Acting on a client a colleague has just stopped managing: back to the client list, saying so (as the API's
    409), instead of a bare "No such client"."""

    @wraps(view)
    def wrapped(request: HttpRequest, client_id: int) -> HttpResponse:
        try:
            return view(request, client_id)
        except DomainError as exc:
            if exc.code != ALREADY_ENDED:
                raise
            messages.error(request, exc.message)
            return redirect("practice:clients")

    return wrapped


def _field_labels(fields: list[str]) -> list[str]:
    return [lifecycle.field_label(f) for f in fields]


@login_required
@_ended_goes_to_list
def give_access(request: HttpRequest, client_id: int) -> HttpResponse:
    """Manage -> Give client access: the Invite your client window, then Invite & Continue."""
    member = _member(request)
    client = _client_or_404(member, client_id)
    missing = lifecycle.missing_for_access(client)
    form = InviteClientForm(request.POST or None, initial={"email": client.email})
    if request.method == "POST" and not missing and form.is_valid():
        try:
            lifecycle.client_access_invite(
                member=member,
                client_id=client.pk,
                email=form.cleaned_data["email"],
                email_confirm=form.cleaned_data["email_confirm"],
                request=request,
            )
        except NotFound:
            raise Http404("No such client") from None
        except DomainError as exc:
            if exc.code == ALREADY_ENDED:
                raise
            form.add_error("email" if exc.code.startswith("email") else None, exc.message)
        else:
            messages.success(
                request,
                f"Invitation sent to {form.cleaned_data['email'].lower()}. "
                f"{client.business_name} is Awaiting Client Activation; you keep full access meanwhile.",
            )
            return redirect("practice:client", client.pk)
    return render(
        request,
        "practice/give_access.html",
        {
            "client": client,
            "form": form,
            "missing": _field_labels(missing),
            "participating": lifecycle.is_participating(client),
        },
        status=422 if request.method == "POST" else 200,
    )


def _post_action(request: HttpRequest, client_id: int, action: str) -> HttpResponse:
    member = _member(request)
    client = _client_or_404(member, client_id)
    done = {
        "resend": "Invitation resent. The previous link no longer works.",
        "cancel": "Invitation cancelled. The client has no access.",
        "disable": "Client access disabled. You still have access and still pay for the service.",
        "enable": "Client access enabled.",
    }
    call = {
        "resend": lifecycle.client_access_resend,
        "cancel": lifecycle.client_access_cancel,
        "disable": lifecycle.client_access_disable,
        "enable": lifecycle.client_access_enable,
    }[action]
    try:
        call(member=member, client_id=client.pk, request=request)
    except NotFound:
        raise Http404("No such client") from None
    except DomainError as exc:
        if exc.code == ALREADY_ENDED:
            raise
        messages.error(request, exc.message)
    else:
        messages.success(request, done[action])
    return redirect("practice:client", client.pk)


@login_required
@require_POST
@_ended_goes_to_list
def access_resend(request: HttpRequest, client_id: int) -> HttpResponse:
    return _post_action(request, client_id, "resend")


@login_required
@require_POST
@_ended_goes_to_list
def access_cancel(request: HttpRequest, client_id: int) -> HttpResponse:
    return _post_action(request, client_id, "cancel")


@login_required
@_ended_goes_to_list
def access_disable(request: HttpRequest, client_id: int) -> HttpResponse:
    """Manage -> Disable -> Yes."""
    if request.method == "POST":
        return _post_action(request, client_id, "disable")
    client = _client_or_404(_member(request), client_id)
    return render(request, "practice/client_confirm.html", {"client": client, "action": "disable"})


@login_required
@_ended_goes_to_list
def access_enable(request: HttpRequest, client_id: int) -> HttpResponse:
    """Enable -> Yes."""
    if request.method == "POST":
        return _post_action(request, client_id, "enable")
    client = _client_or_404(_member(request), client_id)
    return render(request, "practice/client_confirm.html", {"client": client, "action": "enable"})


@login_required
@_ended_goes_to_list
def stop_managing(request: HttpRequest, client_id: int) -> HttpResponse:
    """Manage -> Stop Managing This Client. Participating: Yes. Non-participating: Transfer or Delete."""
    member = _member(request)
    client = _client_or_404(member, client_id)
    try:
        permissions.require_may_stop_managing(member)
    except permissions.AdminOnly as exc:
        return permissions.admin_only_page(request, exc)
    participating = lifecycle.is_participating(client)
    final_accounts_blocked = False
    form = StopManagingForm(request.POST or None, business_name=client.business_name)
    if request.method == "POST":
        mode = lifecycle.StopMode.PARTICIPATING if participating else None
        if mode is None and form.is_valid():
            mode = form.cleaned_data["mode"]
        if mode is not None:
            try:
                result = lifecycle.client_stop_managing(
                    member=member,
                    client_id=client.pk,
                    mode=mode,
                    confirm_business_name=request.POST.get("confirm_business_name", ""),
                    request=request,
                )
            except NotFound:
                raise Http404("No such client") from None
            except DomainError as exc:
                if exc.code == ALREADY_ENDED:
                    raise
                form.add_error(None, exc.message)
                final_accounts_blocked = exc.code == lifecycle.FinalAccountsDataExists.code
                if participating:
                    messages.error(request, exc.message)
                    return redirect("practice:client", client.pk)
            else:
                messages.success(request, _stopped_message(result))
                return redirect("practice:clients")
    return render(
        request,
        "practice/client_stop.html",
        {
            "client": client,
            "form": form,
            "participating": participating,
            "final_accounts_blocked": final_accounts_blocked,
        },
        status=422 if request.method == "POST" else 200,
    )


def _stopped_message(result: lifecycle.StopResult) -> str:
    name = result.client.business_name
    if result.mode == lifecycle.StopMode.TRANSFER and result.grace_ends_on is not None:
        return (
            f"You no longer manage {name}. We emailed {result.client.email}: they have free access up to and "
            f"including {last_free_day(result.grace_ends_on):%-d %B %Y} and pay for their own subscription from "
            f"{result.grace_ends_on:%-d %B %Y}."
        )
    if result.mode == lifecycle.StopMode.DELETE:
        entries = result.ledger_entries_deleted
        erased = (
            f"{entries} bookkeeping {'entry' if entries == 1 else 'entries'} erased"
            if entries
            else "no bookkeeping entries"
        )
        return f"{name}'s data was deleted ({erased}) and the subscription cancelled."
    return f"You no longer manage {name}. They now pay for their own subscription and have been told."


FORMER_CLIENTS_PER_PAGE = 50


@login_required
def former(request: HttpRequest) -> HttpResponse:
    """Former clients whose Final Accounts data the practice still holds (compliance data only)."""
    member = _member(request)
    page = Paginator(former_clients(member=member), FORMER_CLIENTS_PER_PAGE).get_page(request.GET.get("page"))
    return render(request, "practice/former_clients.html", {"page": page, "clients": page.object_list})


# --- The client's activation link -------------------------------------------------------------------


def activate(request: HttpRequest, token: str) -> HttpResponse:
    """The link in an activation email: names the business; no account -> choose a password; an account ->
    sign in and Accept; signed in as someone else -> told so and offered to switch account."""
    try:
        INVITATION_LINK_PER_IP.hit(client_ip(request) or "unknown")
    except RateLimited as exc:
        return rate_limited_page(request, exc)
    try:
        view = lifecycle.activation_for_token(token=token)
    except NotFound as exc:
        return render(request, "practice/activation_closed.html", {"reason": exc.message}, status=404)
    except lifecycle.ActivationClosed as exc:
        return render(request, "practice/activation_closed.html", {"reason": exc.message}, status=410)
    invitation = view.invitation
    context: dict[str, object] = {"view": view, "invitation": invitation}
    user = request.user
    if not isinstance(user, User):
        if view.account_exists:
            context["login_url"] = f"{reverse('account_login')}?{urlencode({'next': request.path})}"
            return render(request, "practice/activation.html", context)
        form = ActivateAccountForm(request.POST or None, email=invitation.email)
        if request.method == "POST" and form.is_valid():
            try:
                new_user = lifecycle.client_access_activate_new_account(
                    token=token,
                    full_name=form.cleaned_data["full_name"],
                    password=form.cleaned_data["password1"],
                    request=request,
                )
            except lifecycle.ActivationClosed as exc:  # used meanwhile, e.g. in another browser: sign in instead
                return render(request, "practice/activation_closed.html", {"reason": exc.message}, status=410)
            except DomainError as exc:
                form.add_error(None, exc.message)
            else:
                login(request, new_user, backend="allauth.account.auth_backends.AuthenticationBackend")
                messages.success(request, f"Welcome. You are now the owner of {view.business_name}.")
                return redirect("identity:company", invitation.company.customer_number)
        context["form"] = form
        return render(request, "practice/activation.html", context, status=422 if form.errors else 200)
    matches = EmailAddress.objects.filter(user=user, email__iexact=invitation.email, verified=True).exists()
    context["matches"] = matches
    if request.method == "POST" and matches:
        try:
            company = lifecycle.client_access_accept(token=token, user=user, request=request)
        except DomainError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, f"You are now the owner of {company.business_name}.")
            return redirect("identity:company", company.customer_number)
    return render(request, "practice/activation.html", context, status=403 if not matches else 200)
