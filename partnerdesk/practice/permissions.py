"""May this practice member do X: the practice's role rules in one place (services check them; views and templates
ask them to offer only what will be allowed).

Staff (restricted or not) run the day-to-day work on the clients they can see: amend details, Give client access,
Disable and Enable, Accept or Decline a New Client Invitation. Decisions that cannot be undone and change what the
practice is billed are its admins': Stop Managing This Client (the data is transferred or deleted for good and the
licence goes to full price) and Delete Client. So is managing the team: staff see who is in it, read-only."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from partnerdesk.lib.errors import PermissionDenied
from partnerdesk.practice.models import PracticeMember


class AdminOnly(PermissionDenied):
    code = "admin_only"
    title = "Only your practice's admins can do that."


STOP_MANAGING_ADMIN_ONLY = "Only your practice's admins can stop managing a client."
MEMBERS_ADMIN_ONLY = "Only your practice's admins manage its members."
DELETE_CLIENT_ADMIN_ONLY = "Only your practice's admins can delete a client."


def may_end_clients(member: PracticeMember) -> bool:
    """Stop Managing This Client and Delete Client."""
    return member.role == PracticeMember.Role.ADMIN


def require_may_stop_managing(member: PracticeMember) -> None:
    """Checked once the client is found among those the member can see (one they can't see stays a 404)."""
    if not may_end_clients(member):
        raise AdminOnly(STOP_MANAGING_ADMIN_ONLY)


def require_may_delete_client(member: PracticeMember) -> None:
    if not may_end_clients(member):
        raise AdminOnly(DELETE_CLIENT_ADMIN_ONLY)


def may_manage_members(member: PracticeMember) -> bool:
    """Invite, change roles and what staff see, assign clients, remove members, resend or revoke invitations.
    Every member may read who is in the team (the Staff page, read-only for staff; the API's members list)."""
    return member.role == PracticeMember.Role.ADMIN


def admin_only_page(request: HttpRequest, error: AdminOnly) -> HttpResponse:
    """What a staff member sees on an admin-only page (a direct link, or a menu they opened before a change)."""
    return render(request, "practice/admin_only.html", {"message": error.message}, status=403)


PRACTICE_ADMIN_ONLY = "Only your practice's admins can see {page}."


def practice_admin(*, user: object, page: str) -> PracticeMember:
    """The practice admin for an admin-only page or endpoint (Staff, Settings, Invoices, Payment details): a staff
    member of the practice is told it is for its admins (403 ``practice_admin_only``: the practice is theirs, so
    "no such page" would be wrong); anyone outside a practice gets a 404."""
    from partnerdesk.identity.models import User
    from partnerdesk.lib.errors import NotFound
    from partnerdesk.practice.selectors import membership_for_user

    member = membership_for_user(user=user) if isinstance(user, User) else None
    if member is None:
        raise NotFound("You are not a member of a practice")
    if member.role != PracticeMember.Role.ADMIN:
        raise PermissionDenied(PRACTICE_ADMIN_ONLY.format(page=page), code="practice_admin_only")
    return member


def practice_admin_page(request: HttpRequest, *, page: str) -> PracticeMember:
    """``practice_admin`` for a page: a 404 for outsiders, the site's 403 page naming the page for staff."""
    from django.core.exceptions import PermissionDenied as PageDenied
    from django.http import Http404

    from partnerdesk.lib.errors import NotFound

    try:
        return practice_admin(user=request.user, page=page)
    except NotFound:
        raise Http404("No such page") from None
    except PermissionDenied as error:
        raise PageDenied(error.message) from None
