"""Factories and helpers for rewards tests."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import factory
import pytest
import time_machine
from django.utils import timezone

from members import services as members_services
from members.models import Member
from members.selectors import ledger_mismatches
from rewards.models import Badge, Cause, Challenge, Reward, SurpriseRule
from tests.conftest import ProgramFactory


class RewardFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Reward

    program = factory.SubFactory(ProgramFactory)
    kind = Reward.Kind.FIXED_DISCOUNT
    title = factory.Sequence(lambda n: f"Reward {n}")
    points_cost = 100
    value = Decimal("5.00")


class CauseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Cause

    program = factory.SubFactory(ProgramFactory)
    name = factory.Sequence(lambda n: f"Cause {n}")


class BadgeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Badge

    program = factory.SubFactory(ProgramFactory)
    name = factory.Sequence(lambda n: f"Badge {n}")


class ChallengeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Challenge

    program = factory.SubFactory(ProgramFactory)
    title = factory.Sequence(lambda n: f"Challenge {n}")
    metric = Challenge.Metric.PURCHASES
    target = Decimal("3")
    starts_at = factory.LazyFunction(lambda: timezone.now() - timedelta(days=1))
    ends_at = factory.LazyFunction(lambda: timezone.now() + timedelta(days=30))
    points = 50


class SurpriseRuleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SurpriseRule

    program = factory.SelfAttribute("reward.program")
    name = factory.Sequence(lambda n: f"Rule {n}")
    trigger = SurpriseRule.Trigger.NTH_PURCHASE
    n = 3
    reward = factory.SubFactory(RewardFactory, points_cost=500)
    message = "Thank you!"


@pytest.fixture
def clock():
    """A travelling clock from a fixed Wednesday noon UTC; `clock.shift(timedelta(...))` moves it."""
    with time_machine.travel(datetime(2026, 3, 4, 12, 0, tzinfo=UTC), tick=False) as traveller:
        yield traveller


def give(member, points: int) -> Member:
    members_services.points_grant(member=member, points=points, reason="test")
    return fresh(member)


def fresh(member) -> Member:
    return Member.objects.select_related("program", "tier").get(pk=member.pk)


_purchases = iter(range(1, 10**9))


def buy(member, amount, *, partner=None, items=None, occurred_at=None):
    purchase, _ = members_services.purchase_record(
        member=member,
        partner=partner,
        external_id=f"R-{next(_purchases)}",
        amount=Decimal(str(amount)),
        currency=member.program.currency,
        items=items,
        occurred_at=occurred_at,
    )
    return purchase


def assert_ledger_consistent() -> None:
    """Cached balances equal the ledger and the lots, for every member."""
    assert ledger_mismatches() == []
