from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from partnerdesk.api import services as api_services
from partnerdesk.api.selectors import tokens_for_user
from partnerdesk.identity import selectors, services
from partnerdesk.identity.disabled import company_disabled_page
from partnerdesk.identity.forms import ApiTokenForm, InviteAccountantForm, LinkSubscriptionForm, PortalChoiceForm
from partnerdesk.identity.models import AccessRequest, Company, CompanyMembership, User
from partnerdesk.identity.products import PRODUCTS_BY_SLUG
from partnerdesk.lib.errors import DomainError, NotFound
from partnerdesk.practice import services as practice_services
from partnerdesk.practice.models import Client, Practice
from partnerdesk.practice.selectors import clients_with_product, membership_for_user, own_practices_admins


def _user(request: HttpRequest) -> User:
    assert isinstance(request.user, User)  # guaranteed by @login_required
    return request.user


_TOKEN_ONCE = "api_token_created"


@login_required
def api_tokens(request: HttpRequest) -> HttpResponse:
    """List the person's API tokens and create one (its value is shown once, on this response only)."""
    user = _user(request)
    form = ApiTokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            _, created_token = api_services.token_create(
                user=user, name=form.cleaned_data["name"], days=form.cleaned_data["days"], request=request
            )
        except DomainError as exc:
            form.add_error(None, exc.message)
        else:
            # Post/redirect/get: a reload or Back does not create a second token. The value rides in the session
            # to the next page only, and is gone from it once shown.
            request.session[_TOKEN_ONCE] = created_token
            return redirect("identity:api_tokens")
    shown_once: str | None = request.session.pop(_TOKEN_ONCE, None) if request.method == "GET" else None
    tokens = tokens_for_user(user=user)
    response = render(
        request, "identity/api_tokens.html", {"form": form, "tokens": tokens, "created_token": shown_once}
    )
    response["Cache-Control"] = "no-store"  # the one page that shows a token's value
    return response


@login_required
@require_POST
def api_token_revoke(request: HttpRequest, token_id: int) -> HttpResponse:
    try:
        token = api_services.token_revoke(user=_user(request), token_id=token_id, request=request)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"Token “{token.name}” revoked. Scripts using it can no longer sign in.")
    return redirect("identity:api_tokens")


def signin(request: HttpRequest) -> HttpResponse:
    """Sign in, step one: choose the portal and the product, then Continue to email and password."""
    form = PortalChoiceForm(request.POST or None, initial={"portal": "accounting"})
    if request.method == "POST" and form.is_valid():
        product = form.cleaned_data["product"]
        request.session["product"] = product
        target = reverse("identity:product_home", args=[product])
        if request.user.is_authenticated:
            return redirect(target)
        return redirect(f"{reverse('account_login')}?{urlencode({'next': target})}")
    return render(request, "identity/signin.html", {"form": form})


@login_required
def product_home(request: HttpRequest, product: str) -> HttpResponse:
    """Where a person lands after signing in to a product; Partner Edition members go to their client list."""
    chosen = PRODUCTS_BY_SLUG.get(product)
    if chosen is None:
        raise Http404("No such product.")
    user = _user(request)
    request.session["product"] = chosen.slug
    member = membership_for_user(user=user)
    is_member = member is not None
    if chosen.slug == "partner" and member is not None:
        return redirect("practice:clients")
    summary = selectors.home_summary(user=user)
    # The companies that have this product (a service of it in force); the others are named apart.
    with_product: list[CompanyMembership] = []
    without: list[CompanyMembership] = []
    for membership in summary.get("memberships", []):
        items = getattr(membership.company, "services_in_force", [])
        if any(item.service.product == chosen.slug for item in items):
            with_product.append(membership)
        elif member is None or membership.company_id != member.practice.company_id:
            without.append(membership)  # (the practice's own company is not a client's business: not named)
    # A practice member works in the product on the clients' books: the ones they may open, with the product.
    practice_clients, practice_clients_total = (
        clients_with_product(member=member, product=chosen.slug) if member is not None else ([], 0)
    )
    # Someone linked to a practice's own company without being in it: whom to ask for an invitation.
    own_practices = own_practices_admins(user=user) if chosen.slug == "partner" and member is None else []
    return render(
        request,
        "identity/product_home.html",
        {
            **summary,
            "product": chosen,
            "is_member": is_member,
            "bookkeeping": chosen.slug == "accounting",  # the accounting product opens a company's books
            "memberships": with_product,
            "without_product": without,
            "member": member,
            "practice_clients": practice_clients,
            "practice_clients_total": practice_clients_total,
            "own_practices": own_practices,
        },
    )


