"""Earning rules: how a basket turns into points, and how rules stack and exclude."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from members.earning import earn_quote
from members.models import EarningRule, MembershipPlan, Program
from tests.conftest import PartnerFactory, TierFactory

pytestmark = pytest.mark.django_db

WEDNESDAY = datetime(2026, 3, 4, 12, 0, tzinfo=UTC)
SATURDAY = datetime(2026, 3, 7, 12, 0, tzinfo=UTC)


def rule(program, **fields):
    fields.setdefault("name", f"{fields['kind']} rule")
    return EarningRule.objects.create(program=program, **fields)


def quote(program, amount, items=None, at=WEDNESDAY, **kwargs):
    return earn_quote(program=program, amount=Decimal(str(amount)), items=items, at=at, **kwargs)


def item(category, price, sku="X", quantity=1):
    return {"sku": sku, "category": category, "unit_price": str(price), "quantity": quantity}


def points_by_label(q):
    return {row["label"]: row["points"] for row in q.breakdown}


def test_base_rate_and_rounding(program):
    program.earn_rate = Decimal("1.5")
    assert quote(program, "9.99").points == 14  # 14.985 rounded down
    program.rounding = Program.Rounding.NEAREST
    assert quote(program, "9.99").points == 15
    program.rounding = Program.Rounding.UP
    assert quote(program, "9.01").points == 14  # 13.515 rounded up


def test_exclusion_and_part_paid_with_points_earn_nothing(program):
    rule(program, kind=EarningRule.Kind.EXCLUSION, category="gift-cards")
    items = [item("grocery", 60), item("gift-cards", 40)]
    q = quote(program, 100, items)
    assert q.points == 60
    assert {"kind": "excluded", "label": "X", "points": 0, "rule": None} in q.breakdown
    # 20 of 100 paid with points: the gift card's cash share is 32, grocery's 48.
    assert quote(program, 100, items, paid_with_points=Decimal("20")).points == 48


def test_category_multiplier_applies_to_its_lines_only(program):
    rule(program, kind=EarningRule.Kind.CATEGORY, category="coffee", multiplier=Decimal("3"), name="Coffee x3")
    q = quote(program, 50, [item("coffee", 10), item("grocery", 40)])
    assert points_by_label(q) == {"50.00 EUR x 1": 50, "Coffee x3": 20}
    assert q.points == 70


def test_stackable_rules_add_up(program):
    rule(program, kind=EarningRule.Kind.CATEGORY, category="shoes", multiplier=Decimal("2"), name="Shoes x2")
    rule(program, kind=EarningRule.Kind.SKU, sku="RUN-1", multiplier=Decimal("1.5"), name="Runner x1.5")
    q = quote(program, 100, [item("shoes", 100, sku="RUN-1")])
    assert q.points == 100 + 100 + 50


def test_non_stackable_rule_applies_alone_when_first_by_priority(program):
    rule(program, kind=EarningRule.Kind.CATEGORY, category="coffee", multiplier=Decimal("2"), name="Coffee x2")
    exclusive = rule(
        program,
        kind=EarningRule.Kind.CATEGORY,
        category="coffee",
        multiplier=Decimal("3"),
        name="Coffee x3 only",
        stackable=False,
        priority=10,
    )
    basket = [item("coffee", 10)]
    assert points_by_label(quote(program, 10, basket)) == {"10.00 EUR x 1": 10, "Coffee x3 only": 20}
    # With a lower priority than a stackable rule, the non-stackable rule is skipped.
    exclusive.priority = -1
    exclusive.save()
    assert points_by_label(quote(program, 10, basket)) == {"10.00 EUR x 1": 10, "Coffee x2": 10}


def test_weekend_promotion_and_active_window(program):
    rule(
        program,
        kind=EarningRule.Kind.PROMOTION,
        multiplier=Decimal("2"),
        weekdays="6,7",
        name="Double weekend",
        ends_at=SATURDAY + timedelta(days=2),
    )
    assert quote(program, 30, at=WEDNESDAY).points == 30
    assert quote(program, 30, at=SATURDAY).points == 60
    assert quote(program, 30, at=SATURDAY + timedelta(days=7)).points == 30  # promotion over


def test_bonus_over_minimum_and_partner_rules_only_for_their_partner(program):
    shop, other = PartnerFactory(program=program), PartnerFactory(program=program)
    rule(program, kind=EarningRule.Kind.BONUS, points=100, min_amount=Decimal("200"), name="Big basket")
    rule(program, kind=EarningRule.Kind.PARTNER, partner=shop, multiplier=Decimal("1.5"), name="Shop opening")
    assert quote(program, "199.99").points == 199
    assert quote(program, 200).points == 300
    assert quote(program, 100, partner=shop).points == 150
    assert quote(program, 100, partner=other).points == 100


def test_tier_partner_and_plan_multipliers_apply_to_base_plus_rules(program):
    rule(program, kind=EarningRule.Kind.CATEGORY, category="coffee", multiplier=Decimal("2"), name="Coffee x2")
    tier = TierFactory(program=program, level=1, earn_multiplier=Decimal("1.5"))
    partner = PartnerFactory(program=program, earn_multiplier=Decimal("0.5"))
    plan = MembershipPlan(program=program, name="Plus", fee=Decimal("49"), earn_multiplier=Decimal("2"))
    q = quote(program, 100, [item("coffee", 100)], tier=tier, partner=partner, plan=plan)
    # subtotal 200; tier +100, partner -100, plan +200
    assert q.points == 400
    assert [row["kind"] for row in q.breakdown] == ["base", "category", "tier", "partner", "plan"]


def test_inactive_and_engagement_rules_do_not_earn_on_purchases(program):
    rule(program, kind=EarningRule.Kind.PROMOTION, multiplier=Decimal("5"), is_active=False)
    rule(program, kind=EarningRule.Kind.ENGAGEMENT, action=EarningRule.Action.REVIEW, points=50)
    assert quote(program, 10).points == 10
