"""Demo data for partner settlement: rates for the demo partners, a year of members paying with
points at the partners' checkouts, and the year's closed statements."""

import random
from decimal import Decimal

from django.utils import timezone

from coalition.models import PartnerRate, SettlementStatement
from coalition.selectors import month_bounds, month_next, month_previous, month_start
from coalition.services import settlement_close
from members.demo import demo_entries_date, demo_program
from members.models import LedgerEntry, PointLot, Program
from rewards.services import burn_confirm, burn_quote

MONTHS = 12
CHECKOUTS = 25
# (months after the first, cost per point issued, value per point redeemed): the web shop's points
# got dearer half-way through the year.
RATES = {
    "Downtown Store": [(0, "0.010", "0.008")],
    "Web Shop": [(0, "0.010", "0.008"), (6, "0.012", "0.008")],
    "Partner Pharmacy": [(0, "0.008", "0.010")],
}


def _months_after(month, n: int):
    for _ in range(n):
        month = month_next(month)
    return month


def seed() -> list[str]:
    program = demo_program()
    if program is None:
        return ["Partner settlement: no demo program, nothing to add."]
    now = timezone.now()
    last = month_previous(month_start(now))
    first = last
    for _ in range(MONTHS - 1):
        first = month_previous(first)
    for partner in program.partners.filter(name__in=RATES):
        for later, cost, value in RATES[partner.name]:
            PartnerRate.objects.get_or_create(
                partner=partner,
                valid_from=_months_after(first, later),
                defaults={"cost_per_point": Decimal(cost), "value_per_point": Decimal(value)},
            )
    statements = SettlementStatement.objects.filter(program=program)
    latest = statements.order_by("-month").values_list("month", flat=True).first()
    if latest is None:
        _checkout_history(program, until=month_bounds(last)[1])
    month = month_next(latest) if latest else first
    while month <= last:
        settlement_close(program=program, month=month, now=now)
        month = month_next(month)
    months = statements.values("month").distinct().count()
    return [
        f"Partner settlement: {statements.count()} closed statements over {months} months "
        "(admin → Settlement statements; GET /api/v1/settlements with the demo key)."
    ]


def _checkout_history(program: Program, *, until) -> None:
    """Members pay part of an order with points at a partner's checkout, each at a moment after the
    points they used were earned and before `until` (the rewards demo redeems today)."""
    rng = random.Random(21)
    partners = list(program.partners.order_by("pk"))
    moments = {}
    for member in program.members.filter(points_available__gte=300).order_by("pk")[:CHECKOUTS]:
        partner = rng.choice(partners)
        hold = burn_quote(
            member=member, partner=partner, order_total=Decimal("60.00"), points=rng.choice([100, 200, 300])
        )
        burn_confirm(token=hold.token, partner=partner)
        entry = LedgerEntry.objects.get(
            member=member, reference=f"rewards.burnhold:{hold.pk}", points__lt=0, created_at__gte=hold.created_at
        )
        lots = [part["lot"] for part in entry.breakdown if "lot" in part]
        earned = max(PointLot.objects.filter(pk__in=lots).values_list("entry__created_at", flat=True))
        if earned < until:
            moments[entry.pk] = earned + (until - earned) * rng.random()
    demo_entries_date(moments)