def _next_url(request: HttpRequest) -> str | None:
    """A same-site ``next`` (from the query or the form), or None."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return None


@login_required
def link_subscription(request: HttpRequest) -> HttpResponse:
    """Link the account to a subscription (after the sign-up code, or any time later), or Do this later.
    ``next`` is where the person was going (the product they chose before signing up)."""
    user = _user(request)
    next_url = _next_url(request)
    form = LinkSubscriptionForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            result = services.company_link(
                user=user, number=form.cleaned_data["number"], email=form.cleaned_data["email"], request=request
            )
        except DomainError as exc:
            form.add_error(None, exc.message)
        else:
            if result.outcome == "owner" and result.first_admin_of:
                messages.success(
                    request,
                    f"Your account is linked to {result.company.business_name} as its Subscription Owner. "
                    f"You are the first admin of {result.first_admin_of}: invite your colleagues from Staff.",
                )
                return redirect(next_url or reverse("practice:clients"))
            if result.outcome == "owner":
                messages.success(
                    request, f"Your account is linked to {result.company.business_name} as its Subscription Owner."
                )
                return redirect(next_url or reverse("identity:company", args=[result.company.customer_number]))
            decider = (
                f"the accountant who manages {result.company.business_name}"
                if result.decided_by == "accountant"
                else f"the Subscription Owner of {result.company.business_name}"
            )
            messages.success(
                request, f"We have asked {decider} to approve your request. You will get an email when they decide."
            )
            return redirect(next_url or reverse("home"))
    return render(
        request, "identity/link_subscription.html", {"form": form, "next_url": next_url, "later_url": next_url or "/"}
    )


@login_required
def access_request_detail(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    """An access request, for the person who decides on it (Approve/Decline) or who made it (Cancel)."""
    user = _user(request)
    access_request = AccessRequest.objects.select_related("company", "requester").filter(public_id=public_id).first()
    if access_request is None:
        raise Http404("No such request")
    can_decide = services.may_decide(user=user, access_request=access_request)
    is_requester = access_request.requester_id == user.pk
    if not (can_decide or is_requester or selectors.decided_by_my_practice(user=user, access_request=access_request)):
        raise Http404("No such request")
    # A client the practice manages without an owner: the practice decides, and approving gives the client access.
    practice_client = selectors.deciding_client(company=access_request.company)
    missing_details: list[str] = []
    if practice_client is not None and can_decide:
        from partnerdesk.practice.lifecycle import field_label, missing_for_access

        missing_details = [field_label(field) for field in missing_for_access(practice_client)]
    return render(
        request,
        "identity/access_request.html",
        {
            "access_request": access_request,
            "can_decide": can_decide,
            "is_requester": is_requester,
            "practice_client": practice_client if can_decide else None,
            "decided_by_accountant": practice_client is not None,
            "missing_details": missing_details,
            "decision": request.GET.get("decision", ""),  # the email's Approve or Decline link: asked to confirm
        },
    )


def _request_action(request: HttpRequest, public_id: uuid.UUID, action: str) -> HttpResponse:
    user = _user(request)
    service = {
        "approve": services.access_request_approve,
        "decline": services.access_request_decline,
        "cancel": services.access_request_cancel,
    }[action]
    try:
        access_request = service(actor=user, public_id=public_id, request=request)
    except NotFound:
        raise Http404("No such request") from None
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect("identity:access_request", public_id)
    business_name = access_request.company.business_name
    if action == "approve" and access_request.company.owner_id == access_request.requester_id:
        # The practice gave its client access by approving: show it the client, now with access.
        member = membership_for_user(user=user)
        client = (
            Client.objects.filter(practice_id=member.practice_id, company=access_request.company).first()
            if member is not None
            else None
        )
        if client is not None:
            messages.success(
                request,
                f"Request approved: {access_request.requester.email} is now the Subscription Owner of {business_name}. "
                "You and your client both have access.",
            )
            return redirect(_next_url(request) or reverse("practice:client", args=[client.pk]))
    if action == "cancel":  # the requester's own request
        messages.success(request, f"Your request to use {business_name} is cancelled.")
    else:
        done = {"approve": "approved", "decline": "declined"}[action]
        messages.success(request, f"Request from {access_request.requester.email} for {business_name} {done}.")
    return redirect(_next_url(request) or reverse("home"))  # e.g. back to the company's Users page


@login_required
@require_POST
def access_request_approve(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    return _request_action(request, public_id, "approve")


@login_required
@require_POST
def access_request_decline(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    return _request_action(request, public_id, "decline")


@login_required
@require_POST
def access_request_cancel(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    return _request_action(request, public_id, "cancel")


def _company_page(
    request: HttpRequest,
    customer_number: str,
    template: str,
    *,
    owner_only: bool = False,
    extra: Callable[[CompanyMembership], dict[str, Any]] | None = None,
    open_to_owner_while_disabled: bool = False,
) -> HttpResponse:
    """Render one of a company's portal pages for a member (404 for others; a clear page if access is disabled).
    ``open_to_owner_while_disabled``: a page the owner keeps while the accountant has disabled access (Remove my
    accountant: the business is theirs to take elsewhere)."""
    user = _user(request)
    try:
        membership = selectors.membership_for_company(user=user, customer_number=customer_number)
    except NotFound:
        raise Http404("No such company") from None
    is_owner = membership.role == CompanyMembership.Role.OWNER
    kept_open = open_to_owner_while_disabled and is_owner and membership.company.suspended_at is None
    if selectors.is_access_disabled(membership) and not kept_open:
        return company_disabled_page(request, membership)
    if owner_only and not is_owner:
        raise Http404("No such page")
    context = {"membership": membership, "company": membership.company, "is_owner": is_owner}
    if extra is not None:
        context.update(extra(membership))
    return render(request, template, context)


@login_required
def company(request: HttpRequest, customer_number: str) -> HttpResponse:
    from partnerdesk.billing.grace import payment_prompt
    from partnerdesk.billing.selectors import active_services, payer_for

    return _company_page(
        request,
        customer_number,
        "identity/company.html",
        extra=lambda m: {
            "services": list(active_services(company=m.company)),
            # A practice's own company has Partner Edition by being a practice (not a catalogue service).
            "partner_edition": Practice.objects.filter(company=m.company).exists(),
            "client_pays": payer_for(company=m.company).payer == "client",
            "payment_prompt": payment_prompt(company=m.company),
            "notices": list(selectors.company_notices(membership=m)),
        },
    )


@login_required
def company_users(request: HttpRequest, customer_number: str) -> HttpResponse:
    user = _user(request)
    return _company_page(
        request,
        customer_number,
        "identity/company_users.html",
        owner_only=True,
        extra=lambda m: {
            "members": selectors.company_members(company=m.company),
            "pending": selectors.access_requests_to_decide(user=user).filter(company=m.company),
        },
    )


@login_required
@require_POST
def company_user_remove(request: HttpRequest, customer_number: str, user_id: int) -> HttpResponse:
    """Users -> Remove -> Yes, remove (the owner)."""
    user = _user(request)
    if request.POST.get("confirm") != "yes":
        return _company_page(
            request,
            customer_number,
            "identity/company_user_remove.html",
            owner_only=True,
            extra=lambda m: {"member": _member_to_remove(m, user_id)},
        )
    try:
        membership = selectors.membership_for_company(user=user, customer_number=customer_number)
        services.company_member_remove(actor=user, company=membership.company, user_id=user_id, request=request)
    except NotFound:
        raise Http404("No such user") from None
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, "User removed. They can no longer use this company.")
    return redirect("identity:company_users", customer_number)


def _member_to_remove(membership: CompanyMembership, user_id: int) -> CompanyMembership:
    member = selectors.company_members(company=membership.company).filter(user_id=user_id).first()
    if member is None or member.role == CompanyMembership.Role.OWNER:
        raise Http404("No such user")
    return member


@login_required
def company_accountant(request: HttpRequest, customer_number: str) -> HttpResponse:
    """My accountant: the managing practice, practices asking to manage the company, or (owners) Invite your
    accountant."""
    from partnerdesk.practice.connect import connect_requests_for_company

    user = _user(request)
    form = InviteAccountantForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            membership = selectors.membership_for_company(user=user, customer_number=customer_number)
            practice_services.accountant_invite(
                actor=user, company=membership.company, practice_email=form.cleaned_data["email"], request=request
            )
        except NotFound:
            raise Http404("No such company") from None
        except DomainError as exc:  # an invitation waits, or an accountant: the page says which, without the form
            messages.error(request, exc.message)
        else:
            messages.success(request, practice_services.INVITE_ACCOUNTANT_SENT)
        return redirect("identity:company_accountant", customer_number)
    return _company_page(
        request,
        customer_number,
        "identity/company_accountant.html",
        extra=lambda m: {
            "practice": selectors.managing_practice(company=m.company),
            "pending_invitation": selectors.pending_accountant_invitation(company=m.company),
            "connect_requests": list(connect_requests_for_company(company=m.company)),
            "form": form,
        },
    )


@login_required
@require_POST
def company_accountant_invitation_withdraw(request: HttpRequest, customer_number: str) -> HttpResponse:
    """My accountant -> Withdraw invitation (the owner), e.g. to invite a different address."""
    user = _user(request)
    try:
        membership = selectors.usable_membership_for_company(user=user, customer_number=customer_number)
        practice_services.accountant_invitation_withdraw(actor=user, company=membership.company, request=request)
    except NotFound:
        raise Http404("No such company") from None
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, "Invitation withdrawn. You can invite your accountant again.")
    return redirect("identity:company_accountant", customer_number)


@login_required
def company_accountant_remove(request: HttpRequest, customer_number: str) -> HttpResponse:
    """My accountant -> Remove my accountant -> Yes (the owner; e.g. when changing accountant)."""
    from partnerdesk.practice import lifecycle

    user = _user(request)
    if request.method == "POST":
        try:
            membership = selectors.membership_for_company(user=user, customer_number=customer_number)
            client = lifecycle.accountant_remove(actor=user, company=membership.company, request=request)
        except NotFound:
            raise Http404("No such company") from None
        except DomainError as exc:
            messages.error(request, exc.message)
            return redirect("identity:company_accountant", customer_number)
        if client.payer == "client" and not _has_direct_debit(membership.company):
            messages.success(
                request,
                f"{client.practice.name} no longer manages this subscription. "
                "Enter your Direct Debit details to keep using your services.",
            )
            return redirect("identity:company_payment", customer_number)
        messages.success(request, f"{client.practice.name} no longer manages this subscription.")
        return redirect("identity:company_accountant", customer_number)
    return _company_page(
        request,
        customer_number,
        "identity/company_accountant_remove.html",
        owner_only=True,
        extra=lambda m: {
            "practice": selectors.managing_practice(company=m.company),
            "already_pays": Client.objects.filter(company=m.company, payer=Client.Payer.CLIENT).exists(),
            "has_direct_debit": _has_direct_debit(m.company),
        },
        open_to_owner_while_disabled=True,
    )


def _has_direct_debit(company: Company) -> bool:
    from partnerdesk.billing.models import DirectDebitMandate

    return DirectDebitMandate.objects.filter(company=company, status=DirectDebitMandate.Status.ACTIVE).exists()


@login_required
def company_details(request: HttpRequest, customer_number: str) -> HttpResponse:
    """Administration > My Profile > My Details: the Registration ID in full, on the right-hand side."""
    return _company_page(
        request,
        customer_number,
        "identity/company_details.html",
        owner_only=True,
        extra=lambda membership: {
            "customer_services_email": settings.CUSTOMER_SERVICES_EMAIL,
            **selectors.own_practice_of(company=membership.company, user=membership.user),
        },
    )


@login_required
def security(request: HttpRequest) -> HttpResponse:
    """Password, two-factor authentication, sessions and API tokens in one place."""
    from allauth.mfa.models import Authenticator

    user = _user(request)
    types = set(Authenticator.objects.filter(user=user).values_list("type", flat=True))
    return render(
        request,
        "identity/security.html",
        {
            "totp_enabled": Authenticator.Type.TOTP in types,
            "has_recovery_codes": Authenticator.Type.RECOVERY_CODES in types,
        },
    )


@login_required
@require_POST
def session_end(request: HttpRequest, session_id: int) -> HttpResponse:
    try:
        services.user_session_end(user=_user(request), session_id=session_id, request=request)
    except NotFound:
        raise Http404("No such session") from None
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, "That device has been signed out.")
    return redirect("usersessions_list")
