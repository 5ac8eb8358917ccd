from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from partnerdesk.identity.models import User
from partnerdesk.practice.models import Client
from partnerdesk.practice.selectors import client_list, membership_for_user


@login_required
def clients(request: HttpRequest) -> HttpResponse:
    """Partner Edition home: the practice's client list, one tab at a time."""
    assert isinstance(request.user, User)
    member = membership_for_user(user=request.user)
    if member is None:
        raise Http404("You are not a member of a practice.")
    tab = request.GET.get("tab", Client.Tab.ACTIVE)
    if tab not in Client.Tab.values:
        tab = Client.Tab.ACTIVE
    return render(
        request,
        "practice/clients.html",
        {"member": member, "tab": tab, "tabs": Client.Tab.choices, "clients": client_list(member=member, tab=tab)},
    )
