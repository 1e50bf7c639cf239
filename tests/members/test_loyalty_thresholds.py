"""Loyalty-type thresholds per program: the nightly recompute uses them, and the program change form
counts members by type with the thresholds as entered (the SQL classifier, held to the Python one)."""

from collections import Counter
from decimal import Decimal

import pytest
from django.urls import reverse

from members import services
from members.loyalty import (
    LoyaltySignals,
    LoyaltyThresholds,
    loyalty_type_distribution,
    loyalty_type_for,
    loyalty_types_recompute,
)
from members.models import Member, MembershipPlan
from tests.conftest import MemberFactory, ProgramFactory, TierFactory

from .conftest import buy, fresh

pytestmark = pytest.mark.django_db
Type = Member.LoyaltyType


@pytest.fixture
def population(program, clock):
    """One member of each type under the default thresholds, and a few on the edges."""
    TierFactory(program=program, level=0)
    TierFactory(program=program, level=1, threshold=Decimal(100))
    bargain = MemberFactory(program=program)
    for _ in range(3):
        buy(bargain, 20, discount_amount=Decimal("5"))
    half = MemberFactory(program=program)  # 2 of 4 discounted: exactly the price-loyal share
    for discount in ("5", "5", "0", "0"):
        buy(half, 20, discount_amount=Decimal(discount))
    regular = MemberFactory(program=program)
    for _ in range(6):
        buy(regular, 10)
    hunter = MemberFactory(program=program)
    buy(hunter, 50)
    services.points_spend(member=hunter, points=30, reason="Gift")  # exactly 60% redeemed
    advocate = MemberFactory(program=program)
    buy(advocate, 10)
    buy(MemberFactory(program=program, referral_code=advocate.referral_code), 10)
    services.member_nps_set(member=advocate, score=9)
    vip = MemberFactory(program=program)
    buy(vip, 150)
    buy(vip, 10)
    plus = MembershipPlan.objects.create(program=program, name="Plus", fee=Decimal("9"))
    planned = MemberFactory(program=program)
    services.plan_subscribe(member=planned, plan=plus, paid_by="staff", payment_reference="PAY-1")
    buy(planned, 10)
    buy(planned, 10)
    detractor = MemberFactory(program=program)
    buy(detractor, 10)
    services.member_nps_set(member=detractor, score=6)
    MemberFactory(program=program)  # idle
    return {"bargain": bargain, "half": half, "regular": regular, "hunter": hunter, "detractor": detractor}


def stored_counts(program) -> dict[str, int]:
    counts = Counter(Member.objects.filter(program=program).values_list("loyalty_type", flat=True))
    return {kind: counts.get(kind, 0) for kind in Type.values}


@pytest.mark.parametrize(
    "thresholds",
    [
        {},
        {"price_share": 51, "freebie_share": 61, "advocate_nps": 10, "satisfied_nps": 5},
        {"price_min_purchases": 4, "convenience_min_purchases": 2, "convenience_max_share": 50},
        {"program_min_purchases": 1, "freebie_max_purchases": 0},
    ],
)
def test_the_sql_count_agrees_with_the_recompute(program, population, thresholds):
    """Both classifiers, on the same members and thresholds, edges included (exact shares)."""
    for name, value in thresholds.items():
        setattr(program, f"loyalty_{name}", value)
    program.save()
    counted = loyalty_type_distribution(program=program)
    loyalty_types_recompute()
    assert counted == stored_counts(program)


def test_each_program_classifies_with_its_own_thresholds(program, population):
    strict = ProgramFactory(loyalty_price_min_purchases=4)
    other = MemberFactory(program=strict)
    for _ in range(3):
        buy(other, 20, discount_amount=Decimal("5"))
    loyalty_types_recompute()
    assert fresh(population["bargain"]).loyalty_type == Type.PRICE
    assert fresh(other).loyalty_type == Type.SATISFIED  # 3 purchases: under this program's 4


def test_thresholds_move_the_rules():
    signals = LoyaltySignals(purchases=4, discounted=2, points_earned=100, points_redeemed=10)
    assert loyalty_type_for(signals) == Type.PRICE
    assert loyalty_type_for(signals, LoyaltyThresholds(price_share=60)) == Type.SATISFIED
    assert (
        loyalty_type_for(
            signals, LoyaltyThresholds(price_share=60, convenience_min_purchases=4, convenience_max_share=60)
        )
        == Type.CONVENIENCE
    )


def test_the_change_form_counts_members_by_type_as_thresholds_change(admin_client, program, population):
    loyalty_types_recompute()
    page = admin_client.get(reverse("admin:members_program_change", args=[program.pk])).content.decode()
    assert 'id="loyalty-preview"' in page and "js/loyalty-preview.js" in page

    url = reverse("admin:members_program_loyalty_preview", args=[program.pk])
    fields = {f"loyalty_{name}": value for name, value in vars(LoyaltyThresholds()).items()}
    same = admin_client.get(url, fields).json()["counts"]
    assert same == stored_counts(program)
    stricter = admin_client.get(url, {**fields, "loyalty_price_min_purchases": 4}).json()["counts"]
    assert stricter[Type.PRICE] == same[Type.PRICE] - 1  # "bargain" (3 purchases) is out, "half" stays
    assert stricter[Type.SATISFIED] == same[Type.SATISFIED] + 1

    bad = admin_client.get(url, {**fields, "loyalty_freebie_share": 101})
    assert bad.status_code == 400 and "loyalty_freebie_share" in bad.json()["errors"]
    clash = admin_client.get(url, {**fields, "loyalty_convenience_max_share": 60})  # above the price share
    assert clash.status_code == 400 and "loyalty_convenience_max_share" in clash.json()["errors"]
