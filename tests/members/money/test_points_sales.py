"""Buying points: the price and its limits, the payment reference on the ledger entry, idempotent
sales, member page orders settled by the payment, refunds of the unspent part within the window."""

from datetime import timedelta
from decimal import Decimal

import pytest
import time_machine
from django.utils import timezone

from core.errors import DomainError
from members import services
from members.models import LedgerEntry, Member, PointsPrice, PointsSale


@pytest.fixture
def price(program):
    return PointsPrice.objects.create(
        program=program,
        price=Decimal("2.50"),
        block=100,
        min_points=100,
        max_points=1000,
        daily_limit=1500,
        yearly_limit=2000,
        refund_days=14,
    )


def _balance(member) -> int:
    return Member.objects.get(pk=member.pk).points_available


def test_a_partner_sells_points_at_the_programs_price_idempotently(api, member, price):
    url = f"/api/v1/members/{member.number}/points-purchases"
    sold = api.post(url, {"points": 400, "payment_reference": "TILL-1", "price": "10.00"}, format="json")
    assert sold.status_code == 201, sold.content
    body = sold.json()
    assert (body["price"], body["status"], body["balance"]["available"]) == ("10.00", "paid", 400)
    entry = LedgerEntry.objects.get(member=member, kind=LedgerEntry.Kind.BOUGHT)
    assert entry.reference == "payment:TILL-1" and entry.points == 400
    again = api.post(url, {"points": 400, "payment_reference": "TILL-1"}, format="json")
    assert again.status_code == 200 and again.json()["id"] == body["id"]
    other = api.post(url, {"points": 500, "payment_reference": "TILL-1"}, format="json")
    assert other.status_code == 409 and other.json()["error"]["code"] == "duplicate_payment_reference"
    wrong_price = api.post(url, {"points": 400, "payment_reference": "TILL-2", "price": "9.00"}, format="json")
    assert wrong_price.status_code == 400 and wrong_price.json()["error"]["code"] == "price_mismatch"
    assert _balance(member) == 400


@pytest.mark.parametrize(
    ("points", "code"),
    [(50, "invalid_points"), (1100, "invalid_points"), (150, "invalid_points")],
)
def test_points_outside_the_blocks_and_bounds_are_refused(member, price, points, code):
    with pytest.raises(DomainError) as refused:
        services.points_sell(member=member, points=points, payment_reference="P")
    assert refused.value.code == code


def test_the_daily_and_yearly_limits_count_what_the_member_bought(member, price):
    services.points_sell(member=member, points=1000, payment_reference="P-1")
    with pytest.raises(DomainError) as daily:
        services.points_sell(member=member, points=600, payment_reference="P-2")
    assert daily.value.code == "daily_limit"
    services.points_sell(member=member, points=500, payment_reference="P-3")
    with time_machine.travel(timezone.now() + timedelta(days=1)):
        if timezone.localdate().month == 1 and timezone.localdate().day == 1:
            pytest.skip("the day after is a new year")
        with pytest.raises(DomainError) as yearly:
            services.points_sell(member=member, points=600, payment_reference="P-4")
    assert yearly.value.code == "yearly_limit"


def test_a_program_without_a_price_sells_nothing(member):
    with pytest.raises(DomainError) as refused:
        services.points_sell(member=member, points=100, payment_reference="P")
    assert refused.value.code == "points_not_for_sale"


def test_a_refund_takes_back_only_the_unspent_points_within_the_window(api, partner, member, price):
    sale, _ = services.points_sell(member=member, points=400, payment_reference="P-1", partner=partner)
    services.points_spend(member=member, points=100, reason="Coffee", reference="r:1")
    refunded = api.post(f"/api/v1/points-purchases/{sale.pk}/refund", format="json")
    assert refunded.status_code == 200, refunded.content
    assert (refunded.json()["refunded_points"], refunded.json()["refunded_amount"]) == (300, "7.50")
    assert _balance(member) == 0
    assert api.post(f"/api/v1/points-purchases/{sale.pk}/refund", format="json").json()["refunded_points"] == 300
    late, _ = services.points_sell(member=member, points=100, payment_reference="P-2")
    with time_machine.travel(timezone.now() + timedelta(days=15)), pytest.raises(DomainError) as closed:
        services.points_sale_refund(sale=late)
    assert closed.value.code == "refund_window_closed"


def test_a_member_page_order_is_credited_when_the_payment_is_confirmed(member, price):
    with pytest.raises(DomainError) as no_page:
        services.points_order_place(member=member, points=200)
    assert no_page.value.code == "points_not_for_sale"
    price.payment_url = "https://pay.example.com/checkout"
    price.save()
    order = services.points_order_place(member=member, points=200)
    assert order.status == PointsSale.Status.PENDING and _balance(member) == 0
    with pytest.raises(DomainError) as short:
        services.points_order_settle(order=order.order, payment_reference="PSP-1", amount=Decimal("4.00"))
    assert short.value.code == "amount_mismatch"
    paid = services.points_order_settle(order=order.order, payment_reference="PSP-1", amount=Decimal("5.00"))
    services.points_order_settle(order=order.order, payment_reference="PSP-1", amount=Decimal("5.00"))
    assert paid.status == PointsSale.Status.PAID and _balance(member) == 200
