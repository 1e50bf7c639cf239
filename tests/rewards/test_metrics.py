"""Redemptions per reward kind and donations per cause, against a hand-computed February."""

from decimal import Decimal

from members import services as members_services
from rewards import services as rewards_services
from rewards.metrics import charity_by_cause, redemptions_by_kind
from rewards.models import Cause, Reward
from tests.conftest import at, enroll, on

FEB, MAR = at(2026, 2, 1, 0), at(2026, 3, 1, 0)


def test_redemptions_and_donations_of_the_period(program, scope_of):
    trees = Cause.objects.create(program=program, name="Trees")
    Cause.objects.create(program=program, name="Water")
    voucher = Reward.objects.create(
        program=program, kind=Reward.Kind.FIXED_DISCOUNT, title="10 off", points_cost=100, value=Decimal("10")
    )
    donation = Reward.objects.create(
        program=program, kind=Reward.Kind.CHARITY, title="Plant a tree", points_cost=50, value=Decimal("5"), cause=trees
    )
    m1, m2 = enroll(program, at(2026, 1, 2)), enroll(program, at(2026, 1, 2))
    for m in (m1, m2):
        on(at(2026, 1, 3), members_services.points_grant, member=m, points=500, reason="Start")
    on(at(2026, 1, 20), rewards_services.reward_redeem, member=m1, reward=donation)  # January: outside
    on(at(2026, 2, 3), rewards_services.reward_redeem, member=m1, reward=voucher)
    on(at(2026, 2, 4), rewards_services.reward_redeem, member=m1, reward=donation)
    cancelled = on(at(2026, 2, 5), rewards_services.reward_redeem, member=m2, reward=donation)
    on(at(2026, 2, 6), rewards_services.redemption_cancel, redemption=cancelled)
    on(at(2026, 2, 7), rewards_services.surprise_grant, member=m2, reward=voucher, message="Thank you")

    scope = scope_of(program, FEB, MAR)
    kinds = {row.kind: row for row in redemptions_by_kind(scope=scope)}
    causes = [(c.name, c.donations, c.points, c.value) for c in charity_by_cause(scope=scope)]

    assert len(kinds) == len(Reward.Kind.choices)
    fixed, charity = kinds[Reward.Kind.FIXED_DISCOUNT], kinds[Reward.Kind.CHARITY]
    assert (fixed.redeemed, fixed.surprises, fixed.points, fixed.value) == (1, 1, 100, Decimal("20.00"))
    assert (charity.redeemed, charity.surprises, charity.points, charity.value) == (1, 0, 50, Decimal("5.00"))
    assert kinds[Reward.Kind.EXPERIENCE].redeemed == 0
    assert causes == [("Trees", 1, 50, Decimal("5.00")), ("Water", 0, 0, Decimal("0.00"))]

    empty = scope_of(program, at(2025, 1, 1, 0), at(2025, 2, 1, 0))
    assert all((r.redeemed, r.surprises, r.points) == (0, 0, 0) for r in redemptions_by_kind(scope=empty))
    assert [c.donations for c in charity_by_cause(scope=empty)] == [0, 0]
