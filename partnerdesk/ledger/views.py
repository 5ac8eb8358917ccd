"""A company's bookkeeping entries: list, add, import CSV. Reached by the company's own people from the portal and
by the managing practice's members from the client panel; anyone else gets a 404 (``practice.access``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from partnerdesk.identity.disabled import company_disabled_page
from partnerdesk.identity.models import Company, User
from partnerdesk.identity.selectors import CompanyAccessDisabled, membership_for_company
from partnerdesk.ledger import services
from partnerdesk.ledger.forms import EntryForm, ImportForm
from partnerdesk.ledger.selectors import entries_for_company, ledger_totals
from partnerdesk.lib.errors import DomainError, NotFound
from partnerdesk.practice.access import Side, company_for_user, practice_client_for

ENTRIES_PER_PAGE = 50


@dataclass(frozen=True)
class Reach:
    user: User
    company: Company
    side: Side

    def context(self, **extra: Any) -> dict[str, Any]:
        """What every ledger page shows: the company and the way back (the client panel, or the portal)."""
        client = practice_client_for(user=self.user, company=self.company) if self.side == "practice" else None
        return {"company": self.company, "side": self.side, "client": client, **extra}


def _reach(request: HttpRequest, customer_number: str) -> Reach | HttpResponse:
    """The company for someone allowed to reach it; a 404 for anyone else (and for malformed numbers), and the
    "access disabled" page for its own people while their accountant has disabled access or it is suspended."""
    user = request.user
    if not isinstance(user, User) or not (len(customer_number) == 8 and customer_number.isdigit()):
        raise Http404("No such company")
    try:
        company, side = company_for_user(user=user, customer_number=customer_number)
    except NotFound:
        raise Http404("No such company") from None
    except CompanyAccessDisabled:
        return company_disabled_page(request, membership_for_company(user=user, customer_number=customer_number))
    return Reach(user=user, company=company, side=side)


@login_required
def entry_list(request: HttpRequest, customer_number: str) -> HttpResponse:
    reach = _reach(request, customer_number)
    if isinstance(reach, HttpResponse):
        return reach
    page = Paginator(entries_for_company(company=reach.company), ENTRIES_PER_PAGE).get_page(request.GET.get("page"))
    return render(request, "ledger/entries.html", reach.context(page=page, totals=ledger_totals(company=reach.company)))


@login_required
def entry_add(request: HttpRequest, customer_number: str) -> HttpResponse:
    reach = _reach(request, customer_number)
    if isinstance(reach, HttpResponse):
        return reach
    form = EntryForm(request.POST or None)
    if request.method != "POST":
        return render(request, "ledger/entry_add.html", reach.context(form=form))
    if form.is_valid():
        try:
            services.entry_add(user=reach.user, company=reach.company, request=request, **form.cleaned_data)
        except DomainError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, "Entry added.")
            return redirect("ledger:entries", reach.company.customer_number)
    return render(request, "ledger/entry_add.html", reach.context(form=form), status=400)


@login_required
def entries_import(request: HttpRequest, customer_number: str) -> HttpResponse:
    reach = _reach(request, customer_number)
    if isinstance(reach, HttpResponse):
        return reach
    form = ImportForm(request.POST or None, request.FILES or None)
    if request.method != "POST":
        return render(request, "ledger/import.html", reach.context(form=form))
    if form.is_valid():
        try:
            count = services.entries_import_csv(
                user=reach.user, company=reach.company, file=form.cleaned_data["file"], request=request
            )
        except DomainError as exc:
            rows = exc.extra.get("errors")
            if rows:
                more = int(exc.extra.get("error_count", len(rows))) - len(rows)
                form.add_error(
                    "file",
                    [
                        "Nothing was imported. Fix these rows and upload the file again:",
                        *rows,
                        *([f"And {more} more problem{'s' if more != 1 else ''}."] if more else []),
                    ],
                )
            else:
                form.add_error("file", exc.message)
        else:
            messages.success(request, f"{count} entr{'ies' if count != 1 else 'y'} imported.")
            return redirect("ledger:entries", reach.company.customer_number)
    return render(request, "ledger/import.html", reach.context(form=form), status=400)
