"""Staff cannot save a configuration that breaks the program: every bad value is a form error in the
admin (the model's clean() and CheckConstraints), and the database refuses it too."""

from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction

from members.models import EarningRule, MembershipPlan, Partner, Program, Tier
from tests.config_forms import admin_add_form, errors_text
from tests.conftest import ProgramFactory

pytestmark = pytest.mark.django_db


def _valid(program):
    return {
        "tier": Tier(program=program, name="Gold", level=3, threshold=Decimal("500"), earn_multiplier=Decimal("1.5")),
        "partner": Partner(program=program, name="Kiosk", earn_multiplier=Decimal("1")),
        "plan": MembershipPlan(program=program, name="Plus", fee=Decimal("9.99"), duration_days=365),
        "rule": EarningRule(program=program, name="Coffee x2", kind="category", category="coffee", multiplier=2),
        "program": Program(name="Other", slug="other", earn_rate=Decimal("1"), burn_rate=Decimal("0.01")),
    }


@pytest.mark.parametrize(
    ("which", "changes", "message"),
    [
        ("tier", {"threshold": "-5"}, "A tier's threshold cannot be negative."),
        ("tier", {"earn_multiplier": "-1"}, "A tier's earn multiplier must be at least 1"),
        ("tier", {"earn_multiplier": "0.5"}, "A tier's earn multiplier must be at least 1"),
        ("partner", {"earn_multiplier": "-2"}, "A partner's earn multiplier cannot be negative"),
        ("plan", {"fee": "-10"}, "A plan's fee cannot be negative."),
        ("plan", {"duration_days": "0"}, "A plan lasts at least one day."),
        ("plan", {"earn_multiplier": "0"}, "A plan's earn multiplier must be at least 1"),
        ("rule", {"min_amount": "-1"}, "A minimum amount cannot be negative."),
        ("program", {"burn_rate": "0"}, "The value of one point at checkout must be above zero."),
        ("program", {"burn_min_order": "-5"}, "cannot be negative"),
        ("program", {"expiry_policy": "fixed", "expiry_months": "0"}, "need at least one month"),
    ],
)
def test_the_admin_refuses_a_value_that_breaks_the_program(admin_user, program, which, changes, message):
    instance = _valid(program)[which]
    model = type(instance)
    before = model.objects.count()

    form = admin_add_form(admin_user, instance, **changes)

    assert not form.is_valid()
    assert message in errors_text(form)
    assert model.objects.count() == before
    # The same values without the change are accepted: the error is about the change.
    assert admin_add_form(admin_user, _valid(program)[which]).is_valid(), admin_add_form(admin_user, instance).errors


def test_a_tier_threshold_out_of_order_with_the_other_tiers_is_refused(admin_user, program):
    Tier.objects.create(program=program, name="Silver", level=1, threshold=Decimal("100"))
    Tier.objects.create(program=program, name="Platinum", level=5, threshold=Decimal("1000"))

    lower = admin_add_form(admin_user, Tier(program=program, name="Gold", level=3, threshold=Decimal("50")))
    higher = admin_add_form(admin_user, Tier(program=program, name="Gold", level=3, threshold=Decimal("5000")))

    assert "A lower tier needs more than this" in errors_text(lower)
    assert "A higher tier needs less than this" in errors_text(higher)


def test_the_database_refuses_what_the_admin_refuses(program):
    for row in (
        Tier(program=program, name="Bad", level=9, threshold=Decimal("-5")),
        Tier(program=program, name="Bad", level=9, earn_multiplier=Decimal("-1")),
        MembershipPlan(program=program, name="Bad", fee=Decimal("-1")),
        Partner(program=program, name="Bad", earn_multiplier=Decimal("-1")),
        EarningRule(program=program, name="Bad", kind="bonus", points=0),
    ):
        with pytest.raises(IntegrityError), transaction.atomic():
            row.save()
    with pytest.raises(IntegrityError), transaction.atomic():
        ProgramFactory(burn_rate=Decimal("0"))
