from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from partnerdesk.api import services as api_services
from partnerdesk.api.models import PersonalAccessToken
from partnerdesk.identity.forms import ApiTokenForm, PortalChoiceForm
from partnerdesk.identity.models import User
from partnerdesk.identity.products import PRODUCTS_BY_SLUG
from partnerdesk.identity.selectors import home_summary
from partnerdesk.lib.errors import DomainError
from partnerdesk.practice.selectors import membership_for_user


def _user(request: HttpRequest) -> User:
    assert isinstance(request.user, User)  # guaranteed by @login_required
    return request.user


@login_required
def api_tokens(request: HttpRequest) -> HttpResponse:
    """List the person's API tokens and create one (its value is shown once, on this response only)."""
    user = _user(request)
    form = ApiTokenForm(request.POST or None)
    created_token = None
    if request.method == "POST" and form.is_valid():
        try:
            _, created_token = api_services.token_create(
                user=user, name=form.cleaned_data["name"], days=form.cleaned_data["days"], request=request
            )
        except DomainError as exc:
            form.add_error(None, exc.message)
        else:
            form = ApiTokenForm()
    tokens = PersonalAccessToken.objects.filter(user=user)
    return render(request, "identity/api_tokens.html", {"form": form, "tokens": tokens, "created_token": created_token})


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
    is_member = membership_for_user(user=user) is not None
    if chosen.slug == "partner" and is_member:
        return redirect("practice:clients")
    return render(
        request, "identity/product_home.html", {"product": chosen, "is_member": is_member, **home_summary(user=user)}
    )


@login_required
def link_subscription(request: HttpRequest) -> HttpResponse:
    """After the sign-up code: link the account to a subscription, or Do this later."""
    return render(request, "identity/link_subscription.html")


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
