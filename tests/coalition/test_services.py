"""Closing a month: what each partner's statement says, computed from the ledger, and frozen."""

from datetime import date
from decimal import Decimal

import pytest

from coalition.models import PartnerRate, SettlementLine, SettlementStatement
from coalition.services import settlement_close, settlements_close_due
from core.errors import DomainError
from members import services
from members.models import Program
from members.services.expiry import points_expire_due
from members.services.refunds import purchase_reverse
from rewards.services import redemption_cancel, reward_redeem, voucher_consume
from tests.conftest import MemberFactory, at, buy, on
from tests.rewards.conftest import RewardFactory

pytestmark = pytest.mark.django_db
JAN, FEB, MAR = date(2026, 1, 1), date(2026, 2, 1), date(2026, 3, 1)


def _lines(statement) -> dict[str, tuple[int, Decimal]]:
    return {line.kind: (line.points, line.amount) for line in statement.lines.all()}


def _spend(member, when, points, partner=None):
    return on(when, services.points_spend, member=member, points=points, reason="test", partner=partner)


def test_issued_and_redeemed_accrue_to_the_partner_where_they_happen(coalition):
    program, shop, pharmacy = coalition
    member = on(at(2026, 1, 2), MemberFactory, program=program)
    buy(member, at(2026, 1, 10), "100.00", partner=shop)  # 100 points issued at the shop
    _spend(member, at(2026, 1, 15), 30, partner=pharmacy)  # the shop's points, spent at the pharmacy
    _spend(member, at(2026, 1, 20), 10, partner=shop)
    shop_jan, pharmacy_jan = settlement_close(program=program, month=JAN, now=at(2026, 2, 1, 3))

    assert _lines(shop_jan) == {
        "issued": (100, Decimal("1.00")),
        "redeemed": (10, Decimal("0.08")),
        "elsewhere": (30, Decimal("0.00")),
    }
    assert (shop_jan.points_issued, shop_jan.points_redeemed, shop_jan.points_redeemed_elsewhere) == (100, 10, 30)
    assert (shop_jan.partner_owes, shop_jan.program_owes, shop_jan.balance) == (
        Decimal("1.00"),
        Decimal("0.08"),
        Decimal("0.92"),
    )
    assert _lines(pharmacy_jan) == {"redeemed": (30, Decimal("0.30"))}
    assert pharmacy_jan.balance == Decimal("-0.30") and pharmacy_jan.currency == "EUR"


def test_reversals_and_returned_points_count_down_at_the_rate_of_their_day(coalition):
    program, shop, _ = coalition
    PartnerRate.objects.create(
        partner=shop, valid_from=date(2026, 1, 20), cost_per_point=Decimal("0.02"), value_per_point=Decimal("0.01")
    )
    member = on(at(2026, 1, 2), MemberFactory, program=program)
    purchase = buy(member, at(2026, 1, 10), "100.00", partner=shop)
    on(at(2026, 1, 21), purchase_reverse, purchase=purchase, amount=Decimal("40.00"))
    reward = RewardFactory(program=program, points_cost=20)
    redemption = on(at(2026, 1, 22), reward_redeem, member=member, reward=reward, partner=shop)
    on(at(2026, 1, 23), redemption_cancel, redemption=redemption)
    (statement,) = [s for s in settlement_close(program=program, month=JAN, now=at(2026, 2, 1, 3)) if s.partner == shop]
    assert _lines(statement) == {
        "issued": (100, Decimal("1.00")),  # at 0.01 on the 10th
        "reversed": (-40, Decimal("-0.80")),  # at 0.02 from the 20th
        "redeemed": (20, Decimal("0.20")),
        "returned": (-20, Decimal("-0.20")),
    }
    assert (statement.points_issued, statement.points_redeemed, statement.partner_owes) == (60, 0, Decimal("0.20"))


def test_a_voucher_redeemed_on_the_member_pages_counts_where_it_is_used(coalition):
    program, shop, pharmacy = coalition
    member = on(at(2026, 1, 2), MemberFactory, program=program)
    buy(member, at(2026, 1, 10), "100.00", partner=shop)
    reward = RewardFactory(program=program, points_cost=50)
    redemption = on(at(2026, 1, 12), reward_redeem, member=member, reward=reward)  # no partner: the member page
    on(
        at(2026, 1, 14),
        voucher_consume,
        code=redemption.voucher.code,
        partner=pharmacy,
        order_reference="ORD-9",
        order_total=Decimal("20.00"),
    )
    statements = {s.partner: s for s in settlement_close(program=program, month=JAN, now=at(2026, 2, 1))}
    assert _lines(statements[pharmacy]) == {"vouchers": (50, Decimal("0.50"))}
    assert statements[pharmacy].program_owes == Decimal("0.50")
    assert _lines(statements[shop])["elsewhere"] == (50, Decimal("0.00"))  # spent away from where it was issued


