"""Campaign figures against a hand-built experiment: 4 treated members, 4 in the holdout."""

from datetime import timedelta
from decimal import Decimal

import time_machine

from campaigns.metrics import campaign_metrics
from campaigns.models import Delivery, OfferGrant
from tests.campaigns.conftest import CampaignFactory, OfferFactory, VariantFactory
from tests.conftest import at, buy, enroll

SENT = at(2026, 3, 5)


def test_sent_redeemed_and_lift_of_a_campaign(program, scope_of):
    offer = OfferFactory(program=program)
    campaign = CampaignFactory(program=program, offer=offer, holdout_percent=50, attribution_days=14, variant=False)
    variant = VariantFactory(campaign=campaign)
    members = [enroll(program, at(2026, 1, 5)) for _ in range(8)]
    treated, holdout = members[:4], members[4:]
    with time_machine.travel(SENT, tick=False):
        deliveries = [
            Delivery.objects.create(
                campaign=campaign, member=m, variant=variant, status=Delivery.Status.SENT, sent_at=SENT
            )
            for m in treated
        ] + [
            Delivery.objects.create(
                campaign=campaign, member=m, holdout=True, status=Delivery.Status.SKIPPED, reason="holdout"
            )
            for m in holdout
        ]
        OfferGrant.objects.create(
            offer=offer,
            campaign=campaign,
            delivery=deliveries[0],
            member=treated[0],
            code="GIFT1",
            status=OfferGrant.Status.REDEEMED,
            valid_until=SENT + timedelta(days=7),
            redeemed_at=SENT + timedelta(days=2),
        )
    buy(treated[0], SENT + timedelta(days=2), "30")
    buy(treated[1], SENT + timedelta(days=10), "20")
    buy(treated[2], SENT + timedelta(days=20), "20")  # after the 14-day attribution window
    buy(holdout[0], SENT + timedelta(days=3), "25")

    [row] = campaign_metrics(scope=scope_of(program, at(2026, 3, 1, 0), at(2026, 4, 1, 0)))

    assert (row.name, row.sent, row.redeemed) == (campaign.name, 4, 1)
    assert (row.treated_conversion, row.holdout_conversion) == (Decimal("50.00"), Decimal("25.00"))  # 2/4, 1/4
    assert (row.lift_points, row.lift_relative) == (Decimal("25.00"), Decimal("100.00"))
    assert campaign_metrics(scope=scope_of(program, at(2026, 4, 1, 0), at(2026, 5, 1, 0))) == []  # quiet period


def test_a_campaign_without_holdout_has_no_lift(program, scope_of):
    campaign = CampaignFactory(program=program, holdout_percent=0, variant=False)
    variant = VariantFactory(campaign=campaign)
    member = enroll(program, at(2026, 1, 5))
    with time_machine.travel(SENT, tick=False):
        Delivery.objects.create(
            campaign=campaign, member=member, variant=variant, status=Delivery.Status.SENT, sent_at=SENT
        )

    [row] = campaign_metrics(scope=scope_of(program, at(2026, 3, 1, 0), at(2026, 4, 1, 0)))

    assert (row.sent, row.redeemed, row.treated_conversion) == (1, 0, Decimal("0.00"))
    assert row.holdout_conversion is row.lift_points is row.lift_relative is None
