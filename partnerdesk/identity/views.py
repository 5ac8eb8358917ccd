from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from partnerdesk.api import services as api_services
from partnerdesk.api.models import PersonalAccessToken
from partnerdesk.identity.forms import ApiTokenForm
from partnerdesk.identity.models import User
from partnerdesk.lib.errors import DomainError


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