def test_breakage_goes_to_the_partner_that_issued_the_expired_points(coalition):
    program, shop, pharmacy = coalition
    Program.objects.filter(pk=program.pk).update(expiry_policy=Program.Expiry.FIXED, expiry_months=1)
    member = on(at(2026, 1, 2), MemberFactory, program=program)
    buy(member, at(2026, 1, 10), "100.00", partner=shop)
    buy(member, at(2026, 1, 11), "40.00", partner=pharmacy)
    _spend(member, at(2026, 1, 12), 110)  # soonest expiry first: the shop's 100, then 10 of the pharmacy's
    points_expire_due(now=at(2026, 2, 20))
    settlement_close(program=program, month=JAN, now=at(2026, 2, 21))
    shop_feb, pharmacy_feb = settlement_close(program=program, month=FEB, now=at(2026, 3, 1, 1))
    assert _lines(pharmacy_feb) == {"breakage": (30, Decimal("0.00"))}
    assert pharmacy_feb.points_expired == 30 and shop_feb.points_expired == 0


def test_a_closed_statement_never_changes_and_a_late_entry_is_carried_as_an_adjustment(coalition):
    program, shop, _ = coalition
    member = on(at(2026, 1, 2), MemberFactory, program=program)
    buy(member, at(2026, 1, 10), "100.00", partner=shop)
    (jan,) = [s for s in settlement_close(program=program, month=JAN, now=at(2026, 2, 1)) if s.partner == shop]
    assert settlement_close(program=program, month=JAN, now=at(2026, 2, 2)) == []  # closing twice adds nothing
    buy(member, at(2026, 1, 30), "50.00", partner=shop)  # an entry dated back into the closed month
    jan.refresh_from_db()
    assert (jan.points_issued, jan.partner_owes, _lines(jan)["issued"]) == (
        100,
        Decimal("1.00"),
        (100, Decimal("1.00")),
    )

    buy(member, at(2026, 2, 5), "20.00", partner=shop)
    shop_feb = SettlementStatement.objects.get(
        pk__in=[s.pk for s in settlement_close(program=program, month=FEB, now=at(2026, 3, 1))], partner=shop
    )
    lines = list(shop_feb.lines.values_list("kind", "adjusts", "period", "points", "amount"))
    assert lines == [
        ("adjustment", "issued", JAN, 50, Decimal("0.50")),
        ("issued", "", FEB, 20, Decimal("0.20")),
    ]
    assert (shop_feb.points_issued, shop_feb.partner_owes) == (70, Decimal("0.70"))
    # Carried once: March's close finds nothing more to correct.
    (shop_mar,) = [s for s in settlement_close(program=program, month=MAR, now=at(2026, 4, 1)) if s.partner == shop]
    assert not shop_mar.lines.filter(kind=SettlementLine.Kind.ADJUSTMENT).exists()


def test_a_month_is_closed_only_when_over_and_in_order(coalition):
    program, _, _ = coalition
    with pytest.raises(DomainError) as refused:
        settlement_close(program=program, month=date(2026, 1, 15), now=at(2026, 1, 31, 22))
    assert refused.value.code == "month_not_over"
    settlement_close(program=program, month=FEB, now=at(2026, 3, 2))
    with pytest.raises(DomainError) as refused:
        settlement_close(program=program, month=JAN, now=at(2026, 3, 2))
    assert refused.value.code == "later_month_closed"


def test_the_beat_job_closes_last_month_once_then_each_month_that_ends(coalition):
    _, shop, _ = coalition
    assert on(at(2026, 3, 10), settlements_close_due) == 2  # February, for both partners with a rate
    assert on(at(2026, 3, 11), settlements_close_due) == 0
    assert on(at(2026, 5, 2), settlements_close_due) == 4  # March and April
    months = SettlementStatement.objects.filter(partner=shop).values_list("month", flat=True)
    assert sorted(months) == [FEB, MAR, date(2026, 4, 1)]
