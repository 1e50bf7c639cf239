"""The earn and balance answers are written as plain dicts (members.api.render) and the balance
figures by one hand-written SELECT (members.selectors._standing_row): both must give exactly what
the documented serializers and the ORM selectors give, for every shape of answer."""

import json
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone
from rest_framework.renderers import JSONRenderer

from members import selectors, services
from members.api import render
from members.api import serializers as s
from members.api.selectors import member_balance
from members.api.transactions import _purchase_data
from members.models import Member, Program, Purchase, Tier
from tests.conftest import MemberFactory, TierFactory, purchase_body


def _same(plain: dict, serializer) -> None:
    assert JSONRenderer().render(plain) == JSONRenderer().render(serializer.data)


def test_an_earning_purchase_renders_as_its_serializer(api, program, member):
    response = api.post("/api/v1/transactions", purchase_body(member, amount="84.55"), format="json")
    assert response.status_code == 201
    purchase = Purchase.objects.get(pk=response.json()["id"])
    data = _purchase_data(purchase)
    _same(render.purchase_result(data), s.PurchaseResultSerializer(data))
    assert response.json()["amount"] == "84.55"


def test_a_held_purchase_renders_as_its_serializer(api, program, member):
    program.member_daily_earns = 1
    program.save()
    api.post("/api/v1/transactions", purchase_body(member, external_id="H-1"), format="json")
    response = api.post("/api/v1/transactions", purchase_body(member, external_id="H-2"), format="json")
    assert response.json()["status"] == "held", response.content
    data = _purchase_data(Purchase.objects.get(pk=response.json()["id"]))
    assert data["hold"] is not None
    _same(render.purchase_result(data), s.PurchaseResultSerializer(data))


@pytest.mark.parametrize("metric", [Tier.Metric.SPEND, Tier.Metric.POINTS, Tier.Metric.REFERRALS])
def test_the_balance_answer_matches_the_orm_selectors_for_each_metric(api, program, metric):
    program.expiry_policy = Program.Expiry.FIXED
    program.pending_days = 0
    program.referral_referrer_points = 40
    program.save()
    TierFactory(program=program, name="Base", level=0)
    TierFactory(program=program, name="Next", level=1, metric=metric, threshold=Decimal("1000.00"))
    member = MemberFactory(program=program)
    friend = MemberFactory(program=program, referral_code=member.referral_code)
    for i, amount in enumerate(["10.10", "20.20", "0.35"]):
        services.purchase_record(
            member=member, partner=None, external_id=f"P{i}", amount=Decimal(amount), currency="EUR"
        )
    services.purchase_record(member=friend, partner=None, external_id="F1", amount=Decimal("50"), currency="EUR")
    member = Member.objects.select_related("program", "tier").get(pk=member.pk)
    now = timezone.now()
    standing = selectors.member_standing(member=member, days=(30, 60, 90), now=now)
    progress = selectors.tier_progress(member=member, now=now)
    assert standing.progress == progress and progress.value > 0
    assert standing.expiring == selectors.points_expiring_within(member=member, days=(30, 60, 90), now=now)
    data = member_balance(member=member)
    _same(render.balance(data), s.BalanceSerializer(data))
    answer = api.get(f"/api/v1/members/{member.number}/balance").json()
    assert answer == json.loads(JSONRenderer().render(s.BalanceSerializer(data).data))


def test_points_expiring_soon_show_in_the_balance(api, program, member):
    program.expiry_policy = Program.Expiry.FIXED
    program.save()
    services.points_grant(member=member, points=70, reason="test")
    lot = member.lots.order_by("-pk").first()
    lot.expires_at = timezone.now() + timedelta(days=45)
    lot.save(update_fields=["expires_at"])
    member = Member.objects.select_related("program", "tier").get(pk=member.pk)
    expected = selectors.points_expiring_within(member=member, days=(30, 60, 90))
    assert expected[60] >= 70
    answer = api.get(f"/api/v1/members/{member.number}/balance").json()["expiring"]
    assert answer == {f"within_{d}_days": expected[d] for d in (30, 60, 90)}
