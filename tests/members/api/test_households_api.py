"""The partner API and households: the balance and the member lookup show the household's pooled
points (fresh when another member's balance changes; a lookup page costs one query for all its
households), and a redemption may draw on the pool (`from_household`, or the program's default)."""

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from members import services
from members.models import Member, Program, Tier
from tests.conftest import MemberFactory, TierFactory
from tests.rewards.conftest import RewardFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def household(program, member):
    Program.objects.filter(pk=program.pk).update(household_max_members=3)
    program.refresh_from_db()
    ion = MemberFactory(program=program)
    home = services.household_create(member=Member.objects.get(pk=member.pk), name="Pop family")
    invitation = services.household_invite(member=Member.objects.get(pk=member.pk), invitee=ion.number)
    services.household_invitation_accept(invitation=invitation, member=ion)
    services.points_grant(member=member, points=100, reason="test")
    services.points_grant(member=ion, points=250, reason="test")
    return home, ion


def test_the_balance_shows_the_pool_and_is_fresh_when_another_member_spends(api, member, household):
    home, ion = household
    first = api.get(f"/api/v1/members/{member.number}/balance").json()
    assert first["household"] == {"id": home.pk, "name": "Pop family", "available": 350, "members": 2}
    services.points_spend(member=Member.objects.get(pk=ion.pk), points=50, reason="test", reference="t:1")
    # The member's own row did not change: the pool still names the cached answer.
    assert api.get(f"/api/v1/members/{member.number}/balance").json()["household"]["available"] == 300


def test_a_member_without_a_household_has_none_and_no_extra_statement(api, program, member):
    api.get(f"/api/v1/members/{member.number}/balance")
    with CaptureQueriesContext(connection) as queries:
        body = api.get(f"/api/v1/members/{member.number}/balance").json()
    assert body["household"] is None
    assert len(queries.captured_queries) == 1


def test_the_lookup_and_member_read_show_the_household(api, member, household):
    home, ion = household
    found = api.get("/api/v1/members", {"email": member.email}).json()["results"][0]
    assert found["household"] == {"id": home.pk, "name": "Pop family", "available": 350, "members": 2}
    assert api.get(f"/api/v1/members/{ion.number}").json()["household"]["available"] == 350


def test_a_partner_redemption_draws_on_the_pool_when_asked_or_by_default(api, program, member, household):
    home, ion = household
    reward = RewardFactory(program=program, points_cost=300)
    body = {"member": member.number, "reward": reward.pk}
    refused = api.post("/api/v1/redemptions", body, format="json", HTTP_IDEMPOTENCY_KEY="r-1")
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "insufficient_points"
    pooled = api.post(
        "/api/v1/redemptions", {**body, "from_household": True}, format="json", HTTP_IDEMPOTENCY_KEY="r-2"
    )
    assert pooled.status_code == 201, pooled.content
    assert pooled.json()["household"] == home.pk and pooled.json()["balance"]["available"] == 0
    assert Member.objects.get(pk=ion.pk).points_available == 50
    services.points_grant(member=ion, points=250, reason="test")
    Program.objects.filter(pk=program.pk).update(household_pool_default=True)
    by_default = api.post("/api/v1/redemptions", body, format="json", HTTP_IDEMPOTENCY_KEY="r-3")
    assert by_default.status_code == 201 and by_default.json()["household"] == home.pk
    bad = api.post(
        "/api/v1/redemptions", {**body, "from_household": "maybe"}, format="json", HTTP_IDEMPOTENCY_KEY="r-4"
    )
    assert bad.status_code == 400


def test_a_household_members_cached_balance_costs_one_more_statement(api, member, household):
    api.get(f"/api/v1/members/{member.number}/balance")
    with CaptureQueriesContext(connection) as queries:
        api.get(f"/api/v1/members/{member.number}/balance")
    assert len(queries.captured_queries) == 2  # the member row, then the household's pool


def test_in_household_tier_mode_the_balance_shows_progress_by_the_combined_metric(api, program, member, household):
    Program.objects.filter(pk=program.pk).update(household_tier_mode=Program.HouseholdTierMode.HOUSEHOLD)
    base = TierFactory(program=program, name="Base", level=0, metric=Tier.Metric.POINTS)
    TierFactory(program=program, name="Gold", level=1, threshold=Decimal("1000"), metric=Tier.Metric.POINTS)
    Member.objects.filter(pk=member.pk).update(tier=base)
    body = api.get(f"/api/v1/members/{member.number}/balance").json()
    # 100 granted to the member, 250 to the other one: the household's 350 is what counts.
    assert body["next_tier"]["name"] == "Gold" and body["next_tier"]["value"] == "350.00"
