"""Rewards member pages: the catalog with reasons, redemption with a confirmation step, my vouchers
with server-side QR codes and barcodes, and the rewards panel of the dashboard (featured rewards, challenges, badges)."""

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from core.barcodes import ScanCodes, scan_codes
from core.errors import DomainError
from core.wallet import apple_wallet_enabled, google_wallet_enabled, pkpass_response, wallet_buttons
from members.households import household_pool
from members.models import Member
from members.views import DashboardPanel, dashboard_panel, member_required
from rewards import selectors, services, wallet
from rewards.models import Reward, Voucher

FEATURED_ON_DASHBOARD = 3
VOUCHERS_PER_PAGE = 20


def voucher_scan_codes(voucher: Voucher) -> ScanCodes:
    """The voucher code as a QR code and a Code 128 barcode, drawn on the server.

    Both hold the bare code (no dashes), which is what a partner's scanner sends to the validate API."""
    shown = services.voucher_code_display(voucher.code)
    return scan_codes(
        voucher.code,
        qr_label=_("QR code of voucher %(code)s") % {"code": shown},
        barcode_label=_("Barcode of voucher %(code)s") % {"code": shown},
    )


def _voucher_rows(vouchers) -> list[dict]:
    return [
        {
            "voucher": v,
            "code": services.voucher_code_display(v.code),
            "codes": voucher_scan_codes(v) if v.status == Voucher.Status.ISSUED else None,
        }
        for v in vouchers
    ]


def _pool(member: Member) -> int | None:
    """A household member redeems from the household's pooled points (their own first); None: no household."""
    return household_pool(household_id=member.household_id) if member.household_id else None


@member_required
def catalog(request: HttpRequest) -> HttpResponse:
    member = request.member
    pool = _pool(member)
    offers = selectors.rewards_for_member(member=member, available=pool)
    return render(
        request,
        "rewards/catalog.html",
        {
            "member": member,
            "pool": pool,
            "available": [o for o in offers if o.can_redeem],
            "unavailable": [o for o in offers if not o.can_redeem],
        },
    )


def _offer(member: Member, pk: int, pool: int | None) -> selectors.RewardOffer:
    """The member's view of one reward of their own program; anything else is a 404."""
    for offer in selectors.rewards_for_member(member=member, available=pool):
        if offer.reward.pk == pk:
            return offer
    raise Http404("No such reward.")


@member_required
def redeem(request: HttpRequest, pk: int) -> HttpResponse:
    """GET: the confirmation step (cost, balance after). POST: spend the points."""
    member = request.member
    if request.method == "POST":
        reward = selectors.reward_get(program=member.program, pk=pk)
        if reward is None:
            raise Http404("No such reward.")
        try:
            redemption = services.reward_redeem(
                member=member, reward=reward, from_household=member.household_id is not None
            )
        except DomainError as exc:
            messages.error(request, exc.message)
            return redirect("rewards:catalog")
        if reward.issues_voucher:
            messages.success(request, _("Done! Here is your voucher."))
            return redirect("rewards:voucher", pk=redemption.voucher.pk)
        messages.success(
            request, _("Thank you! Your donation of %(points)s points is recorded.") % {"points": reward.points_cost}
        )
        return redirect("rewards:vouchers")
    pool = _pool(member)
    offer = _offer(member, pk, pool)
    if offer.reason == "insufficient_points":
        services.reward_viewed(member=member, reward=offer.reward)
    available = member.points_available if pool is None else pool
    return render(
        request,
        "rewards/redeem.html",
        {"member": member, "offer": offer, "pool": pool, "balance_after": available - offer.reward.points_cost},
    )


@member_required
def vouchers(request: HttpRequest) -> HttpResponse:
    member = request.member
    page = Paginator(selectors.member_vouchers(member=member), VOUCHERS_PER_PAGE).get_page(request.GET.get("page"))
    donations = selectors.member_redemptions(member=member).filter(reward__kind=Reward.Kind.CHARITY)[:20]
    return render(
        request,
        "rewards/vouchers.html",
        {"member": member, "page": page, "rows": _voucher_rows(page.object_list), "donations": donations},
    )


def _member_voucher(member: Member, pk: int, *, usable: bool = False) -> Voucher:
    found = selectors.member_vouchers(member=member, status=Voucher.Status.ISSUED if usable else None)
    found = found.filter(pk=pk).first()
    if found is None:  # someone else's voucher looks exactly like no voucher
        raise Http404("No such voucher.")
    return found


@member_required
def voucher(request: HttpRequest, pk: int) -> HttpResponse:
    row = _voucher_rows([_member_voucher(request.member, pk)])[0]
    return render(request, "rewards/voucher.html", {"member": request.member, "row": row, "wallet": wallet_buttons()})


@member_required
def voucher_apple_pass(request: HttpRequest, pk: int) -> HttpResponse:
    """An issued voucher as an Apple Wallet pass (a 404 where Apple Wallet is not configured)."""
    if not apple_wallet_enabled():
        raise Http404("Apple Wallet is not configured.")
    found = _member_voucher(request.member, pk, usable=True)
    return pkpass_response(wallet.voucher_apple_pass(found), filename=f"voucher-{found.pk}.pkpass")


@member_required
def voucher_google_pass(request: HttpRequest, pk: int) -> HttpResponse:
    """Off to Google Wallet with an issued voucher (a 404 where Google Wallet is not configured)."""
    if not google_wallet_enabled():
        raise Http404("Google Wallet is not configured.")
    return HttpResponseRedirect(wallet.voucher_google_save_url(_member_voucher(request.member, pk, usable=True)))


@dashboard_panel
def rewards_panel(member: Member) -> DashboardPanel:
    offers = selectors.rewards_for_member(member=member, available=_pool(member))
    featured = sorted(offers, key=lambda o: (not o.reward.is_featured, not o.can_redeem, o.reward.points_cost))
    challenges = [s for s in selectors.member_challenges(member=member) if s.completed_at is None]
    return DashboardPanel(
        "rewards/_dashboard_panel.html",
        {
            "featured": featured[:FEATURED_ON_DASHBOARD],
            "challenges": challenges,
            "badges": list(selectors.member_badges(member=member)),
        },
    )
