"""The partner API says clearly when a purchase's points are held, and says it again on retries."""

import pytest
from django.contrib.auth import get_user_model

from members import review
from members.models import LedgerEntry, ReviewCase
from tests.conftest import MemberFactory, client_for, purchase_body

from .conftest import limits

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(partner):
    return client_for(partner)


@pytest.fixture
def staff(db):
    return get_user_model().objects.create_user("reviewer", is_staff=True)


def _post(api, member, external_id, key=None):
    headers = {"HTTP_IDEMPOTENCY_KEY": key} if key else {}
    return api.post(
        "/api/v1/transactions", purchase_body(member, external_id=external_id, amount="40.00"), format="json", **headers
    )


def test_a_held_purchase_is_answered_as_held_with_the_reason(api, program, clock):
    limits(program, member_daily_earns=1)
    member = MemberFactory(program=program)
    assert _post(api, member, "ORD-1").json()["status"] == "available"
    response = _post(api, member, "ORD-2", key="k-2")
    assert response.status_code == 201  # recorded
    body = response.json()
    assert (body["status"], body["points"]) == ("held", 0)
    assert body["hold"]["reason"] == "member_daily_earns"
    assert body["hold"]["points"] == 40 and body["hold"]["review"] == "open"
    assert "limit of 1 earning purchases a day" in body["hold"]["message"]
    assert body["breakdown"][0]["kind"] == "base"  # what it would earn
    assert body["balance"] == {"available": 40, "pending": 0}


def test_retries_of_a_held_purchase_get_the_same_answer(api, program, clock):
    limits(program, member_daily_earns=0)
    member = MemberFactory(program=program)
    first = _post(api, member, "ORD-1", key="k-1")
    replay = _post(api, member, "ORD-1", key="k-1")  # same Idempotency-Key: the stored answer
    assert (replay.status_code, replay.json()) == (first.status_code, first.json())
    repeat = _post(api, member, "ORD-1")  # same external_id without a key: the transaction as it stands
    assert repeat.status_code == 200
    assert repeat.json() == first.json()
    assert ReviewCase.objects.count() == 1
    assert not LedgerEntry.objects.filter(kind="earn").exists()


def test_after_the_review_the_purchase_shows_what_was_decided(api, program, staff, clock):
    limits(program, member_daily_earns=0)
    ana, bob = MemberFactory(program=program), MemberFactory(program=program)
    _post(api, ana, "ORD-A")
    _post(api, bob, "ORD-B")
    review.review_approve(case=ReviewCase.objects.get(member=ana), decided_by=staff, note="Known customer")
    review.review_reject(case=ReviewCase.objects.get(member=bob), decided_by=staff, note="Test card")
    approved, rejected = _post(api, ana, "ORD-A").json(), _post(api, bob, "ORD-B").json()
    assert (approved["status"], approved["points"], approved["hold"]) == ("available", 40, None)
    assert approved["balance"]["available"] == 40
    assert (rejected["status"], rejected["points"], rejected["hold"]["review"]) == ("rejected", 0, "rejected")


def test_the_schema_documents_the_held_answer(client):
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/json").json()
    result = schema["components"]["schemas"]["PurchaseResult"]
    assert "held" in schema["components"]["schemas"]["PurchaseResultStatusEnum"]["enum"]
    assert "member_daily_points" in schema["components"]["schemas"]["HoldReasonEnum"]["enum"]
    assert "hold" in result["properties"]
    examples = schema["paths"]["/api/v1/transactions"]["post"]["responses"]["201"]["content"]["application/json"]
    assert examples["examples"]["Held"]["value"]["status"] == "held"
