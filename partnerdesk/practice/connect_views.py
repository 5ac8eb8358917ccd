"""Connect existing client: the practice's form (beside Add client) and the owner's portal page where the
request is accepted or declined. The services are in ``practice.connect``."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse

from partnerdesk.identity.disabled import company_disabled_page
from partnerdesk.identity.models import CompanyMembership, User
from partnerdesk.identity.selectors import is_access_disabled, membership_for_company
from partnerdesk.identity.services import InvalidSubscriptionNumber, parse_subscription_number
from partnerdesk.lib.errors import DomainError, NotFound, RateLimited
from partnerdesk.practice import connect
from partnerdesk.practice.views import _member

NUMBER_FORMAT = (
    "Enter your client's 8-digit Customer Number, or their Registration ID: MBR followed by 8 digits, or just its "
    "last 6 digits."
)


class ConnectClientForm(forms.Form):
    number = forms.CharField(
        label="Customer Number or Registration ID",
        max_length=20,
        help_text="The 8-digit Customer Number on your client's invoice, or their Registration ID: MBR followed by "
        "8 digits, or just its last 6 digits.",
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
    owner_email = forms.EmailField(
        label="Subscription Owner's email address",
        max_length=254,
        help_text="The email address of the person who owns your client's subscription. They are asked to approve.",
    )

    def clean_number(self) -> str:
        try:
            parse_subscription_number(self.cleaned_data["number"])
        except InvalidSubscriptionNumber as exc:
            raise forms.ValidationError(NUMBER_FORMAT, code=exc.code) from None
        return str(self.cleaned_data["number"])


@login_required
def connect_request(request: HttpRequest) -> HttpResponse:
    """Connect existing client: the same answer whether or not the details match a subscription."""
    member = _member(request)
    if not connect.may_connect(member):
        raise Http404("No such page")
    form = ConnectClientForm(request.POST if request.method == "POST" else None)
    status = 200  # form errors re-render as the other forms do (Add client, Link subscription)
    if request.method == "POST" and form.is_valid():
        try:
            connect.connect_request_create(
                member=member,
                number=form.cleaned_data["number"],
                owner_email=form.cleaned_data["owner_email"],
                request=request,
            )
        except RateLimited as exc:
            form.add_error(None, exc.message)
            status = 429
        except DomainError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, connect.CONNECT_REQUEST_SENT)
            return redirect(f"{reverse('practice:clients')}?tab=pending")
    return render(request, "practice/connect.html", {"form": form, "member": member}, status=status)


def _owner_membership(request: HttpRequest, customer_number: str) -> CompanyMembership:
    user = request.user
    if not isinstance(user, User):
        raise Http404("No such company")
    try:
        return membership_for_company(user=user, customer_number=customer_number)
    except NotFound:
        raise Http404("No such company") from None


@login_required
def company_connect_request(request: HttpRequest, customer_number: str, client_id: int) -> HttpResponse:
    """My accountant -> a practice's request to manage the company: **Accept** or **Decline** (the owner only;
    anyone else, or another company's request, is a 404)."""
    membership = _owner_membership(request, customer_number)
    if is_access_disabled(membership):
        return company_disabled_page(request, membership)
    if membership.role != CompanyMembership.Role.OWNER:
        raise Http404("No such request")
    company = membership.company
    accountant_url = reverse("identity:company_accountant", args=[company.customer_number])
    if request.method == "POST":
        decision = request.POST.get("decision")
        assert isinstance(request.user, User)
        try:
            if decision == "accept":
                client = connect.connect_request_accept(
                    actor=request.user, company=company, client_id=client_id, request=request
                )
                messages.success(
                    request,
                    f"{client.practice.name} is now your accountant. You keep paying for your own subscription.",
                )
            elif decision == "decline":
                client = connect.connect_request_decline(
                    actor=request.user, company=company, client_id=client_id, request=request
                )
                messages.success(request, f"You declined the request from {client.practice.name}. We have told them.")
            else:
                messages.error(request, "Choose Accept or Decline.")
                return redirect(request.path)
        except NotFound:
            raise Http404("No such request") from None
        except DomainError as exc:
            messages.error(request, exc.message)
        return redirect(accountant_url)
    try:
        connect_request_ = connect.connect_request_for_owner(company=company, client_id=client_id)
    except NotFound:
        # The owner followed an old link (email, portal message) to a request that was decided, withdrawn or
        # expired: their My accountant page says how things stand. Any id of theirs gets the same answer.
        messages.info(request, "That request is no longer waiting for your answer.")
        return redirect(accountant_url)
    return render(
        request,
        "identity/company_connect_request.html",
        {
            "membership": membership,
            "company": company,
            "is_owner": True,
            "connect_request": connect_request_,
        },
    )
