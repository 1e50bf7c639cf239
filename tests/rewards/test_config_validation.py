"""Staff cannot put a reward, a surprise rule or a challenge in a state that breaks the program."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from rewards.models import Challenge, Reward, SurpriseRule
from tests.config_forms import admin_add_form, errors_text

from .conftest import RewardFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"value": "-50"}, "cannot be negative"),
        ({"points_cost": "0"}, "A reward in the catalog costs at least 1 point"),
        ({"value": "0"}, "A fixed-amount discount needs its amount"),
        ({"min_order_value": "-1"}, "cannot be negative"),
        ({"voucher_valid_days": "0"}, "A voucher stays valid at least 1 day"),
    ],
)
def test_the_admin_refuses_a_reward_that_breaks_the_catalog(admin_user, program, changes, message):
    reward = Reward(program=program, kind="fixed_discount", title_en="5 EUR off", points_cost=100, value=Decimal("5"))

    form = admin_add_form(admin_user, reward, **changes)

    assert not form.is_valid() and message in errors_text(form)
    assert not Reward.objects.exists()
    assert admin_add_form(admin_user, reward).is_valid()


def test_a_free_reward_may_exist_out_of_the_catalog_for_surprises(admin_user, program):
    reward = Reward(program=program, kind="free_product", title_en="Mug", points_cost=0, is_active=False)
    assert admin_add_form(admin_user, reward).is_valid()


def test_a_surprise_rule_needs_n_of_at_least_one_except_for_enrollment(admin_user, program):
    reward = RewardFactory(program=program)
    rule = SurpriseRule(program=program, name="10th", trigger="nth_purchase", n=0, reward=reward)
    form = admin_add_form(admin_user, rule)
    assert not form.is_valid() and "N must be at least 1" in errors_text(form)
    rule.trigger = "enrollment"
    assert admin_add_form(admin_user, rule).is_valid()


def test_a_challenge_target_and_the_database_checks(program):
    now = timezone.now()
    with pytest.raises(IntegrityError), transaction.atomic():
        Challenge.objects.create(
            program=program,
            title="x",
            metric="purchases",
            target=0,
            starts_at=now,
            ends_at=now + timedelta(1),
            points=5,
        )
    with pytest.raises(IntegrityError), transaction.atomic():
        RewardFactory(program=program, value=Decimal("-50"))
    with pytest.raises(IntegrityError), transaction.atomic():
        RewardFactory(program=program, points_cost=0)
