"""Member pages of households: the Household page (found one, invite by member number or email,
answer an invitation, leave, the pooled balance and each member's part of it) and the dashboard
panel that shows invitations waiting for an answer. Reads through members.households, writes
through members.services."""

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from core.errors import DomainError
from members import households, services
from members.forms import HouseholdCreateForm, HouseholdInviteForm
from members.models import Member
from members.views import DashboardPanel, dashboard_panel, member_required


def _page(request: HttpRequest, status: int = 200, **forms) -> HttpResponse:
    member = request.member
    if not households.households_enabled(member=member):
        raise Http404("This program has no households.")
    return render(
        request,
        "members/household.html",
        {
            "member": member,
            "view": households.household_view(member=member),
            "invitations": list(households.household_invitations_received(member=member)),
            "create_form": forms.get("create_form") or HouseholdCreateForm(),
            "invite_form": forms.get("invite_form") or HouseholdInviteForm(),
        },
        status=status,
    )


@member_required
def household(request: HttpRequest) -> HttpResponse:
    return _page(request)


@require_POST
@member_required
def household_create(request: HttpRequest) -> HttpResponse:
    form = HouseholdCreateForm(request.POST)
    if form.is_valid():
        try:
            services.household_create(member=request.member, name=form.cleaned_data["name"])
        except DomainError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, _("Your household is ready. Invite the members you share points with."))
            return redirect("members:household")
    return _page(request, status=400, create_form=form)


@require_POST
@member_required
def household_invite(request: HttpRequest) -> HttpResponse:
    form = HouseholdInviteForm(request.POST)
    if form.is_valid():
        try:
            invitation = services.household_invite(member=request.member, invitee=form.cleaned_data["who"])
        except DomainError as exc:
            form.add_error("who", exc.message)
        else:
            messages.success(
                request,
                _("%(name)s is invited. They accept on their Household page.") % {"name": _name(invitation.member)},
            )
            return redirect("members:household")
    return _page(request, status=400, invite_form=form)


def _name(member: Member) -> str:
    return member.first_name or member.number


@require_POST
@member_required
def household_answer(request: HttpRequest, pk: int, answer: str) -> HttpResponse:
    if answer not in ("accept", "decline"):
        raise Http404("No such answer.")
    invitation = get_object_or_404(households.household_invitations_received(member=request.member), pk=pk)
    try:
        if answer == "accept":
            joined = services.household_invitation_accept(invitation=invitation, member=request.member)
            messages.success(request, _("Welcome to %(household)s.") % {"household": joined.name})
        else:
            services.household_invitation_decline(invitation=invitation, member=request.member)
            messages.success(request, _("Invitation declined."))
    except DomainError as exc:
        messages.error(request, exc.message)
    return redirect("members:household")


@require_POST
@member_required
def household_leave(request: HttpRequest) -> HttpResponse:
    try:
        services.household_leave(member=request.member)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("You left the household. Your points stay yours."))
    return redirect("members:household")


@dashboard_panel
def household_panel(member: Member) -> DashboardPanel | None:
    """Invitations waiting for the member's answer; nothing (and no query) where households are off."""
    if not households.households_enabled(member=member):
        return None
    invitations = list(households.household_invitations_received(member=member))
    if not invitations:
        return None
    return DashboardPanel("members/_household_panel.html", {"invitations": invitations})
