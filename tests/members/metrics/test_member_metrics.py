"""Member and purchase metrics against a small history computed by hand."""

from decimal import Decimal

import pytest

from members import services
from members.metrics import member_metrics, monthly_activity
from members.models import Member
from tests.conftest import PartnerFactory, ProgramFactory, TierFactory, at, buy, enroll, on

# The period is the 30 days of March 1-31 (exclusive end), so the previous period is Jan 30 - Mar 1.
START, END = at(2026, 3, 1, 0), at(2026, 3, 31, 0)


@pytest.fixture
def history(program):
    """A: bought before and twice during (one category). B: bought before only (churned).
    C: new in March, one basket with two categories. D: never bought. E: before and during, no
    categories, half of the March basket refunded. Plus a member of another program buying in March."""
    shop = PartnerFactory(program=program)
    a = enroll(program, at(2026, 1, 5))
    b = enroll(program, at(2026, 1, 5))
    d = enroll(program, at(2026, 1, 5))
    e = enroll(program, at(2026, 2, 1))
    buy(a, at(2026, 2, 10), "100", ["grocery"])
    buy(b, at(2026, 2, 15), "80", ["grocery"], partner=shop)
    buy(e, at(2026, 2, 20), "40")
    buy(a, at(2026, 3, 5), "50", ["coffee"], partner=shop)
    buy(a, at(2026, 3, 20), "30", ["coffee"])
    c = enroll(program, at(2026, 3, 10))
    buy(c, at(2026, 3, 12), "120", ["shoes", "beauty"], partner=shop)
    refunded = buy(e, at(2026, 3, 25), "80")
    on(at(2026, 3, 26), services.purchase_reverse, purchase=refunded, amount=Decimal("20"))
    other = enroll(ProgramFactory(), at(2026, 3, 2))
    buy(other, at(2026, 3, 3), "999", ["books", "toys"])
    return {"a": a, "b": b, "c": c, "d": d, "e": e, "shop": shop}


def test_member_metrics_match_the_hand_computed_example(program, history, scope_of):
    m = member_metrics(scope=scope_of(program, START, END))

    assert (m.enrolled, m.new) == (5, 1)  # A B D E before, C in March; the other program is not counted
    assert (m.active, m.previous_active, m.retained, m.reactivated_or_new) == (3, 3, 2, 1)  # E={A,C,E} S={A,B,E}
    assert m.crr == Decimal("66.67")  # (E - N) / S x 100 = (3 - 1) / 3
    assert m.churn == Decimal("33.33")  # B of {A, B, E}
    assert m.repeat_purchase_rate == Decimal("33.33")  # only A bought twice
    assert (m.orders, m.revenue) == (4, Decimal("260.00"))  # 50 + 30 + 120 + (80 - 20 refunded)
    assert m.average_order_value == Decimal("65.00")
    assert m.purchase_frequency == Decimal("1.33")  # 4 orders / 3 buyers
    assert m.average_lifetime_periods == Decimal("3.00")  # 1 / churn = 3 / 1
    assert m.average_lifetime_days == Decimal("90.00")  # 3 periods of 30 days
    assert m.clv == Decimal("260.00")  # 65 x 4/3 x 3, multiplied before rounding
    assert (m.multi_category, m.single_category, m.upsell_ratio) == (1, 1, Decimal("1.00"))  # C vs A; E has none


def test_an_empty_period_gives_zeros_and_no_ratios(program, history, scope_of):
    m = member_metrics(scope=scope_of(program, at(2025, 1, 1, 0), at(2025, 2, 1, 0)))

    assert (m.enrolled, m.new, m.active, m.previous_active, m.orders, m.revenue) == (0, 0, 0, 0, 0, Decimal(0))
    assert m.crr is m.churn is m.repeat_purchase_rate is m.average_order_value is None
    assert m.purchase_frequency is m.average_lifetime_periods is m.clv is m.upsell_ratio is None


def test_no_churn_means_no_finite_lifetime_and_no_clv(program, scope_of):
    a = enroll(program, at(2026, 1, 5))
    buy(a, at(2026, 2, 10), "10")
    buy(a, at(2026, 3, 10), "10")

    m = member_metrics(scope=scope_of(program, START, END))

    assert (m.crr, m.churn) == (Decimal("100.00"), Decimal("0.00"))
    assert m.average_lifetime_periods is None and m.clv is None
    assert m.upsell_ratio is None  # nobody bought a categorised product


def test_partner_filter_keeps_only_purchases_at_that_partner(program, history, scope_of):
    m = member_metrics(scope=scope_of(program, START, END, partner=history["shop"]))

    # March at the shop: A 50 (coffee), C 120 (two categories); previous period at the shop: B.
    assert (m.active, m.previous_active, m.retained, m.orders, m.revenue) == (2, 1, 0, 2, Decimal("170.00"))
    assert (m.crr, m.churn, m.average_order_value) == (Decimal("0.00"), Decimal("100.00"), Decimal("85.00"))
    assert (m.multi_category, m.single_category) == (1, 1)


def test_tier_and_loyalty_type_filters_use_the_members_current_values(program, history, scope_of):
    gold = TierFactory(program=program, level=5)
    Member.objects.filter(pk__in=[history["a"].pk, history["b"].pk]).update(tier=gold)
    Member.objects.filter(pk=history["c"].pk).update(loyalty_type=Member.LoyaltyType.PRICE)

    gold_only = member_metrics(scope=scope_of(program, START, END, tier=gold))
    price_only = member_metrics(scope=scope_of(program, START, END, loyalty_type=Member.LoyaltyType.PRICE))

    assert (gold_only.enrolled, gold_only.active, gold_only.previous_active, gold_only.crr) == (
        2,
        1,
        2,
        Decimal("50.00"),
    )
    assert (price_only.enrolled, price_only.new, price_only.active, price_only.orders) == (1, 1, 1, 1)
    assert price_only.crr is None  # C had no purchase before March: S = 0


def test_monthly_activity_counts_buyers_new_members_orders_and_revenue(program, history, scope_of):
    months = monthly_activity(scope=scope_of(program, at(2026, 1, 1, 0), at(2026, 4, 1, 0)))

    assert [(r.month.month, r.active, r.new, r.orders, r.revenue) for r in months] == [
        (1, 0, 3, 0, Decimal("0.00")),
        (2, 3, 1, 3, Decimal("220.00")),
        (3, 3, 1, 4, Decimal("260.00")),
    ]


def test_categories_bought_on_different_days_make_a_multi_category_buyer(program, scope_of):
    a, b, c = (enroll(program, at(2026, 1, 5)) for _ in range(3))
    buy(a, at(2026, 3, 2), "10", ["coffee"])
    buy(a, at(2026, 3, 9), "10", ["books"])  # two one-category baskets, two categories
    buy(b, at(2026, 3, 2), "10", ["coffee", "coffee"])
    buy(b, at(2026, 3, 9), "10", ["coffee"])  # one category however many baskets
    buy(c, at(2026, 3, 2), "10")  # no categories: neither

    m = member_metrics(scope=scope_of(program, START, END))

    assert (m.multi_category, m.single_category, m.upsell_ratio) == (1, 1, Decimal("1.00"))
