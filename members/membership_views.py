"""The member's Membership page: paid plans (join, cancel), the perks they hold, and whether points
are on sale there (members.buy_points)."""

from datetime import datetime

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from core.errors import DomainError
from members import selectors, services
from members.perks import subscription_perks
from members.views import member_required

PAID_BY_MEMBER_PAGE = "member page"


@member_required
def membership(request: HttpRequest) -> HttpResponse:
    member = request.member
    subscription = selectors.subscription_live(member=member)
    return render(
        request,
        "members/membership.html",
        {
            "member": member,
            "plans": selectors.plans_available(member=member),
            "subscription": subscription,
            "points_on_sale": selectors.points_on_sale(program=member.program),
            "perks": subscription_perks(subscription),
        },
    )


@require_POST
@member_required
def membership_subscribe(request: HttpRequest, plan_id: int) -> HttpResponse:
    member = request.member
    plan = get_object_or_404(selectors.plans_available(member=member), pk=plan_id)
    try:
        subscription = services.plan_subscribe(member=member, plan=plan, paid_by=PAID_BY_MEMBER_PAGE)
    except DomainError:
        messages.error(request, _("You already have a membership plan."))
    else:
        if subscription.gives_perks:  # kept a cancelled plan that was already paid
            messages.success(request, _("Your %(plan)s membership continues.") % {"plan": plan.name})
        else:
            messages.success(
                request,
                _("Your request to join %(plan)s is recorded. Your perks start once the fee is paid.")
                % {"plan": plan.name},
            )
    return redirect("members:membership")


@require_POST
@member_required
def membership_cancel(request: HttpRequest) -> HttpResponse:
    subscription = selectors.subscription_live(member=request.member)
    if subscription is None:
        raise Http404("No membership plan.")
    try:
        services.plan_cancel(subscription=subscription)
    except DomainError:
        messages.error(request, _("This membership is already cancelled."))
    else:
        if not subscription.gives_perks:  # not paid yet: the request is withdrawn
            messages.success(request, _("Your request to join is withdrawn."))
            return redirect("members:membership")
        messages.success(
            request,
            _("Your membership will not renew. Your perks last until %(date)s.")
            % {"date": _date(subscription.expires_at)},
        )
    return redirect("members:membership")


def _date(value: datetime) -> str:
    return date_format(timezone.localtime(value), "DATE_FORMAT")
