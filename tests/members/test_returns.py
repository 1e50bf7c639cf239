"""Returns by line item (the points the returned items earned, never more than was bought, once per
return reference) and receipts recorded without a member, claimed later within the window."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from core.errors import DomainError
from members import services
from members.models import EarningRule, LedgerEntry, Program, Purchase, PurchaseReturn
from tests.conftest import MemberFactory

from .conftest import assert_ledger_consistent, buy, fresh

pytestmark = pytest.mark.django_db

BASKET = [
    {"sku": "BEANS", "category": "coffee", "quantity": 2, "unit_price": "10.00"},
    {"sku": "MUG", "category": "home", "quantity": 1, "unit_price": "30.00"},
]


@pytest.fixture
def coffee_x3(program):
    return EarningRule.objects.create(
        program=program, name="Coffee x3", kind=EarningRule.Kind.CATEGORY, category="coffee", multiplier=3
    )


def test_returning_an_item_takes_back_what_it_earned_with_its_category_rule(member, coffee_x3):
    purchase = buy(member, 50, items=BASKET)
    assert purchase.points == 90  # 50 base + 2 x 20 for coffee
    reversal = services.purchase_reverse(purchase=purchase, items=[{"sku": "BEANS", "quantity": 1}])
    # One bag earned 10 base + 20 coffee; by amount alone (10 of 50) it would have been 18.
    assert (reversal.amount, reversal.points, reversal.debt) == (Decimal("10.00"), 30, 0)
    assert assert_ledger_consistent(member).points_available == 60
    assert PurchaseReturn.objects.get(purchase=purchase).items == [{"sku": "BEANS", "quantity": 1}]


def test_a_basket_bonus_the_rest_no_longer_reaches_is_taken_back_too(member, program):
    EarningRule.objects.create(
        program=program, name="Over 50", kind=EarningRule.Kind.BONUS, points=100, min_amount=Decimal("50")
    )
    purchase = buy(member, 60, items=[{"sku": "MUG", "category": "home", "quantity": 2, "unit_price": "30.00"}])
    assert purchase.points == 160
    reversal = services.purchase_reverse(purchase=purchase, items=[{"sku": "MUG", "quantity": 1}])
    assert reversal.points == 130  # the rest (30.00) earns 30 and no bonus
    assert assert_ledger_consistent(member).points_available == 30


def test_no_item_comes_back_more_often_than_it_was_bought(member, coffee_x3):
    purchase = buy(member, 50, items=BASKET)
    with pytest.raises(DomainError) as too_many:
        services.purchase_reverse(purchase=purchase, items=[{"sku": "BEANS", "quantity": 3}])
    assert too_many.value.code == "return_exceeds_purchase"
    services.purchase_reverse(purchase=purchase, items=[{"sku": "BEANS", "quantity": 2}])
    with pytest.raises(DomainError) as again:
        services.purchase_reverse(purchase=purchase, items=[{"sku": "BEANS", "quantity": 1}])
    assert again.value.code == "return_exceeds_purchase" and "Only 0" in again.value.message
    with pytest.raises(DomainError) as unknown:
        services.purchase_reverse(purchase=purchase, items=[{"sku": "TEA", "quantity": 1}])
    assert unknown.value.code == "item_not_bought"


def test_returning_every_item_takes_back_every_point(member, coffee_x3):
    purchase = buy(member, 50, items=BASKET)
    services.purchase_reverse(purchase=purchase, items=[{"sku": "MUG", "quantity": 1}])
    last = services.purchase_reverse(purchase=purchase, items=[{"sku": "BEANS", "quantity": 2}])
    purchase.refresh_from_db()
    assert (purchase.refunded_amount, purchase.points_reversed) == (Decimal("50.00"), 90)
    assert last.points == 90 - 30  # the mug earned 30
    assert assert_ledger_consistent(member).points_available == 0


def test_the_same_return_reference_takes_back_once(member, coffee_x3):
    purchase = buy(member, 50, items=BASKET)
    first = services.purchase_reverse(purchase=purchase, items=[{"sku": "BEANS", "quantity": 1}], reference="RET-1")
    again = services.purchase_reverse(purchase=purchase, items=[{"sku": "BEANS", "quantity": 1}], reference="RET-1")
    assert (again.amount, again.points, again.debt) == (first.amount, first.points, first.debt)
    assert LedgerEntry.objects.filter(member=member, kind=LedgerEntry.Kind.REVERSE).count() == 1
    assert fresh(member).points_available == 60


def test_an_amount_with_items_is_the_money_refunded(member, coffee_x3):
    purchase = buy(member, 50, items=BASKET)
    reversal = services.purchase_reverse(
        purchase=purchase, items=[{"sku": "BEANS", "quantity": 1}], amount=Decimal("8.00")
    )
    assert (reversal.amount, reversal.points) == (Decimal("8.00"), 30)


# --- receipts without a member ------------------------------------------------------------------


def receipt(partner, external_id="R-1", amount="40.00", **kwargs):
    return services.receipt_record(
        partner=partner, external_id=external_id, amount=Decimal(amount), currency="EUR", **kwargs
    )[0]


def test_a_receipt_claimed_by_a_member_who_enrolled_later_earns_then_once(program, partner, clock):
    slip = receipt(partner, items=[{"sku": "MUG", "quantity": 1, "unit_price": "40.00"}])
    clock.shift(timedelta(days=3))
    member = MemberFactory(program=program)
    purchase, created = services.receipt_claim(receipt=slip, member=member.number)
    assert created and (purchase.member, purchase.points, purchase.occurred_at) == (member, 40, slip.occurred_at)
    again, created_again = services.receipt_claim(receipt=slip, member=member)
    assert (again, created_again) == (purchase, False)
    other = MemberFactory(program=program)
    with pytest.raises(DomainError) as taken:
        services.receipt_claim(receipt=slip, member=other)
    assert (taken.value.code, taken.value.status) == ("receipt_claimed", 409)
    assert assert_ledger_consistent(member).points_available == 40
    assert Purchase.objects.count() == 1


def test_a_receipt_past_its_window_cannot_be_claimed(program, partner, member, clock):
    slip = receipt(partner)
    clock.shift(timedelta(days=31))
    with pytest.raises(DomainError) as late:
        services.receipt_claim(receipt=slip, member=member)
    assert late.value.code == "receipt_expired"
    assert not Purchase.objects.exists()


def test_a_receipt_can_be_claimed_with_a_card(partner, member):
    card = services.card_issue(member=member)
    purchase, _ = services.receipt_claim(receipt=receipt(partner), member=None, card=card.number)
    assert purchase.member == member and purchase.card == card


def test_receipts_share_external_ids_with_purchases_and_are_refused_when_off(program, partner, member):
    buy(member, 10, partner=partner, external_id="ORD-9")
    with pytest.raises(DomainError) as used:
        receipt(partner, external_id="ORD-9")
    assert used.value.code == "duplicate_external_id"
    first = receipt(partner, external_id="R-2")
    assert receipt(partner, external_id="R-2") == first
    Program.objects.filter(pk=program.pk).update(receipt_claim_days=0)
    partner.program.refresh_from_db()
    with pytest.raises(DomainError) as off:
        receipt(partner, external_id="R-3")
    assert off.value.code == "receipts_off"


def test_a_receipt_dated_outside_the_back_dating_window_is_refused(partner):
    with pytest.raises(DomainError) as old:
        receipt(partner, occurred_at=timezone.now() - timedelta(days=40))
    assert old.value.code == "invalid_date"
