"""Admin: exchange rates by hand and by CSV, points prices, sales (refund, record a payment)."""

from datetime import date
from decimal import Decimal

import pytest
import tablib
from django.urls import reverse

from members import services
from members.models import ExchangeRate, Member, PointsPrice, PointsSale
from members.resources import ExchangeRateResource
from tests.conftest import run_action


@pytest.mark.parametrize("model", ["exchangerate", "pointsprice", "pointssale", "openingbalanceimport"])
def test_the_money_admin_pages_open(admin_client, program, model):
    assert admin_client.get(reverse(f"admin:members_{model}_changelist")).status_code == 200
    assert admin_client.get(reverse(f"admin:members_{model}_add")).status_code in (200, 403)


def test_rates_import_by_csv_and_a_bad_line_says_why(program):
    data = tablib.Dataset().load(
        f"program,currency,valid_from,rate\n{program.slug},usd,2026-01-01,0.92\n{program.slug},EUR,2026-01-01,1\n",
        format="csv",
    )
    result = ExchangeRateResource().import_data(data, dry_run=False, rollback_on_validation_errors=False)
    assert [row.number for row in result.invalid_rows] == [3]  # the header is line 1
    assert "own currency" in str(result.invalid_rows[0].error_dict)
    rate = ExchangeRate.objects.get()
    assert (rate.currency, rate.valid_from, rate.rate) == ("USD", date(2026, 1, 1), Decimal("0.92"))


def test_a_rate_for_the_programs_own_currency_is_refused_on_the_form(admin_client, program):
    response = admin_client.post(
        reverse("admin:members_exchangerate_add"),
        {"program": program.pk, "currency": "EUR", "valid_from": "2026-01-01", "rate": "1"},
    )
    assert response.status_code == 200 and "own currency" in response.content.decode()
    assert not ExchangeRate.objects.exists()


def test_staff_record_a_pending_orders_payment_and_refund_a_sale(admin_client, program, member):
    PointsPrice.objects.create(program=program, price=Decimal("1.00"), block=100, payment_url="https://pay.example.com")
    order = services.points_order_place(member=member, points=300)
    run_action(
        admin_client,
        "members_pointssale",
        "record_payment",
        [order],
        apply="1",
        payment_reference="PSP-77",
        amount="3.00",
    )
    order.refresh_from_db()
    assert (order.status, order.payment_reference) == ("paid", "PSP-77")
    before = Member.objects.get(pk=member.pk).points_available
    run_action(admin_client, "members_pointssale", "refund", [order])
    assert PointsSale.objects.get(pk=order.pk).refunded_points == 300
    assert Member.objects.get(pk=member.pk).points_available == before - 300
