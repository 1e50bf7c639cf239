"""Rewards' part of the nightly reconciliation (members.reconciliation): vouchers agree with their
redemptions, and stock is never negative. Each check is one query over the mismatching rows only."""

from django.db.models import F, Q

from members.reconciliation import reconciliation_check
from rewards.models import Redemption, Reward, Voucher

_HANDED_OUT = [Voucher.Status.ISSUED, Voucher.Status.CONSUMED, Voucher.Status.EXPIRED]
LIMIT = 10_000  # per problem kind; a run that finds more has a bigger problem than a list can show


def _voucher_row(voucher: Voucher, detail: str) -> dict:
    return {"object": f"voucher {voucher.code} (id {voucher.pk})", "detail": detail}


@reconciliation_check("vouchers")
def vouchers_check() -> list[dict]:
    found = []
    vouchers = Voucher.objects.only("pk", "code", "status")
    for v in vouchers.filter(status__in=_HANDED_OUT, redemption__isnull=True)[:LIMIT]:
        found.append(_voucher_row(v, f"{v.status} but belongs to no redemption"))
    for v in vouchers.filter(redemption__isnull=False).exclude(member_id=F("redemption__member_id"))[:LIMIT]:
        found.append(_voucher_row(v, "held by another member than the one who redeemed it"))
    cancelled = Q(redemption__status=Redemption.Status.CANCELLED) & ~Q(status=Voucher.Status.CANCELLED)
    for v in vouchers.filter(cancelled)[:LIMIT]:
        found.append(_voucher_row(v, f"{v.status} although its redemption was cancelled"))
    live = Q(redemption__status=Redemption.Status.COMPLETED, status=Voucher.Status.CANCELLED)
    for v in vouchers.filter(live)[:LIMIT]:
        found.append(_voucher_row(v, "cancelled although its redemption stands (points not returned)"))
    for v in vouchers.filter(status=Voucher.Status.CONSUMED, consumed_at__isnull=True)[:LIMIT]:
        found.append(_voucher_row(v, "used, but with no time of use"))
    missing = (
        Redemption.objects.filter(status=Redemption.Status.COMPLETED, voucher__isnull=True)
        .exclude(reward__kind__in=Reward.KINDS_WITHOUT_VOUCHER)
        .only("pk", "member_id")
    )
    for r in missing[:LIMIT]:
        found.append({"object": f"redemption {r.pk}", "detail": "completed but has no voucher"})
    return found


@reconciliation_check("stock")
def stock_check() -> list[dict]:
    # The column is unsigned with a CHECK, so this only fires if a constraint was dropped or bypassed.
    return [
        {"object": f"reward {r.pk} ({r.title})", "detail": f"stock is {r.stock}"}
        for r in Reward.objects.filter(stock__lt=0).only("pk", "title", "stock")[:LIMIT]
    ]
