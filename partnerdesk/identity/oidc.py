"""The OpenID Connect provider: claims, discovery, and the policy allauth leaves loose.

allauth (``allauth.idp.oidc``, on oauthlib) already enforces, per client: the registered
response types and grant types, scopes, PKCE for *public* clients, single-use authorization
codes, the code's redirect URI at the token endpoint, refresh-token rotation
(``IDP_OIDC_ROTATE_REFRESH_TOKEN``) and that inactive users get no tokens. It never grants the
password grant (``validate_user`` is always false).

Where it is looser than our policy, ``OIDCPolicyMiddleware`` tightens it:

- redirect URIs: allauth accepts *extra* query parameters and, for ``http://127.0.0.1``
  URIs, any port (RFC 8252 loopback rule). We require an exact string match, for the
  authorization request's ``redirect_uri`` and the logout request's ``post_logout_redirect_uri``.
- PKCE method: oauthlib also accepts ``plain`` (and assumes it when the method is omitted),
  although discovery advertises S256 only. We require ``S256`` on every code request.
- authorization-code replay: allauth refuses a reused code but keeps no record of it, so it
  cannot revoke what the first exchange issued (RFC 6749 section 4.1.2 says it SHOULD). We
  remember each redeemed code briefly and, on a replay, revoke the tokens issued from it.
- refresh-token reuse: allauth rotates refresh tokens and refuses a spent one, but the tokens
  issued in its place keep working. The tokens from one code and every rotation since are a
  *family* (``Token.data["partnerdesk_family"]``); each spent refresh token is remembered
  (``SpentRefreshToken``, hashed) and its reuse revokes the whole family (RFC 9700 4.14.2).
- max_age: allauth ignores it and never sends ``auth_time``. A signed-in person whose last
  authentication (allauth's session records) is older than max_age is sent to reauthenticate
  and back; the ID token carries ``auth_time``, kept with the code and then with the family.
- response_mode: oauthlib honours ``fragment`` and answers any other mode in the query; only
  ``query`` is advertised, so any other is refused (``invalid_request`` to the client).
- error pages: allauth shows a missing or unknown client, a missing redirect URI and repeated
  parameters on its error page with HTTP 200; we refuse them first, with 400.
- device flow: allauth serves the device endpoints whatever the clients' grant types, though
  the token endpoint refuses the grant; ``partnerdesk/urls.py`` routes them to a 404.
- prompt=none: allauth takes consent from tokens the person already holds, so a client that
  skips consent got ``consent_required`` for a signed-in person's first silent request. For
  such a client and a signed-in person, the request is passed on without ``prompt=none``.
"""

from __future__ import annotations

import hashlib
import json
import time
import uuid
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any, Literal
from urllib.parse import parse_qs, urlsplit

from allauth.account.authentication import get_authentication_records
from allauth.core.internal.httpkit import add_query_params, extract_basic_auth
from allauth.idp.oidc import app_settings as oidc_settings
from allauth.idp.oidc.adapter import DefaultOIDCAdapter, get_adapter
from allauth.idp.oidc.forms import RPInitiatedLogoutForm
from allauth.idp.oidc.models import Client, Token
from django.contrib.auth.models import AbstractBaseUser
from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse, QueryDict
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt

from partnerdesk.identity.models import SpentRefreshToken, User
from partnerdesk.identity.selectors import companies_claim, practice_claim

CLAIMS_SUPPORTED = [
    "sub",
    "iss",
    "aud",
    "exp",
    "iat",
    "auth_time",
    "nonce",
    "email",
    "email_verified",
    "name",
    "companies",
    "practice",
]
GRANT_TYPES_SUPPORTED = [Client.GrantType.AUTHORIZATION_CODE.value, Client.GrantType.REFRESH_TOKEN.value]
RESPONSE_TYPES_SUPPORTED = [Client.ResponseType.CODE.value]
RESPONSE_MODES_SUPPORTED = ["query"]
PKCE_METHOD = "S256"
# Refused when repeated (as oauthlib does, on a page with HTTP 200).
SINGLE_VALUED_PARAMETERS = ["client_id", "response_type", "redirect_uri", "scope", "state"]
# How long a redeemed authorization code is remembered for replay detection (the code itself
# lives IDP_OIDC_AUTHORIZATION_CODE_EXPIRES_IN seconds, 60 by default).
REDEEMED_CODE_MEMORY_SECONDS = 60 * 60


