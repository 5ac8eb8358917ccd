"""Pages for a practice's people (Staff), its settings, and accepting a staff invitation. The Staff page is the
whole team's (read-only for staff); the other pages are admin-only, a 404 for everyone else; every write calls one
service in staff_services."""

from __future__ import annotations

from urllib.parse import urlencode

from allauth.account.models import EmailAddress
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from partnerdesk.identity.models import User
from partnerdesk.lib.errors import DomainError, NotFound, RateLimited
from partnerdesk.lib.ratelimit import INVITATION_LINK_PER_IP
from partnerdesk.lib.request import client_ip
from partnerdesk.practice import permissions, selectors, staff_services
from partnerdesk.practice.models import PracticeInvitation, PracticeMember
from partnerdesk.practice.permissions import practice_admin_page
from partnerdesk.practice.staff_forms import InviteForm, RoleForm, SettingsForm, VisibilityForm
from partnerdesk.views import rate_limited_page


def _user(request: HttpRequest) -> User:
    assert isinstance(request.user, User)  # guaranteed by @login_required
    return request.user


def _admin(request: HttpRequest, page: str = "its staff") -> PracticeMember:
    """The practice admin; the practice's staff get the 403 page naming the page, anyone else a 404."""
    _user(request)
    return practice_admin_page(request, page=page)


def _member(admin: PracticeMember, member_id: int) -> PracticeMember:
    try:
        return selectors.member_of_practice(practice=admin.practice, member_id=member_id)
    except NotFound:
        raise Http404("No such member") from None


@login_required
def staff(request: HttpRequest) -> HttpResponse:
    """Staff: the practice's members (role, what they see), the invite form and pending invitations. Staff members
    see the team read-only (names, addresses, roles, what each sees, whom to ask); inviting is the admins'."""
    member = selectors.membership_for_user(user=_user(request))
    if member is None:
        raise Http404("No such page")
    if not permissions.may_manage_members(member):
        if request.method == "POST":
            return permissions.admin_only_page(request, permissions.AdminOnly(permissions.MEMBERS_ADMIN_ONLY))
        members = list(selectors.staff_list(practice=member.practice))
        return render(
            request,
            "practice/staff.html",
            {
                "member": member,
                "members": members,
                "admins": [m for m in members if m.role == PracticeMember.Role.ADMIN],
                "can_manage": False,
            },
        )
    admin = member
    form = InviteForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            invitation = staff_services.invitation_create(
                actor=_user(request),
                practice=admin.practice,
                email=form.cleaned_data["email"],
                role=form.cleaned_data["role"],
                sees_all_clients=bool(form.cleaned_data["sees_all_clients"]),
                request=request,
            )
        except DomainError as exc:
            form.add_error("email", exc.message)
        else:
            messages.success(request, f"Invitation sent to {invitation.email}.")
            return redirect("practice:staff")
    members = list(selectors.staff_list(practice=admin.practice))
    return render(
        request,
        "practice/staff.html",
        {
            "member": admin,
            "members": members,
            "can_manage": True,
            "invitations": selectors.pending_invitations(practice=admin.practice),
            "admin_count": sum(1 for m in members if m.role == PracticeMember.Role.ADMIN),
            "form": form,
            "roles": PracticeMember.Role.choices,
            "now": timezone.now(),
        },
    )


def _done(request: HttpRequest, action: str, *args: object) -> HttpResponse:
    try:
        message = _run(request, action, *args)
    except NotFound:
        raise Http404("Not found") from None
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, message)
    return redirect("practice:staff")


def _run(request: HttpRequest, action: str, *args: object) -> str:
    admin = _admin(request)
    actor, practice = _user(request), admin.practice
    if action == "resend":
        invitation = staff_services.invitation_resend(
            actor=actor, practice=practice, invitation_id=int(str(args[0])), request=request
        )
        return f"Invitation sent again to {invitation.email}. The earlier link no longer works."
    if action == "revoke":
        invitation = staff_services.invitation_revoke(
            actor=actor, practice=practice, invitation_id=int(str(args[0])), request=request
        )
        return f"Invitation to {invitation.email} revoked."
    member = _member(admin, int(str(args[0])))
    if action == "role":
        form = RoleForm(request.POST)
        if not form.is_valid():
            raise staff_services.InvalidInput("Choose admin or staff.")
        staff_services.member_change_role(
            actor=actor, practice=practice, member_id=member.pk, role=form.cleaned_data["role"], request=request
        )
        return f"{member.user.email} is now {form.cleaned_data['role']}."
    if action == "visibility":
        visibility = VisibilityForm(request.POST)
        if not visibility.is_valid():
            raise staff_services.InvalidInput("Choose what they can see.")
        sees_all = visibility.cleaned_data["sees_all_clients"]
        staff_services.member_set_visibility(
            actor=actor, practice=practice, member_id=member.pk, sees_all_clients=sees_all, request=request
        )
        return f"{member.user.email} now sees {'all clients' if sees_all else 'only their assigned clients'}."
    raise Http404("No such action")


