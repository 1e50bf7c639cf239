"""A refund after the points were spent leaves a debt; each such refund opens a review case."""

import pytest

from members import review, services
from members.models import LedgerEntry, ReviewCase
from tests.conftest import client_for

from .conftest import assert_ledger_consistent, record

pytestmark = pytest.mark.django_db


def test_a_refund_after_redemption_opens_a_debt_case(member, clock, admin_user):
    purchase = record(member, 100, external_id="ORD-100")
    services.points_spend(member=member, points=80, reason="Coffee machine")
    (entry,) = services.purchase_reverse(purchase=purchase, reason="Returned").entries
    member = assert_ledger_consistent(member)
    assert member.points_debt == 80
    case = ReviewCase.objects.get(kind=ReviewCase.Kind.DEBT)
    assert (case.member, case.purchase, case.points, case.status) == (member, purchase, 0, "open")
    assert case.details["debt"] == 80 and case.reference == f"members.ledgerentry:{entry.pk}"

    # Approving only records that staff looked: a debt case holds no points.
    review.review_approve(case=case, decided_by=admin_user, note="Genuine return")
    assert assert_ledger_consistent(member).points_debt == 80
    assert LedgerEntry.objects.filter(member=member).count() == 3  # earn, redeem, reverse


def test_a_refund_covered_by_the_balance_opens_no_case(member, clock):
    purchase = record(member, 100, external_id="ORD-100")
    services.purchase_reverse(purchase=purchase)
    assert not ReviewCase.objects.exists()


def test_the_api_refund_opens_the_case_too(member, partner, clock):
    api = client_for(partner)
    purchase = record(member, 100, partner=partner, external_id="ORD-7")
    services.points_spend(member=member, points=100, reason="Gift")
    response = api.post(f"/api/v1/transactions/{purchase.pk}/reverse", {"amount": "50.00"}, format="json")
    assert response.status_code == 200 and response.json()["debt"] == 50
    assert ReviewCase.objects.get(kind="debt").details["debt"] == 50