class OIDCAdapter(DefaultOIDCAdapter):
    def get_claims(
        self,
        purpose: Literal["id_token", "userinfo"],
        user: AbstractBaseUser,
        client: Client,
        scopes: Iterable[str],
        email: str | None = None,
        **kwargs: Any,
    ) -> dict[str, Any]:
        scopes = list(scopes)
        claims = super().get_claims(purpose, user, client, scopes, email=email, **kwargs)
        if "profile" in scopes and isinstance(user, User):
            claims["name"] = user.full_name or user.email
            claims.pop("given_name", None)
            claims.pop("family_name", None)
            claims.pop("preferred_username", None)
        if isinstance(user, User):
            # Read at token time, so a company whose access was removed disappears from the next token.
            claims["companies"] = companies_claim(user=user)
            claims["practice"] = practice_claim(user=user)
        return claims

    def populate_id_token(self, id_token: dict[str, Any], client: Client, scopes: Iterable[str], **kwargs: Any) -> None:
        # Always, so a product that asked for max_age can check it (OIDC Core 2); omitted only when
        # the session kept no record of its authentication (then max_age sends the person to sign in).
        auth_time = auth_time_for_token_request(self.request)
        if auth_time is not None:
            id_token["auth_time"] = int(auth_time)

    def populate_server_metadata(self, data: dict[str, str | list[str]]) -> None:
        """Advertise what is actually allowed: code flow with PKCE S256, no device flow."""
        data["response_types_supported"] = list(RESPONSE_TYPES_SUPPORTED)
        data["grant_types_supported"] = list(GRANT_TYPES_SUPPORTED)
        data["code_challenge_methods_supported"] = [PKCE_METHOD]
        data["response_modes_supported"] = list(RESPONSE_MODES_SUPPORTED)
        data["claims_supported"] = list(CLAIMS_SUPPORTED)
        data.pop("device_authorization_endpoint", None)


@csrf_exempt  # a 404 for every method, not CSRF's 403
def device_flow_not_offered(request: HttpRequest) -> HttpResponse:
    """Shadows allauth's device-flow endpoints (routed before ``allauth.idp.urls``): no client has the grant."""
    raise Http404


def _refuse(request: HttpRequest, description: str) -> HttpResponse:
    """Show the error on our own page: never redirect to a URI that failed validation."""
    error = {"error": "invalid_request", "description": description}
    return render(request, "idp/oidc/error.html", {"error": error}, status=400)


def _redeemed_code_key(client_id: str, code: str) -> str:
    digest = hashlib.sha256(f"{client_id}\0{code}".encode()).hexdigest()
    return f"partnerdesk.oidc.redeemed-code:{digest}"


