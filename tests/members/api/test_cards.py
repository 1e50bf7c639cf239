"""Loyalty cards through the partner API: issue, list, look up, earn by card, block and replace."""

import pytest

from members import services
from members.models import Card
from tests.conftest import purchase_body

pytestmark = pytest.mark.django_db

PRINTED = "60351100000000007"


def test_issue_a_virtual_and_a_printed_card_then_list_them(api, member):
    virtual = api.post(f"/api/v1/members/{member.number}/cards", {}, format="json")
    printed = api.post(f"/api/v1/members/{member.number}/cards", {"number": "6035 1100 0000 0000 7"}, format="json")
    assert (virtual.status_code, printed.status_code) == (201, 201), printed.content
    assert virtual.json()["kind"] == "virtual" and printed.json()["number"] == PRINTED
    listed = api.get(f"/api/v1/members/{member.number}/cards").json()
    assert len(listed["results"]) == 2
    assert {c["number"] for c in listed["results"]} == {virtual.json()["number"], PRINTED}


def test_a_mistyped_or_taken_number_is_refused_with_its_code(api, member):
    typo = api.post(f"/api/v1/members/{member.number}/cards", {"number": "60351100000000008"}, format="json")
    assert (typo.status_code, typo.json()["error"]["code"]) == (400, "invalid_card_number")
    api.post(f"/api/v1/members/{member.number}/cards", {"number": PRINTED}, format="json")
    taken = api.post(f"/api/v1/members/{member.number}/cards", {"number": PRINTED}, format="json")
    assert (taken.status_code, taken.json()["error"]["code"]) == (409, "card_number_taken")


def test_look_up_a_member_by_card_number(api, member):
    card = services.card_issue(member=member)
    found = api.get(f"/api/v1/cards/{card.number}")
    assert found.status_code == 200
    assert found.json()["member"]["number"] == member.number and found.json()["card"]["status"] == "active"
    assert api.get("/api/v1/cards/79927398713").status_code == 404
    typo = api.get("/api/v1/cards/79927398710")
    assert (typo.status_code, typo.json()["error"]["code"]) == (404, "invalid_card_number")


def test_a_card_of_another_program_is_not_found(foreign_api, member):
    card = services.card_issue(member=member)
    assert foreign_api.get(f"/api/v1/cards/{card.number}").status_code == 404
    assert foreign_api.post(f"/api/v1/cards/{card.number}/block", {"reason": "x"}, format="json").status_code == 404


def test_a_purchase_names_the_card_instead_of_the_member(api, member):
    card = services.card_issue(member=member)
    body = purchase_body(member, card=card.number)
    del body["member"]
    response = api.post("/api/v1/transactions", body, format="json")
    assert response.status_code == 201, response.content
    assert (response.json()["member"], response.json()["card"], response.json()["points"]) == (
        member.number,
        card.number,
        100,
    )
    simulated = api.post("/api/v1/transactions/simulate", {**body, "external_id": "ORD-2"}, format="json")
    assert simulated.status_code == 200 and simulated.json()["member"] == member.number


def test_a_purchase_without_member_or_card_is_a_400(api, member):
    body = purchase_body(member)
    del body["member"]
    response = api.post("/api/v1/transactions", body, format="json")
    assert response.status_code == 400 and "member" in response.json()["error"]["fields"]


def test_block_then_replace_a_lost_card_keeps_the_balance(api, member):
    card = services.card_issue(member=member)
    api.post("/api/v1/transactions", purchase_body(member, card=card.number), format="json")
    blocked = api.post(f"/api/v1/cards/{card.number}/block", {"reason": "Lost"}, format="json")
    assert blocked.status_code == 200 and blocked.json()["status"] == "blocked"
    refused = api.post(
        "/api/v1/transactions", purchase_body(member, card=card.number, external_id="ORD-2"), format="json"
    )
    assert (refused.status_code, refused.json()["error"]["code"]) == (409, "card_blocked")
    assert api.get(f"/api/v1/cards/{card.number}").json()["error"]["code"] == "card_blocked"

    new = api.post(f"/api/v1/cards/{card.number}/replace", {"reason": "Lost", "number": PRINTED}, format="json")
    assert new.status_code == 201 and new.json()["number"] == PRINTED
    old = api.get(f"/api/v1/cards/{card.number}")
    assert (old.status_code, old.json()["error"]["code"]) == (409, "card_replaced")
    earned = api.post("/api/v1/transactions", purchase_body(member, card=PRINTED, external_id="ORD-3"), format="json")
    assert earned.status_code == 201
    balance = api.get(f"/api/v1/members/{member.number}/balance").json()
    assert balance["available"] == 200  # 100 before the loss, 100 on the new card
    assert Card.objects.get(number=card.number).replaced_by.number == PRINTED


def test_a_replace_retried_with_its_idempotency_key_replays_the_same_new_card(api, member):
    card = services.card_issue(member=member)
    url = f"/api/v1/cards/{card.number}/replace"
    first = api.post(url, {"reason": "Lost"}, format="json", HTTP_IDEMPOTENCY_KEY="replace-1")
    again = api.post(url, {"reason": "Lost"}, format="json", HTTP_IDEMPOTENCY_KEY="replace-1")
    assert (first.status_code, again.status_code) == (201, 201)
    assert first.json()["number"] == again.json()["number"]
    assert Card.objects.filter(member=member).count() == 2
    without_key = api.post(url, {"reason": "Lost"}, format="json")
    assert (without_key.status_code, without_key.json()["error"]["code"]) == (409, "card_not_active")


def test_block_needs_a_reason(api, member):
    card = services.card_issue(member=member)
    response = api.post(f"/api/v1/cards/{card.number}/block", {}, format="json")
    assert response.status_code == 400 and "reason" in response.json()["error"]["fields"]
    assert Card.objects.get(pk=card.pk).status == Card.Status.ACTIVE
