"""Partner input that could mint points or break answers (issue 16): line items against the amount,
bounded purchase dates, ceilings on amounts and points, one Unicode form for external ids."""

import unicodedata
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from members.models import EarningRule, LedgerEntry, Member, PointLot, Program, Purchase
from tests.conftest import purchase_body

pytestmark = pytest.mark.django_db

PURCHASE, SIMULATE = "/api/v1/transactions", "/api/v1/transactions/simulate"


def refused(response, status: int, code: str, field: str) -> dict:
    assert response.status_code == status, response.content
    error = response.json()["error"]
    assert error["code"] == code, error
    assert field in error["fields"], error
    return error


def nothing_earned(member) -> None:
    assert not Purchase.objects.filter(member=member).exists()
    assert not LedgerEntry.objects.filter(member=member, kind=LedgerEntry.Kind.EARN).exists()


def enrolled_days_ago(member, days: int) -> None:
    Member.objects.filter(pk=member.pk).update(enrolled_at=timezone.now() - timedelta(days=days))


# --- line items ------------------------------------------------------------------------------------


@pytest.mark.parametrize("url", [PURCHASE, SIMULATE])
def test_items_worth_more_than_the_amount_are_refused_and_earn_nothing(api, member, url):
    EarningRule.objects.create(
        program=member.program, name="Coffee x3", kind=EarningRule.Kind.CATEGORY, category="coffee", multiplier=3
    )
    # The exploit: 1.00 paid, a 5,000.00 basket of coffee declared; it earned 10,001 points.
    body = purchase_body(member, amount="1.00", items=[{"category": "coffee", "quantity": 50, "unit_price": "100.00"}])
    error = refused(api.post(url, body, format="json"), 400, "items_mismatch", "items")
    assert "5000.00" in error["message"] and "1.00" in error["message"]
    nothing_earned(member)


def test_items_worth_less_than_the_amount_are_refused(api, member):
    body = purchase_body(member, amount="100.00", items=[{"category": "home", "quantity": 1, "unit_price": "60.00"}])
    refused(api.post(PURCHASE, body, format="json"), 400, "items_mismatch", "items")
    nothing_earned(member)


def test_lines_may_differ_from_the_amount_by_a_cent_per_line(api, member):
    items = [{"category": "home", "unit_price": "10.00"}, {"category": "home", "unit_price": "20.00"}]
    ok = api.post(PURCHASE, purchase_body(member, amount="30.02", items=items), format="json")
    assert ok.status_code == 201, ok.content
    over = api.post(PURCHASE, purchase_body(member, external_id="ORD-2", amount="30.03", items=items), format="json")
    refused(over, 400, "items_mismatch", "items")


def test_shipping_tax_and_discount_lines_count_in_the_sum_but_only_products_earn(api, member):
    EarningRule.objects.create(
        program=member.program, name="Coffee x3", kind=EarningRule.Kind.CATEGORY, category="coffee", multiplier=3
    )
    items = [
        {"kind": "product", "sku": "BEANS", "category": "coffee", "quantity": 2, "unit_price": "30.00"},
        {"sku": "MUG", "category": "home", "quantity": 1, "unit_price": "30.00"},  # kind defaults to product
        {"kind": "shipping", "unit_price": "5.00"},
        {"kind": "tax", "unit_price": "15.00"},
        {"kind": "discount", "unit_price": "-10.00"},
    ]
    quote = api.post(SIMULATE, purchase_body(member, amount="100.00", items=items), format="json")
    response = api.post(PURCHASE, purchase_body(member, amount="100.00", items=items), format="json")
    assert response.status_code == 201, response.content
    result = response.json()
    # Products 90 less the 10 discount: 80 earn at 1 point; the coffee's share of it (60 x 80/90) earns
    # 2 more points per euro: 106.67, rounded down. Shipping and tax earn nothing.
    assert [(line["kind"], line["points"]) for line in result["breakdown"]] == [("base", 80), ("category", 106)]
    assert result["points"] == 186 == quote.json()["points"]
    assert quote.json()["eligible_amount"] == "80.00"
    stored = Purchase.objects.get(pk=result["id"]).items
    assert [item["kind"] for item in stored] == ["product", "product", "shipping", "tax", "discount"]


