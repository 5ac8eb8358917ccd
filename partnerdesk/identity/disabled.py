"""The page a company's own people see where its accountant disabled their access, or it is suspended."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from partnerdesk.identity.models import CompanyMembership
from partnerdesk.identity.selectors import disabled_page_context


def company_disabled_page(request: HttpRequest, membership: CompanyMembership) -> HttpResponse:
    """403 with who disabled access and how to reach them (or, if suspended, where to enter payment details)."""
    return render(request, "identity/company_disabled.html", disabled_page_context(membership=membership), status=403)