@login_required
@require_POST
def invitation_resend(request: HttpRequest, invitation_id: int) -> HttpResponse:
    return _done(request, "resend", invitation_id)


@login_required
def invitation_revoke(request: HttpRequest, invitation_id: int) -> HttpResponse:
    """Confirm, then revoke a pending invitation (its link stops working)."""
    if request.method == "POST":
        return _done(request, "revoke", invitation_id)
    admin = _admin(request)
    found = selectors.pending_invitations(practice=admin.practice).filter(pk=invitation_id).first()
    if found is None:
        raise Http404("No such invitation")
    return render(request, "practice/staff_revoke.html", {"member": admin, "invitation": found})


@login_required
@require_POST
def member_role(request: HttpRequest, member_id: int) -> HttpResponse:
    """Change a member's role. Demoting yourself is asked first (the Staff page becomes read-only for you and
    Settings goes), and then leads to the client list."""
    admin = _admin(request)
    target = _member(admin, member_id)
    demoting_self = (
        target.user_id == admin.user_id
        and request.POST.get("role") == PracticeMember.Role.STAFF
        and selectors.practice_members(practice=admin.practice)
        .filter(role=PracticeMember.Role.ADMIN)
        .exclude(pk=target.pk)
        .exists()  # the last admin's demotion is refused as it is, with its message
    )
    if not demoting_self:
        return _done(request, "role", member_id)
    if request.POST.get("confirm") != "1":
        return render(request, "practice/staff_demote_self.html", {"member": admin, "target": target})
    try:
        staff_services.member_change_role(
            actor=_user(request), practice=admin.practice, member_id=target.pk, role="staff", request=request
        )
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect("practice:staff")
    messages.success(
        request, f"You are now staff of {admin.practice.name}: you no longer manage its staff or settings."
    )
    return redirect("practice:clients")


@login_required
@require_POST
def member_visibility(request: HttpRequest, member_id: int) -> HttpResponse:
    return _done(request, "visibility", member_id)


@login_required
def member_remove(request: HttpRequest, member_id: int) -> HttpResponse:
    """Confirm, then remove a member: their access to every client ends at once."""
    admin = _admin(request)
    target = _member(admin, member_id)
    if request.method == "POST":
        try:
            staff_services.member_remove(
                actor=_user(request), practice=admin.practice, member_id=target.pk, request=request
            )
        except NotFound:
            raise Http404("No such member") from None
        except DomainError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, f"{target.user.email} was removed from {admin.practice.name}.")
            if target.user_id == admin.user_id:
                return redirect("home")
        return redirect("practice:staff")
    return render(
        request,
        "practice/staff_remove.html",
        {
            "member": admin,
            "target": target,
            "is_self": target.user_id == admin.user_id,
            "sole_admin": target.role == PracticeMember.Role.ADMIN
            and not selectors.practice_members(practice=admin.practice)
            .filter(role=PracticeMember.Role.ADMIN)
            .exclude(pk=target.pk)
            .exists(),
        },
    )


ASSIGNABLE_PER_PAGE = 50


