"""Staff cannot save a segment rule that matches nobody, an offer that gives nothing, or a budget
that issues nothing."""

from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction
from django.urls import reverse

from campaigns.models import Campaign, Offer, Segment, SegmentRule
from tests.config_forms import admin_add_form, errors_text

from .conftest import OfferFactory, RuleFactory, SegmentFactory

pytestmark = pytest.mark.django_db


def test_a_segment_rule_with_min_above_max_is_a_form_error_and_stores_nothing(admin_client, program):
    page = admin_client.post(
        reverse("admin:campaigns_segment_add"),
        {
            "name": "Big balances",
            "program": program.pk,
            "kind": "dynamic",
            "combine": "any",
            "rules-TOTAL_FORMS": "1",
            "rules-INITIAL_FORMS": "0",
            "rules-0-group": "1",
            "rules-0-kind": "balance",
            "rules-0-minimum": "500",
            "rules-0-maximum": "10",
        },
    )
    assert page.status_code == 200
    assert "The maximum cannot be below the minimum" in page.content.decode()
    assert not Segment.objects.exists() and not SegmentRule.objects.exists()


def test_the_database_refuses_min_above_max(program):
    with pytest.raises(IntegrityError), transaction.atomic():
        RuleFactory(segment=SegmentFactory(program=program), kind="balance", minimum=500, maximum=10)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"kind": "multiplier", "multiplier": "1"}, "multiplies by more than 1"),
        ({"kind": "bonus", "points": "10", "multiplier": "-2"}, "A multiplier is at least 1"),
        ({"kind": "bonus", "points": "0"}, "A bonus offer gives at least 1 point"),
        ({"kind": "discount", "discount_percent": "0"}, "takes 1 to 100 percent off"),
        ({"kind": "bonus", "points": "10", "min_amount": "-5"}, "cannot be negative"),
    ],
)
def test_the_admin_refuses_an_offer_that_gives_nothing(admin_user, program, changes, message):
    offer = Offer(program=program, name="Spring", kind="bonus", title_en="Spring bonus", points=50, valid_days=7)
    form = admin_add_form(admin_user, offer, **changes)
    assert not form.is_valid() and message in errors_text(form)
    assert admin_add_form(admin_user, offer).is_valid()


def test_a_campaign_budget_below_one_offer_or_zero_is_refused(admin_user, program):
    offer = OfferFactory(program=program, kind=Offer.Kind.BONUS, points=100, multiplier=Decimal("2"))
    campaign = Campaign(program=program, name="Spring", offer=offer, budget_points=50)
    form = admin_add_form(admin_user, campaign)
    assert not form.is_valid() and "Below the offer's 100 bonus points" in errors_text(form)
    form = admin_add_form(admin_user, campaign, budget_points="", budget_offers="0")
    assert not form.is_valid() and "A budget is at least 1" in errors_text(form)
    assert admin_add_form(admin_user, campaign, budget_points="1000").is_valid()