class OIDCPolicyMiddleware:
    """Enforce exact redirect URIs, PKCE S256 and code-replay revocation (see module docstring).

    Install in ``MIDDLEWARE`` (anywhere after ``SessionMiddleware``); it only looks at the
    authorization, token and logout endpoints.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self._paths: tuple[str, str, str] | None = None

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if self._paths is None:  # resolved once, on the first request (the URLconf is loaded by then)
            self._paths = (reverse("idp:oidc:authorization"), reverse("idp:oidc:token"), reverse("idp:oidc:logout"))
        authorization_path, token_path, logout_path = self._paths
        path = request.path_info
        if path == authorization_path:
            if request.method != "POST":
                refusal = self._check_authorization_request(request)
                if refusal is not None:
                    return refusal
            response = self.get_response(request)
            _remember_auth_time_of_code(request, response)
            return response
        if path == logout_path:
            refusal = self._check_logout_request(request)
            if refusal is not None:
                return refusal
        elif path == token_path and request.method == "POST":
            grant_type = request.POST.get("grant_type")
            if grant_type == Client.GrantType.AUTHORIZATION_CODE:
                return self._token_with_replay_detection(request)
            if grant_type == Client.GrantType.REFRESH_TOKEN:
                return self._refresh_with_reuse_detection(request)
        return self.get_response(request)

    def _check_authorization_request(self, request: HttpRequest) -> HttpResponse | None:
        # Every method but POST is answered from the query string as a GET would be (Django answers
        # HEAD with the view's get()), so every one is checked. A POST carries a signed copy of an
        # already checked request (the consent form), or is turned into a GET by allauth.
        params = request.GET
        # allauth shows these errors on its error page too, but with HTTP 200.
        for name in SINGLE_VALUED_PARAMETERS:
            if len(params.getlist(name)) > 1:
                return _refuse(request, _("The request has more than one %(name)s.") % {"name": name})
        client_id = params.get("client_id")
        client = Client.objects.filter(pk=client_id).first() if client_id else None
        if client is None:
            return _refuse(request, _("The application asking you to sign in is not known."))
        redirect_uri = params.get("redirect_uri")
        if not redirect_uri:
            return _refuse(request, _("The request has no redirect URI."))
        if redirect_uri not in client.get_redirect_uris():
            return _refuse(request, _("The redirect URI is not registered for this application."))
        response_mode = params.get("response_mode")
        if response_mode is not None and response_mode not in RESPONSE_MODES_SUPPORTED:
            # oauthlib honours "fragment" and silently answers anything else in the query.
            error = {
                "error": "invalid_request",
                "error_description": f"response_mode {response_mode} is not supported.",
            }
            if params.get("state"):
                error["state"] = params["state"]
            return _redirect_to_client(add_query_params(redirect_uri, error))
        if "code" in params.get("response_type", "").split():
            if not params.get("code_challenge"):
                return _refuse(request, _("A PKCE code challenge (S256) is required."))
            if params.get("code_challenge_method") != PKCE_METHOD:
                return _refuse(request, _("The PKCE code challenge method must be S256."))
        if params.get("max_age") is not None:
            refusal = _check_max_age(request, params, redirect_uri)
            if refusal is not None:
                return refusal
        if params.get("prompt", "").split() == ["none"] and client.skip_consent and request.user.is_authenticated:
            # allauth counts only tokens already held as consent, so a signed-in person's first silent
            # request to a client that never asks for consent got consent_required. Without prompt=none
            # it is answered as it would be silently: a code, or an error to the client (oauthlib still
            # checks id_token_hint), never a page.
            _drop_prompt(request)
        return None

    def _check_logout_request(self, request: HttpRequest) -> HttpResponse | None:
        # allauth matches post_logout_redirect_uri as loosely as redirect URIs (extra query, a
        # fragment, any loopback port) and calls a mismatch "Enter a valid URL.".
        data = request.POST if request.method == "POST" else request.GET
        if not data.get("post_logout_redirect_uri"):
            return None
        form = RPInitiatedLogoutForm(data)
        form.is_valid()  # resolves the client from client_id or the id_token_hint's audience, as the view does
        client = form.cleaned_data.get("client")
        if client is None:
            return None  # allauth ignores the URI when it cannot tell whose it is
        if data["post_logout_redirect_uri"] not in client.get_post_logout_redirect_uris():
            return _refuse(
                request, _("The address to return to after signing out is not registered for this application.")
            )
        return None

    def _token_with_replay_detection(self, request: HttpRequest) -> HttpResponse:
        code = request.POST.get("code") or ""
        client_id = request.POST.get("client_id") or extract_basic_auth(dict(request.headers))[0] or ""
        if not code or not client_id:
            return self.get_response(request)
        key = _redeemed_code_key(client_id, code)
        redeemed = cache.get(key)
        started = timezone.now()
        response = self.get_response(request)
        if redeemed is not None:
            # allauth has already refused the reused code (it deletes codes once used).
            _revoke_issued_from(redeemed)
            return response
        if response.status_code != 200:
            return response
        issued = _issued_token(response, started=started)
        if issued is None:
            return response
        if not cache.add(key, issued, timeout=REDEEMED_CODE_MEMORY_SECONDS):
            # Two exchanges of one code raced each other and both got tokens: revoke both.
            earlier = cache.get(key) or issued
            _revoke_issued_from({**issued, "at": min(earlier["at"], issued["at"])})
            return JsonResponse(
                {"error": "invalid_grant", "error_description": "Authorization code already used."}, status=400
            )
        _tag_family(response, family=uuid.uuid4(), auth_time=cache.get(_auth_time_key(code)))
        return response

    def _refresh_with_reuse_detection(self, request: HttpRequest) -> HttpResponse:
        """Remember each rotated refresh token; on its reuse, revoke its whole family (RFC 9700 4.14.2)."""
        refresh_token = request.POST.get("refresh_token") or ""
        if not refresh_token:
            return self.get_response(request)
        spent_hash = get_adapter().hash_token(refresh_token)
        current = Token.objects.filter(type=Token.Type.REFRESH_TOKEN, hash=spent_hash).first()
        response = self.get_response(request)
        if response.status_code != 200 or current is None or current.user_id is None or current.client_id is None:
            spent = SpentRefreshToken.objects.filter(hash=spent_hash).first()
            if spent is not None and (spent.expires_at is None or spent.expires_at > timezone.now()):
                _revoke_family(spent)  # allauth has already refused it (rotation deleted it)
            return response
        family = _family_of(current) or uuid.uuid4()
        new_refresh = _tag_family(response, family=family, auth_time=_auth_time_of(current))
        expires_at = new_refresh.expires_at if new_refresh is not None else current.expires_at
        spent = SpentRefreshToken(
            hash=spent_hash, family=family, user_id=current.user_id, client_id=current.client_id, expires_at=expires_at
        )
        try:
            with transaction.atomic():
                spent.save()
        except IntegrityError:
            # Two exchanges of one refresh token raced each other and both got tokens: revoke both.
            _revoke_family(spent)
            earlier = SpentRefreshToken.objects.filter(hash=spent_hash).first()
            if earlier is not None:
                _revoke_family(earlier)
            return JsonResponse(
                {"error": "invalid_grant", "error_description": "Refresh token already used."}, status=400
            )
        # The spent tokens are remembered as long as the family can live.
        SpentRefreshToken.objects.filter(family=family).update(expires_at=expires_at)
        return response


def _issued_token(response: HttpResponse, *, started: datetime) -> dict[str, Any] | None:
    try:
        body = json.loads(response.content)
    except ValueError:
        return None
    access_token = body.get("access_token") if isinstance(body, dict) else None
    if not isinstance(access_token, str):
        return None
    token = Token.objects.by_value(access_token).filter(type=Token.Type.ACCESS_TOKEN).first()
    if token is None or token.user_id is None or token.client_id is None:
        return None
    # "at": when this exchange began, so the refresh token saved alongside is included.
    return {"user_id": token.user_id, "client_id": token.client_id, "at": started.isoformat()}


def _revoke_issued_from(redeemed: dict[str, Any]) -> None:
    """Revoke the user's tokens for this client issued since the code was first redeemed.

    That covers the first exchange's access and refresh tokens and every rotation since.
    """
    since = datetime.fromisoformat(redeemed["at"])
    Token.objects.filter(
        user_id=redeemed["user_id"],
        client_id=redeemed["client_id"],
        type__in=[Token.Type.ACCESS_TOKEN, Token.Type.REFRESH_TOKEN],
        created_at__gte=since,
    ).delete()


# Token.data keys: the family (one authorization code's tokens and every rotation since) and when
# the person last authenticated before that code was issued (the ID token's auth_time).
FAMILY_KEY = "partnerdesk_family"
AUTH_TIME_KEY = "partnerdesk_auth_time"


def _family_of(token: Token) -> uuid.UUID | None:
    value = token.data.get(FAMILY_KEY) if isinstance(token.data, dict) else None
    try:
        return uuid.UUID(value) if isinstance(value, str) else None
    except ValueError:
        return None


def _auth_time_of(token: Token) -> float | None:
    value = token.data.get(AUTH_TIME_KEY) if isinstance(token.data, dict) else None
    return value if isinstance(value, (int, float)) else None


def _tag_family(response: HttpResponse, *, family: uuid.UUID, auth_time: float | None) -> Token | None:
    """Record the family (and the sign-in time) in the tokens a token response issued; returns the refresh token."""
    try:
        body = json.loads(response.content)
    except ValueError:
        return None
    if not isinstance(body, dict):
        return None
    values = [body[name] for name in ("access_token", "refresh_token") if isinstance(body.get(name), str)]
    hashes = [get_adapter().hash_token(value) for value in values]
    refresh = None
    for token in Token.objects.filter(hash__in=hashes, type__in=[Token.Type.ACCESS_TOKEN, Token.Type.REFRESH_TOKEN]):
        token.data = {**(token.data if isinstance(token.data, dict) else {}), FAMILY_KEY: str(family)}
        if auth_time is not None:
            token.data[AUTH_TIME_KEY] = auth_time
        token.save(update_fields=["data"])
        if token.type == Token.Type.REFRESH_TOKEN:
            refresh = token
    return refresh


def _revoke_family(spent: SpentRefreshToken) -> None:
    """Revoke every access and refresh token descended from the same authorization code."""
    Token.objects.filter(
        user_id=spent.user_id,
        client_id=spent.client_id,
        type__in=[Token.Type.ACCESS_TOKEN, Token.Type.REFRESH_TOKEN],
        **{f"data__{FAMILY_KEY}": str(spent.family)},
    ).delete()


def clear_expired_tokens() -> int:
    """Delete expired tokens (as allauth's ``oidc_cleartokens``) and spent refresh tokens whose family has expired."""
    tokens, _ = Token.objects.expired().delete()
    spent, _ = SpentRefreshToken.objects.filter(expires_at__lte=timezone.now()).delete()
    return tokens + spent


# --- max_age and auth_time (OIDC Core 3.1.2.1, 2) ----------------------------------------

# Session key: {fingerprint of an authorization request: when we sent the person to authenticate for it}.
MAX_AGE_ASKED_SESSION_KEY = "partnerdesk.oidc.max_age_asked"
MAX_AGE_ASKED_KEEP = 10
MAX_AGE_ASKED_SECONDS = 60 * 60


def session_auth_time(request: HttpRequest) -> float | None:
    """When the signed-in person last authenticated in this session (sign-in or reauthentication).

    allauth records every authentication step in the session (``get_authentication_records``);
    a session without records (signed in some other way) has no known time.
    """
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return None
    times = [record.get("at") for record in get_authentication_records(request, user)]
    known = [at for at in times if isinstance(at, (int, float))]
    return max(known) if known else None


def _auth_time_key(code: str) -> str:
    return f"partnerdesk.oidc.code-auth-time:{hashlib.sha256(code.encode()).hexdigest()}"


def _remember_auth_time_of_code(request: HttpRequest, response: HttpResponse) -> None:
    """Keep the authentication time with a code just issued, for the ID token it is exchanged for."""
    if response.status_code != 302:
        return
    location = urlsplit(response.get("Location", ""))
    params = parse_qs(location.query) | parse_qs(location.fragment)
    if "error" in params or not params.get("code"):
        return
    auth_time = session_auth_time(request)
    if auth_time is not None:
        timeout = oidc_settings.AUTHORIZATION_CODE_EXPIRES_IN + 60
        cache.set(_auth_time_key(params["code"][0]), auth_time, timeout=timeout)


def auth_time_for_token_request(request: HttpRequest) -> float | None:
    """The authentication time behind a token request: its code's, or its refresh token's family's."""
    grant_type = request.POST.get("grant_type")
    if grant_type == Client.GrantType.AUTHORIZATION_CODE and request.POST.get("code"):
        value = cache.get(_auth_time_key(request.POST["code"]))
        return value if isinstance(value, (int, float)) else None
    if grant_type == Client.GrantType.REFRESH_TOKEN and request.POST.get("refresh_token"):
        token = Token.objects.by_value(request.POST["refresh_token"]).filter(type=Token.Type.REFRESH_TOKEN).first()
        return _auth_time_of(token) if token is not None else None
    return None


def _fingerprint(params: QueryDict) -> str:
    # Without prompt: allauth drops prompt=login from the request it returns to after sign-in.
    items = sorted((key, value) for key, values in params.lists() if key != "prompt" for value in values)
    return hashlib.sha256(json.dumps(items).encode()).hexdigest()


def _check_max_age(request: HttpRequest, params: QueryDict, redirect_uri: str) -> HttpResponse | None:
    """Send the person to authenticate again when their last authentication is older than max_age.

    A request we sent to authenticate is satisfied, on its return, by any authentication since
    (max_age=0 would otherwise ask forever). Unknown authentication times count as too old.
    """
    try:
        max_age = int(params.get("max_age", ""))
    except ValueError:
        max_age = -1
    if max_age < 0:
        return _refuse(request, _("max_age must be a whole number of seconds."))
    prompts = set(params.get("prompt", "").split())
    fingerprint = _fingerprint(params)
    now = time.time()
    asked: dict[str, float] = {
        key: at
        for key, at in (request.session.get(MAX_AGE_ASKED_SESSION_KEY) or {}).items()
        if isinstance(at, (int, float)) and at > now - MAX_AGE_ASKED_SECONDS
    }
    if not request.user.is_authenticated:
        if "none" not in prompts:  # allauth sends the person to sign in; prompt=none gets login_required
            _remember_asked(request, asked, fingerprint, now)
        return None
    auth_time = session_auth_time(request)
    asked_at = asked.get(fingerprint)
    if auth_time is not None and (now - auth_time <= max_age or (asked_at is not None and auth_time >= asked_at)):
        if asked_at is not None:
            del asked[fingerprint]
            request.session[MAX_AGE_ASKED_SESSION_KEY] = asked
        return None
    if "none" in prompts:
        error = {"error": "login_required"} | ({"state": params["state"]} if params.get("state") else {})
        return _redirect_to_client(add_query_params(redirect_uri, error))
    _remember_asked(request, asked, fingerprint, now)
    if "login" in prompts:
        return None  # allauth sends the person to authenticate again for prompt=login
    return HttpResponseRedirect(add_query_params(reverse("account_reauthenticate"), {"next": request.get_full_path()}))


def _remember_asked(request: HttpRequest, asked: dict[str, float], fingerprint: str, now: float) -> None:
    asked[fingerprint] = now
    newest = sorted(asked.items(), key=lambda item: item[1])[-MAX_AGE_ASKED_KEEP:]
    request.session[MAX_AGE_ASKED_SESSION_KEY] = dict(newest)


def _drop_prompt(request: HttpRequest) -> None:
    query = request.GET.copy()
    del query["prompt"]
    request.META["QUERY_STRING"] = query.urlencode()
    request.GET = QueryDict(request.META["QUERY_STRING"])


def _redirect_to_client(location: str) -> HttpResponse:
    # Not HttpResponseRedirect: a registered redirect URI may use an app's own scheme.
    response = HttpResponse(status=302)
    response["Location"] = location
    return response
