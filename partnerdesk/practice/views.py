from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, QueryDict, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST
from django.views.decorators.vary import vary_on_headers
from django_htmx.http import HttpResponseClientRedirect

from partnerdesk.billing.selectors import active_services, service_choices
from partnerdesk.identity.models import User
from partnerdesk.lib.errors import DomainError, NotFound
from partnerdesk.lib.request import is_htmx
from partnerdesk.practice import lifecycle, permissions, services
from partnerdesk.practice.export import clients_csv
from partnerdesk.practice.forms import ClientDetailsForm
from partnerdesk.practice.models import Client, PracticeMember
from partnerdesk.practice.selectors import (
    SORTS,
    ClientListQuery,
    client_for_member,
    client_history,
    client_search,
    membership_for_user,
    practice_members,
    practice_messages,
    sees_every_client,
    tab_counts_and_hidden,
)

CLIENTS_PER_PAGE = 50
TAB_ORDER = [Client.Tab.ACTIVE, Client.Tab.PENDING, Client.Tab.IMPORTED]


def _member(request: HttpRequest) -> PracticeMember:
    """The signed-in person's practice membership; anyone else gets a 404."""
    user = request.user
    member = membership_for_user(user=user) if isinstance(user, User) else None
    if member is None:
        raise Http404("You are not a member of a practice.")
    return member


def _client_or_404(member: PracticeMember, client_id: int) -> Client:
    try:
        return client_for_member(member=member, client_id=client_id)
    except NotFound:
        raise Http404("No such client") from None


def _list_query(request: HttpRequest, *, default_tab: str = Client.Tab.ACTIVE) -> ClientListQuery:
    """Read the list's state from the URL, ignoring values that are not allowed."""
    get = request.GET
    tab = get.get("tab", default_tab)
    sort = get.get("sort", "name")
    return ClientListQuery(
        tab=tab if tab in Client.Tab.values else Client.Tab.ACTIVE,
        q=get.get("q", "").strip()[:100],
        sort=sort if sort in SORTS else "name",
        descending=get.get("dir") == "desc",
        access=get.get("access", "") if get.get("access") in Client.Access.values else "",
        payer=get.get("payer", "") if get.get("payer") in Client.Payer.values else "",
        show_hidden=get.get("hidden") == "1",
        assigned_to=int(get["assigned"]) if get.get("assigned", "").isdigit() and len(get["assigned"]) < 19 else None,
        # A service code's shape only: an unknown code simply matches no client (no query to validate it).
        service=get.get("service", "") if re.fullmatch(r"[a-z0-9-]{1,40}", get.get("service", "")) else "",
    )


# What the client list shows, as its URL says it (the names _list_query reads), and the page.
LIST_PARAMS = ("tab", "q", "sort", "dir", "access", "payer", "assigned", "service", "hidden", "page")


def list_state(get: QueryDict, *, tab: str = "", page: int | None = None) -> str:
    """The client list's own part of a URL's query, for links that must lead back to the same list: its search,
    sort, filters and page in the URL's order, without a side panel's parameters or empty values. ``tab``: put
    this tab first (a Close link names the tab the list is on); ``page``: this page instead of the URL's (1 or
    less: none, for links that add their own)."""
    params = QueryDict(mutable=True)
    if tab:
        params["tab"] = tab
    for key in get:
        if key not in LIST_PARAMS or (tab and key == "tab") or (page is not None and key == "page"):
            continue
        values = [value for value in get.getlist(key) if value]
        if values:
            params.setlist(key, values)
    if page is not None and page > 1:
        params["page"] = str(page)
    return params.urlencode()


def _with_query(url: str, *parts: str) -> str:
    query = "&".join(part for part in parts if part)
    return f"{url}?{query}" if query else url


def _panel_url(client_id: int, state: str, panel_tab: str = "summary") -> str:
    """A side panel's own URL: the client, the list beside it (``state``) and the panel's tab."""
    return _with_query(
        reverse("practice:client", args=[client_id]), state, "" if panel_tab == "summary" else f"panel={panel_tab}"
    )


@dataclass(frozen=True, slots=True)
class ClientRow:
    """One row of the client list with its text worked out once, in Python: looked up, reversed and formatted in the
    template, 50 rows took most of the page's CPU time."""

    pk: int
    business_name: str
    hidden: bool
    url: str  # the side panel, with the list beside it in its query
    contact_name: str
    email: str
    services: str
    status: str
    status_emphasis: bool  # a Pending row's state, shown in bold
    payer: str
    updated_iso: str
    updated: str


ACCESS_LABELS = dict(Client.Access.choices)
PAYER_LABELS = dict(Client.Payer.choices)


