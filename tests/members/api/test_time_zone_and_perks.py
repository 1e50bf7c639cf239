"""Partner API: the member's time zone on enroll and update, and the paid-plan perks on member reads
and voucher validation."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from members import services
from members.models import Member, MembershipPlan
from rewards import services as rewards_services
from tests.conftest import MemberFactory
from tests.rewards.conftest import RewardFactory

pytestmark = pytest.mark.django_db
NO_PERKS = {"free_shipping": False, "early_access": False}


def test_enroll_and_update_take_a_time_zone(api, program):
    enrolled = api.post(
        "/api/v1/members", {"email": "kiri@example.com", "time_zone": "Pacific/Auckland"}, format="json"
    )
    assert enrolled.status_code == 201, enrolled.content
    assert enrolled.json()["time_zone"] == "Pacific/Auckland"
    number = enrolled.json()["number"]
    unknown = api.patch(f"/api/v1/members/{number}", {"time_zone": "Pacific/Atlantis"}, format="json")
    assert unknown.status_code == 400
    assert "Europe/Bucharest" in unknown.json()["error"]["fields"]["time_zone"][0]
    moved = api.patch(f"/api/v1/members/{number}", {"time_zone": "Europe/Bucharest"}, format="json")
    assert moved.status_code == 200 and moved.json()["time_zone"] == "Europe/Bucharest"
    cleared = api.patch(f"/api/v1/members/{number}", {"time_zone": ""}, format="json")
    assert cleared.json()["time_zone"] == ""
    bad_enroll = api.post("/api/v1/members", {"email": "x@example.com", "time_zone": "localtime"}, format="json")
    assert bad_enroll.status_code == 400 and not Member.objects.filter(email="x@example.com").exists()


@pytest.fixture
def plus(program):
    return MembershipPlan.objects.create(
        program=program, name="Plus", fee=Decimal("49"), free_shipping=True, early_access=True
    )


def test_member_reads_return_the_perks_of_a_paid_plan(api, program, plus):
    paid, waiting = MemberFactory(program=program), MemberFactory(program=program)
    services.plan_subscribe(member=paid, plan=plus, paid_by="shop", payment_reference="PAY-1")
    services.plan_subscribe(member=waiting, plan=plus, paid_by="shop")
    assert api.get(f"/api/v1/members/{paid.number}").json()["perks"] == {"free_shipping": True, "early_access": True}
    assert api.get(f"/api/v1/members/{waiting.number}").json()["perks"] == NO_PERKS
    found = api.get("/api/v1/members", {"email": paid.email}).json()["results"]
    assert [m["perks"] for m in found] == [{"free_shipping": True, "early_access": True}]


def test_the_member_lookup_reads_perks_without_a_query_per_member(api, program, plus):
    for i, phone in enumerate(["+40721000001", "+40721000002", "+40721000002", "+40721000002"]):
        member = MemberFactory(program=program, phone=phone)
        services.plan_subscribe(member=member, plan=plus, paid_by="shop", payment_reference=f"P{i}")
    api.get("/api/v1/members", {"phone": "+40721000001"})  # warms the key cache
    with CaptureQueriesContext(connection) as one:
        assert api.get("/api/v1/members", {"phone": "+40721000001"}).json()["count"] == 1
    with CaptureQueriesContext(connection) as three:
        assert api.get("/api/v1/members", {"phone": "+40721000002"}).json()["count"] == 3
    assert len(three) == len(one)


def test_voucher_validation_returns_the_members_perks(api, program, plus):
    member = MemberFactory(program=program)
    services.points_grant(member=member, points=2000, reason="test")
    reward = RewardFactory(program=program, points_cost=1000, value=Decimal("10.00"))
    code = rewards_services.reward_redeem(member=member, reward=reward).voucher.code
    assert api.get(f"/api/v1/vouchers/{code}").json()["perks"] == NO_PERKS
    services.plan_subscribe(member=member, plan=plus, paid_by="shop", payment_reference="PAY-2")
    assert api.get(f"/api/v1/vouchers/{code}").json()["perks"] == {"free_shipping": True, "early_access": True}


def test_early_access_rewards_open_to_plan_members_before_their_date(api, program, plus):
    soon = timezone.now() + timedelta(days=3)
    early = RewardFactory(program=program, points_cost=100, starts_at=soon, early_access=True)
    plain = RewardFactory(program=program, points_cost=100, starts_at=soon)
    insider, outsider = MemberFactory(program=program), MemberFactory(program=program)
    for m in (insider, outsider):
        services.points_grant(member=m, points=1000, reason="test")
    services.plan_subscribe(member=insider, plan=plus, paid_by="shop", payment_reference="PAY-3")

    def redeem(member, reward):
        return api.post("/api/v1/redemptions", {"member": member.number, "reward": reward.pk}, format="json")

    assert redeem(insider, early).status_code == 201
    assert redeem(outsider, early).json()["error"]["code"] == "not_yet_available"
    assert redeem(insider, plain).json()["error"]["code"] == "not_yet_available"  # not an early-access reward
    catalog = {r["id"]: r for r in api.get("/api/v1/rewards", {"member": insider.number}).json()["results"]}
    assert catalog[early.pk]["can_redeem"] is True
