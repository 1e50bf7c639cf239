"""The demo catalog: every reward kind, challenges, badges, rules and activity; seeding twice adds nothing."""

import pytest

from members import demo as members_demo
from rewards import demo
from rewards.models import Badge, Challenge, Redemption, Reward, SurpriseRule, Voucher


@pytest.mark.django_db
def test_seed_builds_a_rich_catalog_once():
    members_demo.seed()
    lines = demo.seed()
    program = members_demo.demo_program()

    assert set(program.rewards.values_list("kind", flat=True)) == set(Reward.Kind.values)
    assert program.rewards.get(title_en="10% off your next order").title_ro == "10% reducere la următoarea comandă"
    assert Challenge.objects.filter(program=program).count() >= 2
    assert Badge.objects.filter(program=program).count() >= 2
    assert SurpriseRule.objects.filter(program=program).count() == 3
    assert Redemption.objects.filter(program=program, source="redeem").count() >= 10
    assert Voucher.objects.filter(program=program, status="consumed").exists()
    assert Voucher.objects.filter(program=program, status="available", imported=True).exists()
    assert Redemption.objects.filter(program=program, source="surprise").count() == 3
    assert lines[0].startswith("Rewards: ")

    rewards, redemptions = Reward.objects.count(), Redemption.objects.count()
    assert demo.seed() == [f"Rewards catalog already present ({rewards} rewards)."]
    assert (Reward.objects.count(), Redemption.objects.count()) == (rewards, redemptions)