def client_rows(clients: Iterable[Client], *, state: str = "") -> list[ClientRow]:
    """The list's rows; each client's company comes with its services in force prefetched. ``state``: the list's
    query (list_state), carried by each row's side panel URL."""
    # One reverse() for the page (about 40 µs each): the panel URL of client 0, its id swapped per row.
    head, _, tail = reverse("practice:client", args=[0]).rpartition("/0/")
    query = f"?{state}" if state else ""
    rows = []
    for client in clients:
        if client.awaiting_client_approval:  # the company's services are not the practice's to see yet
            services_text, status, emphasis = "—", "Awaiting client approval", True
        else:
            names = [item.service.name for item in client.company.services_in_force]  # type: ignore[attr-defined]
            services_text = ", ".join(names) or "—"
            if client.tab == Client.Tab.PENDING:
                status, emphasis = "New Client Invitation", True
            else:
                status, emphasis = ACCESS_LABELS.get(client.access, client.access), False
        updated = timezone.localtime(client.updated_at)
        rows.append(
            ClientRow(
                pk=client.pk,
                business_name=client.business_name,
                hidden=client.hidden,
                url=f"{head}/{client.pk}/{tail}{query}",
                contact_name=client.contact_name,
                email=client.email,
                services=services_text,
                status=status,
                status_emphasis=emphasis,
                payer="—" if client.tab == Client.Tab.IMPORTED else PAYER_LABELS.get(client.payer, client.payer),
                updated_iso=updated.isoformat(),
                updated=f"{updated.day} {updated:%b %Y}",  # "5 Mar 2026" (the app is in English only)
            )
        )
    return rows


def _list_context(
    request: HttpRequest, member: PracticeMember, *, default_tab: str = Client.Tab.ACTIVE
) -> dict[str, Any]:
    query = _list_query(request, default_tab=default_tab)
    # Hidden clients are left out of the counts unless shown: say how many, with the way to show them.
    counts, hidden = tab_counts_and_hidden(member=member)
    if query.show_hidden:
        counts, hidden = {tab: counts[tab] + hidden[tab] for tab in counts}, dict.fromkeys(counts, 0)
    paginator = Paginator(client_search(member=member, query=query), CLIENTS_PER_PAGE)
    if not query.narrowed:  # the tab's count is the list's: no second COUNT over the practice's clients
        paginator.count = counts[query.tab]
    page = paginator.get_page(request.GET.get("page"))
    state = list_state(request.GET, page=page.number)
    people = list(practice_members(practice=member.practice))  # names only: counting assignments is the Staff page's
    return {
        "member": member,
        "query": query,
        "page": page,
        "rows": client_rows(page.object_list, state=state),
        # The seed's order: Active, Pending, Imported.
        "tabs": [(tab, Client.Tab(tab).label, counts[tab]) for tab in TAB_ORDER],
        "hidden_count": hidden[query.tab],
        # Nothing on this tab at all (not a search or filter leaving nothing): say what lands here and how.
        "tab_empty": counts[query.tab] == 0 and hidden[query.tab] == 0 and not query.narrowed,
        "access_choices": Client.Access.choices,
        "payer_choices": Client.Payer.choices,
        "service_choices": service_choices(),
        # Only staff can be assigned clients (admins see every client): an admin here would always be empty.
        "staff_choices": [
            (m.pk, m.user.get_full_name() or m.user.email) for m in people if m.role == PracticeMember.Role.STAFF
        ],
        # Who to ask about what a staff member sees (staff see the Staff page read-only; only admins change it).
        "practice_admins": [m.user for m in people if m.role == PracticeMember.Role.ADMIN],
        "sees_every_client": sees_every_client(member),
        "sort_columns": [
            ("name", "Business name"),
            ("contact", "Contact"),
            ("email", "Email"),
            ("access", "Access"),
            ("payer", "Who pays"),
            ("activity", "Last activity"),
        ],
        # The list without its page: pagination adds its own, export and Show/Hide need none. (A row's side panel URL
        # carries it with the page, so the panel's Close, a reload or a shared link shows this very list behind it.)
        "query_string": list_state(request.GET, page=1),
    }


@login_required
def clients(request: HttpRequest) -> HttpResponse:
    """Partner Edition home: the client list with tabs, search, sort, filters and pages, all in the URL."""
    member = _member(request)
    return render(request, "practice/clients.html", _list_context(request, member))


