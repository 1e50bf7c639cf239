"""Purchases in other currencies: converted at the rate in force on their date, points in the
program's currency, refunds at the purchase's own rate, one rate lookup and no more."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from core.errors import DomainError
from members.models import LedgerEntry, Purchase
from members.services.currency import exchange_rate_set
from tests.conftest import purchase_body


@pytest.fixture
def usd(program):
    today = timezone.localdate()
    exchange_rate_set(program=program, currency="usd", valid_from=today - timedelta(days=10), rate=Decimal("0.80"))
    exchange_rate_set(program=program, currency="USD", valid_from=today, rate=Decimal("0.90"))


def test_a_purchase_in_dollars_earns_in_euros_at_the_rate_of_its_date(api, member, usd):
    member.enrolled_at = timezone.now() - timedelta(days=40)
    member.save(update_fields=["enrolled_at"])
    body = purchase_body(
        member,
        currency="usd",
        amount="100.00",
        items=[{"sku": "A", "quantity": 2, "unit_price": "30.00"}, {"sku": "B", "quantity": 1, "unit_price": "40.00"}],
    )
    response = api.post("/api/v1/transactions", body, format="json")
    assert response.status_code == 201, response.content
    result = response.json()
    assert (result["amount"], result["currency"], result["points"]) == ("90.00", "EUR", 90)
    assert (result["original_amount"], result["original_currency"], result["exchange_rate"]) == (
        "100.00",
        "USD",
        "0.90000000",
    )
    purchase = Purchase.objects.get(pk=result["id"])
    assert purchase.items[0]["unit_price"] == "27.00" and purchase.items[0]["original_unit_price"] == "30.00"
    # A purchase dated before today's rate takes the rate then in force.
    older = purchase_body(
        member,
        external_id="ORD-2",
        currency="USD",
        amount="100.00",
        occurred_at=(timezone.now() - timedelta(days=2)).isoformat(),
    )
    assert api.post("/api/v1/transactions", older, format="json").json()["points"] == 80
    # Sent again, it is the same purchase (the amount compared is the one sent), whatever the rate now.
    again = api.post("/api/v1/transactions", body, format="json")
    assert again.status_code == 200 and again.json()["id"] == result["id"]


def test_a_currency_without_a_rate_or_without_one_yet_is_a_clear_400(api, member, usd):
    unknown = api.post("/api/v1/transactions", purchase_body(member, currency="JPY"), format="json")
    assert unknown.status_code == 400 and unknown.json()["error"]["code"] == "unknown_currency"
    early = purchase_body(
        member, currency="USD", occurred_at=(timezone.now() - timedelta(days=20)).isoformat(), external_id="E-1"
    )
    member.enrolled_at = timezone.now() - timedelta(days=40)
    member.save(update_fields=["enrolled_at"])
    too_early = api.post("/api/v1/transactions", early, format="json")
    assert too_early.status_code == 400 and too_early.json()["error"]["code"] == "no_rate"
    assert not Purchase.objects.exists()


def test_a_refund_is_converted_at_the_purchases_rate_not_todays(api, program, member, usd):
    purchase = api.post("/api/v1/transactions", purchase_body(member, currency="USD"), format="json").json()
    exchange_rate_set(program=program, currency="USD", valid_from=timezone.localdate(), rate=Decimal("2.00"))
    part = api.post(f"/api/v1/transactions/{purchase['id']}/reverse", {"amount": "30.00"}, format="json")
    assert part.status_code == 200, part.content
    assert (part.json()["amount"], part.json()["points_reversed"]) == ("27.00", 27)
    in_euros = api.post(
        f"/api/v1/transactions/{purchase['id']}/reverse", {"amount": "9.00", "currency": "EUR"}, format="json"
    )
    assert in_euros.json()["amount"] == "9.00"
    # What is left in dollars (70 - 10) refunds all that is left, to the cent.
    rest = api.post(f"/api/v1/transactions/{purchase['id']}/reverse", {"amount": "60.00"}, format="json").json()
    assert rest["refunded_amount"] == "90.00"
    assert sum(LedgerEntry.objects.filter(member=member).values_list("points", flat=True)) == 0
    wrong = api.post(
        f"/api/v1/transactions/{purchase['id']}/reverse", {"amount": "1", "currency": "RON"}, format="json"
    )
    assert wrong.status_code == 400 and wrong.json()["error"]["code"] == "currency_mismatch"


def test_the_earn_path_adds_one_rate_lookup_in_another_currency_and_none_in_the_programs(api, member, usd):
    def statements(**overrides) -> int:
        with CaptureQueriesContext(connection) as queries:
            assert (
                api.post("/api/v1/transactions", purchase_body(member, **overrides), format="json").status_code == 201
            )
        return len(queries)

    statements(external_id="WARM")  # caches (program, rules) filled
    euros = statements(external_id="EUR-1")
    dollars = statements(external_id="USD-1", currency="USD")
    assert dollars == euros + 1


def test_a_rate_for_the_programs_own_currency_or_not_positive_is_refused(program):
    with pytest.raises(DomainError) as own:
        exchange_rate_set(program=program, currency="EUR", valid_from=date(2026, 1, 1), rate=Decimal("1"))
    assert own.value.code == "invalid_currency"
    with pytest.raises(DomainError) as zero:
        exchange_rate_set(program=program, currency="USD", valid_from=date(2026, 1, 1), rate=Decimal("0"))
    assert zero.value.code == "invalid_rate"