@login_required
def member_clients(request: HttpRequest, member_id: int) -> HttpResponse:
    """Assignments: which of the practice's clients a staff member sees when restricted (bulk assign/unassign)."""
    admin = _admin(request)
    target = _member(admin, member_id)
    if request.method == "POST":
        try:
            client_ids = [int(value) for value in request.POST.getlist("client_ids")]
        except ValueError:
            client_ids = []
        service = (
            staff_services.clients_unassign
            if request.POST.get("action") == "unassign"
            else staff_services.clients_assign
        )
        try:
            changed = service(
                actor=_user(request),
                practice=admin.practice,
                member_id=target.pk,
                client_ids=client_ids,
                request=request,
            )
        except NotFound:
            raise Http404("No such client") from None
        except DomainError as exc:
            messages.error(request, exc.message)
        else:
            name = target.user.full_name or target.user.email
            unassigning = service is staff_services.clients_unassign
            if changed == 0:
                messages.info(
                    request,
                    f"No change: none of those clients were assigned to {name}."
                    if unassigning
                    else f"No change: those clients were already assigned to {name}.",
                )
            else:
                verb = "unassigned from" if unassigning else "assigned to"
                messages.success(request, f"{changed} client{'s' if changed != 1 else ''} {verb} {name}.")
        back = reverse("practice:staff_clients", args=[target.pk])
        # Back to the same search and page of the list.
        params = {"q": request.POST.get("q", "").strip(), "page": request.POST.get("page", "")}
        kept = {key: value for key, value in params.items() if value and (key != "page" or value.isdigit())}
        return redirect(f"{back}?{urlencode(kept)}" if kept else back)
    q = request.GET.get("q", "").strip()[:200]
    page = Paginator(selectors.assignable_clients(practice=admin.practice, q=q), ASSIGNABLE_PER_PAGE).get_page(
        request.GET.get("page")
    )
    clients = list(page.object_list)
    return render(
        request,
        "practice/staff_clients.html",
        {
            "member": admin,
            "target": target,
            "page": page,
            "clients": clients,
            "q": q,
            "page_query": urlencode({"q": q}) if q else "",
            "assigned": selectors.assigned_client_ids(member=target, among=[client.pk for client in clients]),
        },
    )


@login_required
def practice_settings(request: HttpRequest) -> HttpResponse:
    """Settings: the practice's name and contact email (admins), the discount rate shown read-only."""
    admin = _admin(request, page="its settings")
    practice = admin.practice
    # The address the admin last asked for: the one waiting for confirmation, if any (saving it again sends nothing).
    shown_email = practice.contact_email_pending or practice.contact_email
    form = SettingsForm(request.POST or None, initial={"name": practice.name, "contact_email": shown_email})
    if request.method == "POST" and form.is_valid():
        try:
            staff_services.practice_update_settings(
                actor=_user(request),
                practice=practice,
                name=form.cleaned_data["name"],
                contact_email=form.cleaned_data["contact_email"],
                resend_contact_email_link=bool(request.POST.get("resend_contact_email_link")),
                request=request,
            )
        except DomainError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, "Practice settings saved.")
            return redirect("practice:settings")
    from partnerdesk.billing.selectors import discount_rate_in_force, discounts_scheduled, today

    return render(
        request,
        "practice/settings.html",
        {
            "member": admin,
            "practice": practice,
            "form": form,
            "discount_rate": discount_rate_in_force(practice=practice, on=today()),
            "discounts_scheduled": discounts_scheduled(practice=practice, after=today()),
        },
    )


CLOSED_REASONS = {
    PracticeInvitation.Status.ACCEPTED: "This invitation has already been used.",
    PracticeInvitation.Status.REVOKED: "This invitation was withdrawn by the practice.",
    PracticeInvitation.Status.EXPIRED: "This invitation has expired.",
}


def invitation(request: HttpRequest, token: str) -> HttpResponse:
    """The link in a staff invitation: who invites you, and Accept (signed in with the invited address), or sign in
    / create an account and come back here."""
    try:
        INVITATION_LINK_PER_IP.hit(client_ip(request) or "unknown")
    except RateLimited as exc:
        return rate_limited_page(request, exc)
    found = selectors.invitation_for_token(token=token)
    if found is None:
        return render(request, "practice/invitation_invalid.html", status=404)
    status = found.status
    if status == PracticeInvitation.Status.PENDING and found.expires_at <= timezone.now():
        status = PracticeInvitation.Status.EXPIRED
    if status != PracticeInvitation.Status.PENDING:
        reason = CLOSED_REASONS[PracticeInvitation.Status(status)]
        return render(request, "practice/invitation_closed.html", {"invitation": found, "reason": reason}, status=410)
    if not request.user.is_authenticated:
        here = urlencode({"next": request.path})
        return render(
            request,
            "practice/invitation.html",
            {
                "invitation": found,
                "login_url": f"{reverse('account_login')}?{here}",
                # Sign-up opens with the invited address filled in (allauth reads ?email=): the invitation can only
                # be accepted with that address.
                "signup_url": f"{reverse('account_signup')}?{urlencode({'next': request.path, 'email': found.email})}",
            },
        )
    user = _user(request)
    matches = EmailAddress.objects.filter(user=user, email__iexact=found.email, verified=True).exists()
    if request.method == "POST" and matches:
        try:
            member = staff_services.invitation_accept(user=user, token=token, request=request)
        except DomainError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, f"You have joined {member.practice.name}.")
            return redirect("practice:clients")
    return render(request, "practice/invitation.html", {"invitation": found, "matches": matches})