@login_required
@vary_on_headers("HX-Request")  # the same URL is a whole page or (for htmx) the panel alone: never cached as one
def client_panel(request: HttpRequest, client_id: int) -> HttpResponse:
    """The side panel of one client: summary, Manage, History. Loaded directly it shows beside the list."""
    member = _member(request)
    try:
        client = client_for_member(member=member, client_id=client_id)
    except NotFound:
        # A client this practice managed until a moment ago (a link from an email, a list opened before): say so
        # on the client list rather than "No such client"; anyone else's client stays a 404.
        gone = lifecycle.client_gone(member=member, client_id=client_id)
        if isinstance(gone, NotFound):
            raise Http404("No such client") from None
        messages.error(request, gone.message)
        url = _with_query(reverse("practice:clients"), list_state(request.GET))
        return HttpResponseClientRedirect(url) if is_htmx(request) else redirect(url)
    panel_tab = request.GET.get("panel", "summary")
    return _render_panel(request, member, client, panel_tab=panel_tab)


def _render_panel(
    request: HttpRequest,
    member: PracticeMember,
    client: Client,
    *,
    panel_tab: str,
    form: ClientDetailsForm | None = None,
    status: int = 200,
    version: int | None = None,
    stale: bool = False,
) -> HttpResponse:
    """``version``: the details version the form carries (the one it was opened at, when a save was refused: a
    refused save stays refused until the latest details are loaded); ``stale``: offer to load them."""
    panel_tab = panel_tab if panel_tab in {"summary", "details", "history"} else "summary"
    # Every link in the panel keeps the list beside it: its search, sort, filters and page stay in the address
    # through Manage, History, Save and Close, and a reload or a shared link shows the same list behind it.
    state = list_state(request.GET)
    panel_urls = {tab: _panel_url(client.pk, state, tab) for tab in ("summary", "details", "history")}
    context = {
        "client": client,
        "panel_tab": panel_tab,
        "history": client_history(client=client) if panel_tab == "history" else [],
        "participating": client.company.owner_id is not None,
        "may_end_clients": permissions.may_end_clients(member),
        "form": form or (ClientDetailsForm(instance=client) if panel_tab == "details" else None),
        "form_version": client.version if version is None else version,
        "stale": stale,
        "panel_urls": panel_urls,
        "panel_url": panel_urls[panel_tab],
        "details_url": _with_query(reverse("practice:client_details", args=[client.pk]), state),
        # The list the panel came from, on the tab it is on (the client's own when the URL names none).
        "close_url": _with_query(
            reverse("practice:clients"), list_state(request.GET, tab=_list_query(request, default_tab=client.tab).tab)
        ),
        "services": [item.service.name for item in active_services(company=client.company)]
        if panel_tab == "summary" and client.tab == Client.Tab.ACTIVE
        else [],
    }
    if is_htmx(request):
        return render(request, "practice/_client_panel.html", context, status=status)
    # A panel opened from a link (an email, a message) shows over its own tab: a pending client over Pending.
    full = {**_list_context(request, member, default_tab=client.tab), **context, "panel_client": client}
    return render(request, "practice/clients.html", full, status=status)


@login_required
@require_POST
@vary_on_headers("HX-Request")
def client_details(request: HttpRequest, client_id: int) -> HttpResponse:
    """Manage -> Details -> Save. A newer edit by someone else is never silently overwritten."""
    member = _member(request)
    client = _client_or_404(member, client_id)
    form = ClientDetailsForm(request.POST, instance=Client(pk=client.pk))
    try:
        version = int(request.POST.get("version", ""))
    except ValueError:
        version = -1
    stale = False
    if form.is_valid():
        try:
            updated = services.client_update_details(
                member=member, client_id=client.pk, version=version, details=form.cleaned_data, request=request
            )
        except DomainError as exc:
            form.add_error(None, exc.message)
            stale = isinstance(exc, services.StaleClientDetails)
        else:
            participating = updated.company.owner_id is not None
            messages.success(
                request,
                "Details saved. Our administration team has been told about the change."
                if participating
                else "Details saved.",
            )
            if is_htmx(request):
                return _render_panel(request, member, updated, panel_tab="details")
            return redirect(_panel_url(updated.pk, list_state(request.GET), "details"))
    # htmx only swaps successful responses into the panel, so it gets the form with its errors as a 200. The form
    # keeps the version it was opened at: a save refused as stale stays refused until the latest details load.
    return _render_panel(
        request,
        member,
        client,
        panel_tab="details",
        form=form,
        status=200 if is_htmx(request) else (409 if stale else 400),
        version=version,
        stale=stale,
    )


