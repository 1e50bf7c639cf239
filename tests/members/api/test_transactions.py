"""Purchases, simulation, reversals and engagement through the API."""

from decimal import Decimal

from members.models import EarningRule, LedgerEntry, Program, Purchase
from tests.conftest import MemberFactory, purchase_body


def test_a_purchase_earns_points_with_a_breakdown_and_the_new_balance(api, partner):
    Program.objects.filter(pk=partner.program_id).update(pending_days=14)
    EarningRule.objects.create(
        program=partner.program, name="Coffee x3", kind=EarningRule.Kind.CATEGORY, category="coffee", multiplier=3
    )
    member = MemberFactory(program=Program.objects.get(pk=partner.program_id))
    body = purchase_body(
        member,
        amount="50.00",
        items=[
            {"sku": "BEANS", "category": "coffee", "quantity": 2, "unit_price": "10.00"},
            {"sku": "MUG", "category": "home", "quantity": 1, "unit_price": "30.00"},
        ],
    )
    response = api.post("/api/v1/transactions", body, format="json")
    assert response.status_code == 201, response.content
    result = response.json()
    assert result["points"] == 90  # 50 base + 2 x 20 for coffee
    assert result["status"] == "pending"
    assert [line["kind"] for line in result["breakdown"]] == ["base", "category"]
    assert result["balance"] == {"available": 0, "pending": 90}
    assert result["amount"] == "50.00"
    purchase = Purchase.objects.get(pk=result["id"])
    assert purchase.partner == partner
    assert purchase.items[0]["unit_price"] == "10.00"


def test_the_same_external_id_never_earns_twice(api, member):
    first = api.post("/api/v1/transactions", purchase_body(member), format="json")
    again = api.post("/api/v1/transactions", purchase_body(member), format="json")
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["id"] == first.json()["id"]
    assert LedgerEntry.objects.filter(member=member, kind=LedgerEntry.Kind.EARN).count() == 1


def test_the_same_external_id_with_another_amount_is_a_conflict(api, member):
    api.post("/api/v1/transactions", purchase_body(member), format="json")
    response = api.post("/api/v1/transactions", purchase_body(member, amount="99.00"), format="json")
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "duplicate_external_id"


def test_external_ids_are_per_partner(api, other_api, member):
    assert api.post("/api/v1/transactions", purchase_body(member), format="json").status_code == 201
    assert other_api.post("/api/v1/transactions", purchase_body(member), format="json").status_code == 201


def test_a_purchase_in_a_currency_without_a_rate_is_refused(api, member):
    response = api.post("/api/v1/transactions", purchase_body(member, currency="USD"), format="json")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "unknown_currency"
    assert not Purchase.objects.exists()


def test_purchase_validation_errors_name_the_fields(api, member):
    response = api.post(
        "/api/v1/transactions",
        purchase_body(member, amount="-5", items=[{"quantity": 0, "unit_price": "x"}]),
        format="json",
    )
    assert response.status_code == 400
    fields = response.json()["error"]["fields"]
    assert set(fields) == {"amount", "items"}


def test_simulate_quotes_the_points_and_writes_nothing(api, member):
    quote = api.post("/api/v1/transactions/simulate", purchase_body(member, amount="42.00"), format="json")
    assert quote.status_code == 200
    assert quote.json()["points"] == 42
    assert not Purchase.objects.exists()
    assert not LedgerEntry.objects.filter(kind=LedgerEntry.Kind.EARN).exists()
    real = api.post("/api/v1/transactions", purchase_body(member, amount="42.00"), format="json").json()
    assert real["points"] == quote.json()["points"]
    assert real["breakdown"] == quote.json()["breakdown"]


def test_simulate_refuses_a_currency_without_a_rate(api, member):
    response = api.post("/api/v1/transactions/simulate", purchase_body(member, currency="RON"), format="json")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "unknown_currency"


def test_partial_then_full_reverse(api, member):
    purchase = api.post("/api/v1/transactions", purchase_body(member), format="json").json()
    partial = api.post(f"/api/v1/transactions/{purchase['id']}/reverse", {"amount": "25.00"}, format="json")
    assert partial.status_code == 200, partial.content
    assert partial.json()["points_reversed"] == 25
    assert partial.json()["balance"]["available"] == 75
    rest = api.post(f"/api/v1/transactions/{purchase['id']}/reverse", {}, format="json")
    assert rest.json()["amount"] == "75.00"
    assert rest.json()["refunded_amount"] == "100.00"
    assert rest.json()["points_reversed"] == 75
    assert rest.json()["balance"]["available"] == 0