@pytest.mark.parametrize(
    "item",
    [
        {"kind": "discount", "unit_price": "5.00"},  # a discount adds nothing to the order
        {"kind": "product", "unit_price": "-5.00"},  # only discounts are negative
        {"kind": "shipping", "unit_price": "-5.00"},
    ],
)
def test_a_line_with_the_wrong_sign_for_its_kind_is_refused(api, member, item):
    items = [{"category": "home", "unit_price": "100.00"}, item]
    response = api.post(PURCHASE, purchase_body(member, amount="100.00", items=items), format="json")
    refused(response, 400, "invalid_items", "items")
    nothing_earned(member)


def test_an_unknown_item_kind_is_a_field_error(api, member):
    items = [{"kind": "gift", "unit_price": "100.00"}]
    response = api.post(PURCHASE, purchase_body(member, amount="100.00", items=items), format="json")
    refused(response, 400, "validation_error", "items")


# --- purchase dates ----------------------------------------------------------------------------------


@pytest.mark.parametrize("url", [PURCHASE, SIMULATE])
@pytest.mark.parametrize(
    ("when", "says"),
    [
        (lambda now: "1900-01-01T00:00:00Z", "before the member enrolled"),
        (lambda now: (now - timedelta(hours=2)).isoformat(), "before the member enrolled"),
        (lambda now: (now + timedelta(hours=1)).isoformat(), "in the future"),
    ],
)
def test_a_purchase_dated_before_enrolment_or_in_the_future_is_refused(api, member, url, when, says):
    response = api.post(url, purchase_body(member, occurred_at=when(timezone.now())), format="json")
    error = refused(response, 400, "invalid_date", "occurred_at")
    assert says in error["message"]
    nothing_earned(member)


def test_a_purchase_older_than_the_back_dating_window_is_refused(api, member):
    enrolled_days_ago(member, 400)
    Program.objects.filter(pk=member.program_id).update(backdate_days=10)
    old = (timezone.now() - timedelta(days=11)).isoformat()
    error = refused(
        api.post(PURCHASE, purchase_body(member, occurred_at=old), format="json"), 400, "invalid_date", "occurred_at"
    )
    assert "more than 10 days ago" in error["message"]
    nothing_earned(member)
    recent = (timezone.now() - timedelta(days=9)).isoformat()
    assert api.post(PURCHASE, purchase_body(member, occurred_at=recent), format="json").status_code == 201


def test_a_few_minutes_of_clock_skew_are_accepted(api, member):
    soon = (timezone.now() + timedelta(minutes=2)).isoformat()
    assert api.post(PURCHASE, purchase_body(member, occurred_at=soon), format="json").status_code == 201


def test_new_programs_allow_thirty_days_of_back_dating(api, member):
    enrolled_days_ago(member, 400)
    assert Program.objects.get(pk=member.program_id).backdate_days == 30
    body = purchase_body(member, occurred_at=(timezone.now() - timedelta(days=31)).isoformat())
    refused(api.post(PURCHASE, body, format="json"), 400, "invalid_date", "occurred_at")


def test_back_dating_never_skips_the_return_window(api, member):
    enrolled_days_ago(member, 400)
    Program.objects.filter(pk=member.program_id).update(pending_days=14)
    occurred = timezone.now() - timedelta(days=20)
    quote = api.post(SIMULATE, purchase_body(member, occurred_at=occurred.isoformat()), format="json").json()
    before = timezone.now()
    result = api.post(PURCHASE, purchase_body(member, occurred_at=occurred.isoformat()), format="json").json()
    assert (result["status"], quote["status"]) == ("pending", "pending")
    assert result["balance"] == {"available": 0, "pending": 100}
    available_at = parse_datetime(result["available_at"])
    assert available_at >= before + timedelta(days=14)
    assert PointLot.objects.get(member=member).available_at == available_at
    assert parse_datetime(result["occurred_at"]) == occurred  # the date given is kept for reports


# --- ceilings -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("url", "amount"), [(PURCHASE, "1200000000.00"), (SIMULATE, "9999999999.99")])
def test_an_amount_over_the_program_maximum_is_refused(api, member, url, amount):
    response = api.post(url, purchase_body(member, amount=amount), format="json")
    error = refused(response, 400, "amount_too_large", "amount")
    assert "1000000.00" in error["message"]
    nothing_earned(member)


