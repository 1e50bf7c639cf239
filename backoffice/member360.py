"""The member 360° page (/admin/member/<id>/): one page per member with everything staff look up
before they answer a customer, assembled from each app's own selectors (this app is the top layer),
and the actions staff take from there, which are the existing admin actions and forms."""

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest
from django.template.response import TemplateResponse
from django.utils.translation import gettext_lazy as _

from campaigns.selectors import member_campaigns_overview
from feedback.selectors import member_feedback_overview
from members import selectors as member_selectors
from members.households import household_view, tier_progress_for
from members.models import Member
from rewards.selectors import member_rewards_overview

ROWS = 10

# (action of the members changelist, label, permission): each button posts the member to that action,
# whose own page asks for what it needs (points and reason, tier, plan).
ACTIONS = [
    ("adjust_points", _("Adjust points"), "members.adjust_points"),
    ("assign_tier", _("Assign a tier"), "members.change_member"),
    ("subscribe", _("Subscribe to a plan"), "members.change_member"),
    ("suspend", _("Suspend"), "members.change_member"),
    ("reactivate", _("Reactivate"), "members.change_member"),
    ("gdpr_export", _("GDPR export (JSON)"), "members.view_member"),
]


def member_actions(*, member: Member, user: AbstractBaseUser) -> list[tuple[str, str]]:
    """The changelist actions this user may take on this member (suspend only an active one, ...)."""
    hidden = {"suspend"} if member.status != Member.Status.ACTIVE else set()
    if member.status != Member.Status.SUSPENDED:
        hidden.add("reactivate")
    return [(name, label) for name, label, perm in ACTIONS if name not in hidden and user.has_perm(perm)]


def member_360_view(request: HttpRequest, *, admin_site, member_id: int) -> TemplateResponse:
    if not request.user.has_perm("members.view_member"):
        raise PermissionDenied
    try:
        overview = member_selectors.member_overview(member_id=member_id, limit=ROWS)
    except Member.DoesNotExist:
        raise Http404 from None
    member = overview.member
    context = {
        **admin_site.each_context(request),
        "title": _("Member %(number)s") % {"number": member.number},
        "opts": Member._meta,
        "member": member,
        "overview": overview,
        "rewards": member_rewards_overview(member=member, limit=ROWS),
        "feedback": member_feedback_overview(member=member, limit=ROWS),
        "campaigns": member_campaigns_overview(member=member, limit=ROWS),
        "progress": tier_progress_for(member=member),
        "household": household_view(member=member),
        "actions": member_actions(member=member, user=request.user),
        "can_change": request.user.has_perm("members.change_member"),
        "rows": ROWS,
    }
    return TemplateResponse(request, "admin/backoffice/member_360.html", context)