@login_required
def client_add(request: HttpRequest) -> HttpResponse:
    """Add client: business details; the client starts on the Active tab, non-participating, accountant-paying."""
    member = _member(request)
    form = ClientDetailsForm(request.POST or None)
    duplicate = False
    if request.method == "POST" and form.is_valid():
        try:
            client = services.client_create(
                member=member,
                details=form.cleaned_data,
                allow_duplicate=request.POST.get("allow_duplicate") == "1",
                request=request,
            )
        except services.DuplicateClient as exc:
            form.add_error(None, exc.message)
            duplicate = True
        else:
            messages.success(
                request,
                f"{client.business_name} added to your Active clients. It has no services yet: choose them with "
                "Manage → Manage Subscriptions.",
            )
            return redirect("practice:client", client.pk)
    return render(request, "practice/client_add.html", {"form": form, "member": member, "duplicate": duplicate})


@login_required
@require_POST
def clients_visibility(request: HttpRequest) -> HttpResponse:
    """Show/Hide for the selected rows; nothing else about the clients changes."""
    member = _member(request)
    action = request.POST.get("action")
    ids = [int(value) for value in request.POST.getlist("client") if value.isdigit()]
    if action not in {"hide", "show"} or not ids:
        messages.error(request, "Select one or more clients first.")
    else:
        changed = services.clients_set_hidden(member=member, client_ids=ids, hidden=action == "hide", request=request)
        verb = "hidden" if action == "hide" else "shown again"
        hint = " Use Filters → Show hidden clients to find them." if action == "hide" else ""
        messages.success(request, f"{changed} client{'s' if changed != 1 else ''} {verb}.{hint}")
    query = request.GET.urlencode()
    return redirect(f"{reverse('practice:clients')}{'?' + query if query else ''}")


@login_required
def client_delete(request: HttpRequest, client_id: int) -> HttpResponse:
    """Manage -> Delete Client -> Yes (Pending and Imported clients only)."""
    member = _member(request)
    client = _client_or_404(member, client_id)
    try:
        permissions.require_may_delete_client(member)
    except permissions.AdminOnly as exc:
        return permissions.admin_only_page(request, exc)
    if request.method != "POST" and client.tab == Client.Tab.ACTIVE:
        # Only Pending and Imported clients can be deleted; an Active one is stopped, not deleted.
        messages.error(request, "An Active client can't be deleted. Use Manage → Stop Managing This Client.")
        return redirect(f"{reverse('practice:client', args=[client.pk])}?panel=details")
    if request.method == "POST":
        try:
            name = services.client_delete(member=member, client_id=client.pk, request=request)
        except DomainError as exc:
            messages.error(request, exc.message)
            return redirect("practice:client", client.pk)
        messages.success(request, f"{name} deleted.")
        return redirect(f"{reverse('practice:clients')}?tab={client.tab}")
    return render(request, "practice/client_delete.html", {"client": client})


@login_required
def clients_export(request: HttpRequest) -> StreamingHttpResponse:
    """The current filtered list (every page) as CSV."""
    member = _member(request)
    query = _list_query(request)
    rows = client_search(member=member, query=query).iterator(chunk_size=2000)
    response = StreamingHttpResponse(clients_csv(rows), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="clients-{query.tab}.csv"'
    return response


@login_required
@require_POST
def client_invitation(request: HttpRequest, client_id: int) -> HttpResponse:
    """New Client Invitation on the Pending tab: Accept or Decline."""
    member = _member(request)
    decision = request.POST.get("decision")
    if decision not in ("accept", "decline"):
        messages.error(request, "Choose Accept or Decline.")
        return redirect("practice:client", client_id)
    accept = decision == "accept"
    if not accept and request.POST.get("confirm") != "yes":  # Decline -> Yes, as Delete Client
        client = _client_or_404(member, client_id)
        return render(request, "practice/invitation_decline.html", {"client": client})
    try:
        client = services.client_invitation_decide(member=member, client_id=client_id, accept=accept, request=request)
    except NotFound:
        raise Http404("No such client") from None
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect("practice:client", client_id)
    if accept:
        messages.success(
            request, f"{client.business_name} is now on your Active tab. They keep paying for their subscription."
        )
        return redirect("practice:client", client.pk)
    messages.success(request, f"Invitation from {client.business_name} declined.")
    return redirect(f"{reverse('practice:clients')}?tab=pending")


@login_required
def messages_list(request: HttpRequest) -> HttpResponse:
    """Messages: what clients told the practice in the app (New Client Invitations, answers to its requests,
    withdrawals); each also came by email."""
    member = _member(request)
    page = Paginator(practice_messages(member=member), 50).get_page(request.GET.get("page"))
    return render(request, "practice/messages.html", {"member": member, "page": page})