def test_an_amount_past_the_money_format_is_a_field_error(api, member):
    response = api.post(PURCHASE, purchase_body(member, amount="99999999999.99"), format="json")
    refused(response, 400, "validation_error", "amount")


@pytest.mark.parametrize("url", [PURCHASE, SIMULATE])
def test_a_purchase_earning_more_than_the_per_purchase_ceiling_is_refused(api, member, url):
    Program.objects.filter(pk=member.program_id).update(max_purchase_points=500)
    EarningRule.objects.create(program=member.program, name="Triple", kind=EarningRule.Kind.PROMOTION, multiplier=3)
    error = refused(
        api.post(url, purchase_body(member, amount="200.00"), format="json"), 400, "points_ceiling", "amount"
    )
    assert "600" in error["message"] and "500" in error["message"]
    nothing_earned(member)
    assert api.post(url, purchase_body(member, amount="150.00"), format="json").status_code in (200, 201)


def test_a_purchase_past_the_member_daily_ceiling_is_refused(api, member):
    Program.objects.filter(pk=member.program_id).update(max_member_daily_points=150)
    assert api.post(PURCHASE, purchase_body(member, external_id="A", amount="100.00"), format="json").status_code == 201
    simulated = api.post(SIMULATE, purchase_body(member, external_id="B", amount="60.00"), format="json")
    refused(simulated, 400, "daily_points_ceiling", "member")
    response = api.post(PURCHASE, purchase_body(member, external_id="B", amount="60.00"), format="json")
    refused(response, 400, "daily_points_ceiling", "member")
    assert list(Purchase.objects.filter(member=member).values_list("external_id", flat=True)) == ["A"]
    assert api.post(PURCHASE, purchase_body(member, external_id="C", amount="50.00"), format="json").status_code == 201


# --- external ids -----------------------------------------------------------------------------------------


def test_nfc_and_nfd_forms_of_an_external_id_are_one_order(api, member):
    nfc, nfd = unicodedata.normalize("NFC", "Café-1"), unicodedata.normalize("NFD", "Café-1")
    assert nfc != nfd
    first = api.post(PURCHASE, purchase_body(member, external_id=nfc), format="json")
    again = api.post(PURCHASE, purchase_body(member, external_id=nfd), format="json")
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["id"] == first.json()["id"]
    assert Purchase.objects.filter(member=member).count() == 1
    assert Member.objects.get(pk=member.pk).points_available == 100


def test_nfc_and_nfd_forms_of_an_engagement_reference_earn_once(api, member):
    EarningRule.objects.create(
        program=member.program,
        name="Review",
        kind=EarningRule.Kind.ENGAGEMENT,
        action=EarningRule.Action.REVIEW,
        points=50,
    )
    for form in ("NFC", "NFD"):
        reference = unicodedata.normalize(form, "Revue-été")
        api.post("/api/v1/events", {"member": member.number, "type": "review", "reference": reference}, format="json")
    assert Member.objects.get(pk=member.pk).points_available == 50
    assert LedgerEntry.objects.filter(member=member, kind=LedgerEntry.Kind.ENGAGEMENT).count() == 1


def test_a_service_caller_gets_the_same_normalisation(member):
    from members import services

    for form in ("NFC", "NFD"):
        services.purchase_record(
            member=member,
            partner=None,
            external_id=unicodedata.normalize(form, "Ünïcode-7"),
            amount=Decimal("10"),
            currency="EUR",
        )
    assert Purchase.objects.filter(member=member).count() == 1


@pytest.mark.parametrize(
    "item",
    [{"category": "home", "price": "10"}, {"unit_price": "NaN"}, {"unit_price": "10", "quantity": 0}, "10.00"],
)
def test_a_service_caller_with_malformed_items_gets_a_refusal_not_a_crash(member, item):
    from core.errors import DomainError
    from members import services

    with pytest.raises(DomainError) as refusal:
        services.purchase_record(
            member=member, partner=None, external_id="S-1", amount=Decimal("10"), currency="EUR", items=[item]
        )
    assert refusal.value.code == "invalid_items" and "Line 1" in refusal.value.message
    nothing_earned(member)
