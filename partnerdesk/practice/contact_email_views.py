"""The link emailed to a practice's new contact email: Confirm (a POST, so a mail scanner opening the link changes
nothing). No sign-in needed: the link in that mailbox is the proof."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_http_methods

from partnerdesk.lib.errors import DomainError, RateLimited
from partnerdesk.lib.ratelimit import INVITATION_LINK_PER_IP
from partnerdesk.lib.request import client_ip
from partnerdesk.practice import contact_email
from partnerdesk.views import rate_limited_page


@require_http_methods(["GET", "POST"])
def confirm(request: HttpRequest, token: str) -> HttpResponse:
    try:
        INVITATION_LINK_PER_IP.hit(client_ip(request) or "unknown")
    except RateLimited as exc:
        return rate_limited_page(request, exc)
    if request.method == "POST":
        try:
            practice = contact_email.contact_email_confirm(token=token, request=request)
        except DomainError as exc:
            return render(request, "practice/contact_email_confirm.html", {"error": exc.message}, status=exc.status)
        return render(request, "practice/contact_email_confirm.html", {"confirmed": practice})
    pending = contact_email.pending_for_token(token=token)
    if pending is None:
        return render(
            request,
            "practice/contact_email_confirm.html",
            {"error": contact_email.ContactEmailLinkClosed.title},
            status=404,
        )
    return render(request, "practice/contact_email_confirm.html", {"pending": pending})
