"""BOLA: another program's members and another partner's transactions are a 404 on every endpoint,
exactly like things that do not exist."""

from decimal import Decimal

import pytest

from members import services
from members.models import LedgerEntry, Purchase
from tests.conftest import PartnerFactory, purchase_body


@pytest.fixture
def foreign_purchase(foreign_member):
    partner = PartnerFactory(program=foreign_member.program)
    purchase, _ = services.purchase_record(
        member=foreign_member, partner=partner, external_id="F-1", amount=Decimal("10"), currency="EUR"
    )
    return purchase


def _member_requests(number: str) -> list[tuple[str, str, dict | None]]:
    return [
        ("get", f"/api/v1/members/{number}", None),
        ("patch", f"/api/v1/members/{number}", {"first_name": "Mallory"}),
        ("get", f"/api/v1/members/{number}/balance", None),
        ("get", f"/api/v1/members/{number}/transactions", None),
        ("get", f"/api/v1/members/{number}/vouchers", None),
        ("get", f"/api/v1/members/{number}/subscriptions", None),
        ("post", "/api/v1/transactions", {"member": number, "external_id": "X", "amount": "10.00", "currency": "EUR"}),
        (
            "post",
            "/api/v1/transactions/simulate",
            {"member": number, "external_id": "X", "amount": "10.00", "currency": "EUR"},
        ),
        ("post", "/api/v1/events", {"member": number, "type": "review", "reference": "r"}),
        ("get", f"/api/v1/rewards?member={number}", None),
        ("post", "/api/v1/redemptions", {"member": number, "reward": 1}),
        ("post", "/api/v1/burn/quote", {"member": number, "order_total": "50.00"}),
        ("post", "/api/v1/tickets", {"member": number, "subject": "s", "body": "b"}),
    ]


def _call(client, method, url, body):
    return getattr(client, method)(url, body, format="json") if body is not None else getattr(client, method)(url)


def test_members_of_another_program_look_missing(api, foreign_member):
    for method, url, body in _member_requests(foreign_member.number):
        missing_body = body and {k: "999999999999" if k == "member" else v for k, v in body.items()}
        unknown = _call(api, method, url.replace(foreign_member.number, "999999999999"), missing_body)
        response = _call(api, method, url, body)
        assert response.status_code == 404, (method, url, response.content)
        assert response.json() == unknown.json(), url
    foreign_member.refresh_from_db()
    assert foreign_member.first_name != "Mallory"
    assert not Purchase.objects.filter(member=foreign_member).exists()


def test_another_partners_transaction_cannot_be_reversed(api, other_api, member):
    purchase = other_api.post("/api/v1/transactions", purchase_body(member), format="json").json()
    response = api.post(f"/api/v1/transactions/{purchase['id']}/reverse", {}, format="json")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
    assert Purchase.objects.get(pk=purchase["id"]).refunded_amount == 0


def test_another_programs_transaction_cannot_be_reversed(api, foreign_purchase):
    response = api.post(f"/api/v1/transactions/{foreign_purchase.pk}/reverse", {}, format="json")
    assert response.status_code == 404
    assert not LedgerEntry.objects.filter(kind=LedgerEntry.Kind.REVERSE).exists()
