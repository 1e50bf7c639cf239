"""The member page sells points only when the program has a payment page: how many, the price, a
confirmation that places an order and sends the member to pay; the points come with the payment."""

from decimal import Decimal

from django.urls import reverse

from members import services
from members.models import Member, PointsPrice, PointsSale
from members.services.currency import exchange_rate_set


def test_without_a_payment_page_the_member_is_told_to_buy_at_a_shop(member_client, program):
    PointsPrice.objects.create(program=program, price=Decimal("1.00"), block=100)
    page = member_client.get(reverse("members:buy_points"))
    assert "Ask at one of our shops" in page.content.decode()
    member_client.post(reverse("members:buy_points"), {"points": 100, "confirm": "1"})
    assert not PointsSale.objects.exists()


def test_a_member_orders_points_confirms_pays_and_gets_them(member_client, member, program):
    PointsPrice.objects.create(
        program=program, price=Decimal("1.50"), block=100, payment_url="https://pay.example.com/c"
    )
    assert reverse("members:buy_points") in member_client.get(reverse("members:membership")).content.decode()
    quoted = member_client.post(reverse("members:buy_points"), {"points": 300})
    assert "300 points cost 4.50" in quoted.content.decode()
    refused = member_client.post(reverse("members:buy_points"), {"points": 150})
    assert "blocks of 100" in refused.content.decode()
    confirmed = member_client.post(reverse("members:buy_points"), {"points": 300, "confirm": "1"})
    order = PointsSale.objects.get()
    before = Member.objects.get(pk=member.pk).points_available
    assert confirmed.status_code == 302
    assert confirmed["Location"] == f"https://pay.example.com/c?order={order.order}&amount=4.50&currency=EUR"
    assert order.status == "pending"
    services.points_order_settle(order=order.order, payment_reference="PSP-9", amount=Decimal("4.50"))
    assert Member.objects.get(pk=member.pk).points_available == before + 300
    history = member_client.get(reverse("members:history")).content.decode()
    assert "Points bought" in history


def test_the_history_shows_what_a_purchase_in_another_currency_cost(member_client, member, program, partner):
    exchange_rate_set(program=program, currency="USD", valid_from=member.enrolled_at.date(), rate=Decimal("0.9"))
    services.purchase_record(member=member, partner=partner, external_id="U-1", amount=Decimal("50"), currency="USD")
    history = member_client.get(reverse("members:history")).content.decode()
    assert "(paid 50.00 USD)" in history
