"""A partner's ledger of a member (GET /members/{n}/transactions) shows every entry it caused,
returned points included, so its totals reconcile."""

import importlib
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from members import services
from members.models import LedgerEntry, Program
from rewards import services as rewards_services
from tests.rewards.conftest import RewardFactory

pytestmark = pytest.mark.django_db


def _ledger(api, member) -> dict:
    response = api.get(f"/api/v1/members/{member.number}/transactions")
    assert response.status_code == 200, response.content
    return response.json()


def test_cancelled_redemptions_and_burns_show_their_returned_points(api, other_api, member, program):
    Program.objects.filter(pk=program.pk).update(burn_rate=Decimal("0.01"), burn_min_order=Decimal("0"))
    services.points_grant(member=member, points=2000, reason="Start")
    reward = RewardFactory(program=program, points_cost=300)
    redemption = api.post("/api/v1/redemptions", {"member": member.number, "reward": reward.pk}, format="json")
    assert redemption.status_code == 201, redemption.content
    cancel = api.post(f"/api/v1/redemptions/{redemption.json()['id']}/cancel", {}, format="json")
    assert cancel.status_code == 200, cancel.content
    cancelled = api.post(
        "/api/v1/burn/quote", {"member": member.number, "order_total": "50.00", "points": 400}, format="json"
    )
    assert api.post(f"/api/v1/burn/{cancelled.json()['id']}/cancel").status_code == 200
    api.post("/api/v1/burn/quote", {"member": member.number, "order_total": "50.00", "points": 200}, format="json")
    assert rewards_services.burn_holds_lapse(now=timezone.now() + timedelta(hours=1)) == 1

    ledger = _ledger(api, member)
    kinds = sorted((e["kind"], e["points"]) for e in ledger["results"])
    assert kinds == [
        ("redeem", -400),
        ("redeem", -300),
        ("redeem", -200),
        ("refund", 200),
        ("refund", 300),
        ("refund", 400),
    ]
    assert ledger["totals"] == {"count": 6, "points_in": 900, "points_out": -900, "net": 0}
    # Another partner sees none of it (and the staff grant is nobody's).
    assert _ledger(other_api, member)["totals"]["count"] == 0
    assert LedgerEntry.objects.filter(member=member, kind=LedgerEntry.Kind.REFUND, partner__isnull=True).count() == 0


def test_refunds_recorded_before_are_given_their_partner_by_the_migration(api, member, program):
    from django.apps import apps

    backfill = importlib.import_module("members.migrations.0011_refunds_reversals").refunds_to_their_partner
    services.points_grant(member=member, points=500, reason="Start")
    reward = RewardFactory(program=program, points_cost=300)
    redemption = api.post("/api/v1/redemptions", {"member": member.number, "reward": reward.pk}, format="json")
    api.post(f"/api/v1/redemptions/{redemption.json()['id']}/cancel", {}, format="json")
    # As the refund was written before: without a partner, so the partner saw only the spend.
    LedgerEntry.objects.filter(kind=LedgerEntry.Kind.REFUND).update(partner=None)
    assert _ledger(api, member)["totals"]["net"] == -300

    backfill(apps, None)

    assert _ledger(api, member)["totals"] == {"count": 2, "points_in": 300, "points_out": -300, "net": 0}
