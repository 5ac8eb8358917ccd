from __future__ import annotations

from django.conf import settings
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.vary import vary_on_headers

from partnerdesk.lib.request import is_htmx
from partnerdesk.notifications.models import DevMail


def _require_dev_inbox() -> None:
    if not settings.DEV_INBOX_ENABLED:
        raise Http404("The developer inbox is only available with DEBUG on and no EMAIL_URL.")


def dev_mail_list(request: HttpRequest) -> HttpResponse:
    _require_dev_inbox()
    page = Paginator(DevMail.objects.all(), 50).get_page(request.GET.get("page"))
    return render(request, "notifications/dev_mail_list.html", {"page": page})


@vary_on_headers("HX-Request")  # a whole page or (for htmx) the panel alone: never cached as one
def dev_mail_detail(request: HttpRequest, mail_id: int) -> HttpResponse:
    """One message in the side panel; loaded directly (a shared or reloaded URL) it shows with the list."""
    _require_dev_inbox()
    mail = get_object_or_404(DevMail, pk=mail_id)
    if is_htmx(request):
        return render(request, "notifications/_dev_mail_panel.html", {"mail": mail})
    page = Paginator(DevMail.objects.all(), 50).get_page(request.GET.get("page"))
    return render(request, "notifications/dev_mail_list.html", {"page": page, "mail": mail})


def dev_mail_html(request: HttpRequest, mail_id: int) -> HttpResponse:
    """The HTML part on its own, sandboxed: no scripts, no network, only inline styles and data images."""
    _require_dev_inbox()
    mail = get_object_or_404(DevMail, pk=mail_id)
    if not mail.body_html:
        raise Http404("This message has no HTML part.")
    response = HttpResponse(mail.body_html, content_type="text/html; charset=utf-8")
    response["Content-Security-Policy"] = "sandbox; default-src 'none'; style-src 'unsafe-inline'; img-src data:"
    return response