def test_reversing_spent_points_reports_the_debt(api, member):
    from members import services

    purchase = api.post("/api/v1/transactions", purchase_body(member), format="json").json()
    services.points_spend(member=member, points=80, reason="reward")
    response = api.post(f"/api/v1/transactions/{purchase['id']}/reverse", {}, format="json").json()
    assert response["points_reversed"] == 100
    assert response["debt"] == 80
    assert response["balance"]["available"] == 0


def test_refunding_more_than_was_paid_is_refused(api, member):
    purchase = api.post("/api/v1/transactions", purchase_body(member), format="json").json()
    response = api.post(f"/api/v1/transactions/{purchase['id']}/reverse", {"amount": "100.01"}, format="json")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_amount"
    assert Purchase.objects.get(pk=purchase["id"]).refunded_amount == Decimal("0")


def test_engagement_earns_within_the_caps(api, member):
    EarningRule.objects.create(
        program=member.program,
        name="Review",
        kind=EarningRule.Kind.ENGAGEMENT,
        action=EarningRule.Action.REVIEW,
        points=50,
        daily_cap=1,
    )
    first = api.post("/api/v1/events", {"member": member.number, "type": "review", "reference": "R1"}, format="json")
    assert first.status_code == 200, first.content
    assert first.json()["points"] == 50
    assert first.json()["balance"]["available"] == 50
    capped = api.post("/api/v1/events", {"member": member.number, "type": "review", "reference": "R2"}, format="json")
    assert capped.json()["points"] == 0
    assert capped.json()["balance"]["available"] == 50


def test_an_unknown_engagement_type_is_refused(api, member):
    response = api.post("/api/v1/events", {"member": member.number, "type": "dance", "reference": "x"}, format="json")
    assert response.status_code == 400
    assert "type" in response.json()["error"]["fields"]


def test_a_refund_by_items_answers_the_points_they_earned(api, partner):
    EarningRule.objects.create(
        program=partner.program, name="Coffee x3", kind=EarningRule.Kind.CATEGORY, category="coffee", multiplier=3
    )
    member = MemberFactory(program=Program.objects.get(pk=partner.program_id))
    items = [
        {"sku": "BEANS", "category": "coffee", "quantity": 2, "unit_price": "10.00"},
        {"sku": "MUG", "category": "home", "quantity": 1, "unit_price": "30.00"},
    ]
    tx = api.post("/api/v1/transactions", purchase_body(member, amount="50.00", items=items), format="json").json()
    url = f"/api/v1/transactions/{tx['id']}/reverse"
    body = {"items": [{"sku": "BEANS", "quantity": 1}], "reference": "RET-1"}
    first = api.post(url, body, format="json")
    again = api.post(url, body, format="json")
    assert first.status_code == 200, first.content
    assert (first.json()["amount"], first.json()["points_reversed"]) == ("10.00", 30)
    assert again.json()["points_reversed"] == 30 and again.json()["balance"]["available"] == 60
    too_many = api.post(url, {"items": [{"sku": "BEANS", "quantity": 2}]}, format="json")
    assert (too_many.status_code, too_many.json()["error"]["code"]) == (400, "return_exceeds_purchase")


def test_a_receipt_recorded_without_a_member_is_claimed_later_and_earns(api, other_api, member):
    body = {"external_id": "TILL-7", "amount": "25.00", "currency": "EUR"}
    recorded = api.post("/api/v1/receipts", body, format="json")
    assert recorded.status_code == 201, recorded.content
    assert recorded.json()["member"] is None
    assert api.post("/api/v1/receipts", body, format="json").status_code == 200
    url = f"/api/v1/receipts/{recorded.json()['id']}/claim"
    assert other_api.post(url, {"member": member.number}, format="json").status_code == 404
    claimed = api.post(url, {"member": member.number}, format="json")
    assert claimed.status_code == 201 and claimed.json()["points"] == 25
    assert api.post(url, {"member": member.number}, format="json").status_code == 200
    assert api.get(f"/api/v1/members/{member.number}/balance").json()["available"] == 25
