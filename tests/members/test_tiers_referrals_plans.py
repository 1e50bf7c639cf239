"""Tiers (upgrade, downgrade after notice, floor, progress), referrals and paid plans."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from core.errors import DomainError
from members import services
from members.models import Event, MembershipPlan, Program, Subscription, Tier, TierChange
from members.selectors import tier_progress
from tests.conftest import MemberFactory, TierFactory

from .conftest import assert_ledger_consistent, buy, fresh

pytestmark = pytest.mark.django_db


@pytest.fixture
def tiers(program):
    return [
        TierFactory(program=program, name=name, level=level, threshold=Decimal(threshold))
        for level, (name, threshold) in enumerate([("Base", 0), ("Silver", 500), ("Gold", 1500)])
    ]


def test_upgrade_at_once_and_progress(program, tiers, clock):
    member = MemberFactory(program=program)
    assert member.tier == tiers[0]
    buy(member, 300)
    progress = tier_progress(member=fresh(member))
    assert (progress.next, progress.needed, progress.percent) == (tiers[1], Decimal(200), 60)
    buy(member, 1300)  # 1600: straight to gold
    member = fresh(member)
    assert member.tier == tiers[2]
    assert tier_progress(member=member).next is None
    change = member.tier_changes.first()
    assert (change.from_tier, change.to_tier, change.reason) == (tiers[0], tiers[2], TierChange.Reason.UPGRADE)
    assert Event.objects.filter(type="tier.changed", member=member, payload__to="Gold").exists()


def test_downgrade_one_level_after_the_notice_period(program, tiers, clock):
    program.tier_notice_days = 30
    program.save()
    member = MemberFactory(program=program)
    buy(member, 1600)
    clock.shift(timedelta(days=370))  # the purchase has left the rolling 12-month window
    assert services.tiers_review() == {"warned": 1, "downgraded": 0, "upgraded": 0}
    assert Event.objects.filter(type="tier.expiring", member=member).count() == 1
    clock.shift(timedelta(days=29))
    assert services.tiers_review() == {"warned": 0, "downgraded": 0, "upgraded": 0}
    clock.shift(timedelta(days=1))
    assert services.tiers_review()["downgraded"] == 1
    assert fresh(member).tier == tiers[1]  # one level at a time, not straight to Base
    # Silver is reviewed the same way: a new notice, then the next step down.
    assert services.tiers_review()["warned"] == 1
    clock.shift(timedelta(days=30))
    services.tiers_review()
    assert fresh(member).tier == tiers[0]
    assert services.tiers_review() == {"warned": 0, "downgraded": 0, "upgraded": 0}


def test_qualifying_again_during_the_notice_cancels_the_downgrade(program, tiers, clock):
    member = MemberFactory(program=program)
    buy(member, 600)
    clock.shift(timedelta(days=370))
    services.tiers_review()
    assert fresh(member).tier_downgrade_warned_at is not None
    buy(member, 600)
    member = fresh(member)
    assert member.tier == tiers[1] and member.tier_downgrade_warned_at is None
    clock.shift(timedelta(days=60))
    assert services.tiers_review() == {"warned": 0, "downgraded": 0, "upgraded": 0}


def test_manual_tier_is_a_floor_until_its_date(program, tiers, clock, admin_user):
    member = MemberFactory(program=program)
    until = timezone.localdate() + timedelta(days=90)
    services.tier_assign(member=member, tier=tiers[2], until=until, created_by=admin_user, note="VIP guest")
    assert fresh(member).tier == tiers[2]
    assert fresh(member).tier_changes.first().reason == TierChange.Reason.MANUAL
    for _ in range(3):
        clock.shift(timedelta(days=29))
        services.tiers_review()
        assert fresh(member).tier == tiers[2]
    clock.shift(timedelta(days=4))  # past the floor date: warned, then downgraded after the notice
    assert services.tiers_review()["warned"] == 1
    clock.shift(timedelta(days=30))
    services.tiers_review()
    assert fresh(member).tier == tiers[1]


def test_tier_from_another_program_is_refused(program, tiers, admin_user):
    member = MemberFactory(program=program)
    with pytest.raises(DomainError):
        services.tier_assign(member=member, tier=TierFactory(), until=None, created_by=admin_user)


def test_referral_tier_metric(program, clock):
    program.referral_mode = Program.Referral.SINGLE
    program.save()
    TierFactory(program=program, level=0)
    ambassador = TierFactory(program=program, level=1, metric=Tier.Metric.REFERRALS, threshold=2)
    referrer = MemberFactory(program=program)
    for _ in range(2):
        buy(MemberFactory(program=program, referral_code=referrer.referral_code), 10)
    assert fresh(referrer).tier == ambassador


def test_single_level_referral_rewards_each_first_qualifying_purchase(program):
    program.referral_mode = Program.Referral.SINGLE
    program.referral_referrer_points = 100
    program.referral_referee_points = 50
    program.referral_min_purchase = Decimal("20")
    program.save()
    referrer = MemberFactory(program=program)
    friend = MemberFactory(program=program, referral_code=referrer.referral_code.lower())
    assert friend.referred_by == referrer
    buy(friend, 19)  # below the minimum: not yet
    assert fresh(referrer).points_available == 0
    buy(friend, 20)
    buy(friend, 30)  # only the first qualifying purchase counts
    assert assert_ledger_consistent(referrer).points_available == 100
    assert assert_ledger_consistent(friend).points_available == 19 + 20 + 30 + 50


def test_stepped_referral_reward_grows_with_the_count(program):
    program.referral_mode = Program.Referral.STEPPED
    program.referral_steps = [[1, 100], [3, 200], [5, 400]]
    program.save()
    referrer = MemberFactory(program=program)
    rewards = []
    for _ in range(6):
        before = fresh(referrer).points_available
        buy(MemberFactory(program=program, referral_code=referrer.referral_code), 1)
        rewards.append(fresh(referrer).points_available - before)
    assert rewards == [100, 100, 200, 200, 400, 400]
    assert_ledger_consistent(referrer)


def test_unknown_referral_code_is_refused(program):
    with pytest.raises(DomainError) as refused:
        MemberFactory(program=program, referral_code="NOPE1234")
    assert refused.value.code == "invalid_referral_code"


@pytest.fixture
def plan(program):
    return MembershipPlan.objects.create(
        program=program, name="Plus", fee=Decimal("49"), duration_days=30, earn_multiplier=Decimal("2")
    )


def test_paid_plan_multiplies_earning_renews_and_expires_after_cancel(program, plan, member, clock):
    sub = services.plan_subscribe(member=member, plan=plan, paid_by="staff:1", payment_reference="DESK-1")
    buy(member, 10)
    assert fresh(member).points_available == 20
    with pytest.raises(DomainError):
        services.plan_subscribe(member=member, plan=plan, paid_by="staff:1")
    clock.shift(timedelta(days=31))
    assert services.subscriptions_expire() == {"renewed": 1, "expired": 0}
    assert Event.objects.filter(type="plan.renewed", member=member, payload__fee="49.00").exists()
    services.plan_cancel(subscription=sub)
    buy(member, 10)  # perks last until the end of the paid period
    assert fresh(member).points_available == 40
    clock.shift(timedelta(days=30))
    assert services.subscriptions_expire() == {"renewed": 0, "expired": 1}
    assert Subscription.objects.get(pk=sub.pk).status == Subscription.Status.EXPIRED
    buy(member, 10)
    assert fresh(member).points_available == 50
    # A new subscription is possible once the old one expired.
    services.plan_subscribe(member=member, plan=plan, paid_by="staff:1")


def test_one_time_plan_expires_and_can_be_renewed_before(program, member, clock):
    plan = MembershipPlan.objects.create(
        program=program, name="Once", fee=Decimal("9"), duration_days=10, recurring=False
    )
    sub = services.plan_subscribe(member=member, plan=plan, paid_by="api", payment_reference="PAY-1")
    clock.shift(timedelta(days=5))
    services.plan_renew(subscription=sub, paid_by="api")
    clock.shift(timedelta(days=10))
    assert services.subscriptions_expire() == {"renewed": 0, "expired": 0}
    clock.shift(timedelta(days=6))
    assert services.subscriptions_expire() == {"renewed": 0, "expired": 1}
    with pytest.raises(DomainError):
        services.plan_renew(subscription=sub, paid_by="api")


def test_a_subscription_gives_no_perks_until_paid_and_lapses_unpaid(program, plan, member, clock):
    sub = services.plan_subscribe(member=member, plan=plan, paid_by="member page")
    assert sub.status == Subscription.Status.PENDING and services.active_plan(member) is None
    buy(member, 10)
    assert fresh(member).points_available == 10  # no x2 before the payment
    with pytest.raises(DomainError) as refused:
        services.plan_renew(subscription=sub, paid_by="api")  # renewing is not paying the first fee
    assert refused.value.code == "payment_pending"
    clock.shift(services.plans.PAYMENT_WAIT + timedelta(seconds=1))
    assert services.subscriptions_expire() == {"renewed": 0, "expired": 1}
    with pytest.raises(DomainError) as lapsed:
        services.plan_payment_record(subscription=sub, reference="LATE-1", paid_by="api")
    assert lapsed.value.code == "expired"


def test_recording_a_payment_starts_the_period_and_is_idempotent(program, plan, member, clock):
    sub = services.plan_subscribe(member=member, plan=plan, paid_by="member page")
    clock.shift(timedelta(days=3))
    paid = services.plan_payment_record(subscription=sub, reference="PSP-9", paid_by="partner:Shop")
    assert paid.status == Subscription.Status.ACTIVE and paid.paid_at == timezone.now()
    assert paid.expires_at == timezone.now() + timedelta(days=plan.duration_days)
    assert services.active_plan(member) == plan
    again = services.plan_payment_record(subscription=sub, reference="PSP-9", paid_by="partner:Shop")
    assert again.expires_at == paid.expires_at  # a retried webhook adds nothing
    assert Event.objects.filter(type="plan.subscribed", member=member).count() == 1
    with pytest.raises(DomainError) as other:
        services.plan_payment_record(subscription=sub, reference="PSP-10", paid_by="partner:Shop")
    assert other.value.code == "already_paid"
