"""A/B assignment, results per variant and holdout, lift with its confidence interval, offers paid out."""

from datetime import datetime
from decimal import Decimal

import pytest
import time_machine
from django.core import mail

from campaigns import services
from campaigns.models import Delivery, Offer, OfferGrant
from campaigns.selectors import assignment, campaign_results, campaigns_summary, two_proportion_lift
from core.errors import DomainError
from members import services as member_services
from members.models import LedgerEntry
from tests.campaigns.conftest import CampaignFactory, OfferFactory, VariantFactory


def at(moment: str):
    return time_machine.travel(datetime.fromisoformat(moment), tick=False)


def test_lift_matches_a_worked_example():
    # Treated: 120 buyers of 1000; holdout: 100 of 1000. Difference 2 points; unpooled SE
    # sqrt(.12*.88/1000 + .10*.90/1000) = 0.013986, so the 95% CI is 0.02 -/+ 0.027412;
    # pooled p = .11, SE = sqrt(.11*.89*2/1000) = 0.013993, z = 1.4293, two-sided p = 0.1529.
    lift = two_proportion_lift(treated=120, treated_n=1000, control=100, control_n=1000)
    assert lift.difference == pytest.approx(0.02)
    assert lift.low == pytest.approx(-0.007412, abs=1e-6)
    assert lift.high == pytest.approx(0.047412, abs=1e-6)
    assert lift.relative == pytest.approx(0.20)
    assert lift.z == pytest.approx(1.4293, abs=1e-4)
    assert lift.p_value == pytest.approx(0.1529, abs=1e-4)


def test_lift_with_no_buyers_in_the_holdout_has_no_relative_lift():
    lift = two_proportion_lift(treated=5, treated_n=50, control=0, control_n=50)
    assert lift.relative is None
    assert lift.difference == pytest.approx(0.1)


def test_assignment_is_deterministic_and_follows_weights(program):
    campaign = CampaignFactory(program=program, holdout_percent=20, variant=False)
    a = VariantFactory(campaign=campaign, name="A", weight=3)
    b = VariantFactory(campaign=campaign, name="B", weight=1)
    variants = [a, b]
    first = [assignment(campaign=campaign, member_id=i, variants=variants) for i in range(1, 20_001)]
    again = [assignment(campaign=campaign, member_id=i, variants=variants) for i in range(1, 20_001)]
    assert first == again
    share = {v: first.count(v) / 20_000 for v in (None, a, b)}
    assert share[None] == pytest.approx(0.20, abs=0.015)
    assert share[a] == pytest.approx(0.60, abs=0.015)
    assert share[b] == pytest.approx(0.20, abs=0.015)

    other = CampaignFactory(program=program, holdout_percent=20)
    reshuffled = [assignment(campaign=other, member_id=i, variants=variants) is None for i in range(1, 2001)]
    assert reshuffled != [v is None for v in first[:2000]]  # each campaign draws its own holdout


def test_stored_assignment_is_the_computed_one(program, consenting, on_commit):
    members = [consenting() for _ in range(30)]
    campaign = CampaignFactory(program=program, holdout_percent=30, variant=False)
    variants = [VariantFactory(campaign=campaign, name="A"), VariantFactory(campaign=campaign, name="B")]
    with on_commit():
        services.campaign_launch(campaign=campaign)
    for member in members:
        delivery = Delivery.objects.get(member=member)
        expected = assignment(campaign=campaign, member_id=member.pk, variants=variants)
        assert delivery.variant == expected
        assert delivery.holdout is (expected is None)
        assert (delivery.status == Delivery.Status.SKIPPED) is delivery.holdout
    assert len(mail.outbox) == Delivery.objects.filter(holdout=False).count()


def test_results_per_variant_and_holdout(program, partner, consenting, on_commit):
    members = [consenting() for _ in range(40)]
    offer = OfferFactory(program=program, kind=Offer.Kind.DISCOUNT)
    campaign = CampaignFactory(program=program, offer=offer, holdout_percent=50, attribution_days=14)
    with at("2026-05-01T10:00:00+00:00"), on_commit():
        services.campaign_launch(campaign=campaign)
    treated = [m for m in members if not Delivery.objects.get(member=m).holdout]
    control = [m for m in members if Delivery.objects.get(member=m).holdout]
    assert treated and control

    def buy(member, day, amount, ref):
        with at(f"2026-05-{day:02d}T12:00:00+00:00"):
            member_services.purchase_record(
                member=member, partner=partner, external_id=ref, amount=Decimal(amount), currency="EUR"
            )

    buy(treated[0], 3, "40", "t0a")
    buy(treated[0], 5, "10", "t0b")
    buy(treated[1], 9, "25", "t1")
    buy(treated[2], 20, "99", "late")  # after the 14-day window
    buy(control[0], 4, "30", "c0")
    code = OfferGrant.objects.get(member=treated[0]).code
    with at("2026-05-03T12:00:00+00:00"):
        services.offer_grant_redeem(code=code, reference="order 77")

    results = {r.label: r for r in campaign_results(campaign=campaign)}
    variant, holdout = results["A"], results["Holdout"]
    assert (variant.members, variant.delivered, variant.redeemed) == (len(treated), len(treated), 1)
    assert (variant.buyers, variant.purchases, variant.spend) == (2, 3, Decimal("75"))
    assert (holdout.members, holdout.delivered, holdout.buyers, holdout.spend) == (len(control), 0, 1, Decimal("30"))
    assert holdout.lift is None
    expected = two_proportion_lift(treated=2, treated_n=len(treated), control=1, control_n=len(control))
    assert variant.lift == expected

    summary = campaigns_summary().get(pk=campaign.pk)
    assert (summary.sent, summary.redeemed) == (len(treated), 1)


def test_results_without_holdout_have_no_lift(program, consenting, on_commit):
    consenting()
    campaign = CampaignFactory(program=program)
    with on_commit():
        services.campaign_launch(campaign=campaign)
    [only] = campaign_results(campaign=campaign)
    assert (only.label, only.delivered, only.lift) == ("A", 1, None)


def test_a_voucher_code_is_used_once_and_not_after_expiry(program, consenting, on_commit):
    consenting(), consenting()
    campaign = CampaignFactory(program=program, offer=OfferFactory(program=program, valid_days=7))
    with at("2026-05-01T10:00:00+00:00"), on_commit():
        services.campaign_launch(campaign=campaign)
    first, second = OfferGrant.objects.order_by("pk")
    with at("2026-05-02T10:00:00+00:00"):
        services.offer_grant_redeem(code=first.code.lower(), reference="order 1")
        with pytest.raises(DomainError) as used:
            services.offer_grant_redeem(code=first.code, reference="order 2")
        with pytest.raises(DomainError) as unknown:
            services.offer_grant_redeem(code="NOPE", reference="order 3")
    with at("2026-05-09T10:00:00+00:00"), pytest.raises(DomainError) as late:
        services.offer_grant_redeem(code=second.code, reference="order 4")
    assert (used.value.code, unknown.value.code, late.value.code) == ("already_redeemed", "unknown_code", "expired")
    first.refresh_from_db()
    assert (first.status, first.reference) == (OfferGrant.Status.REDEEMED, "order 1")


def test_bonus_on_the_next_purchase_over_a_minimum_is_paid_once(program, partner, consenting, on_commit):
    member = consenting()
    offer = OfferFactory(program=program, kind=Offer.Kind.BONUS, points=150, min_amount=Decimal("50"))
    with on_commit():
        services.campaign_launch(campaign=CampaignFactory(program=program, offer=offer))

    def buy(ref, amount):
        with on_commit():
            member_services.purchase_record(
                member=member, partner=partner, external_id=ref, amount=Decimal(amount), currency="EUR"
            )

    buy("small", "20")
    assert not LedgerEntry.objects.filter(member=member, kind=LedgerEntry.Kind.BONUS).exists()
    buy("big", "60")
    buy("bigger", "90")
    bonus = LedgerEntry.objects.get(member=member, kind=LedgerEntry.Kind.BONUS)
    assert bonus.points == 150
    grant = OfferGrant.objects.get(member=member)
    assert (grant.status, grant.points) == (OfferGrant.Status.REDEEMED, 150)
    assert bonus.reference == f"campaigns.offergrant:{grant.pk}"


def test_points_multiplier_pays_extra_on_the_category_while_valid(program, partner, consenting, on_commit):
    member = consenting()
    offer = OfferFactory(program=program, kind=Offer.Kind.MULTIPLIER, multiplier=Decimal("2"), category="shoes")
    with at("2026-05-01T10:00:00+00:00"), on_commit():
        services.campaign_launch(campaign=CampaignFactory(program=program, offer=offer))
    items = [
        {"sku": "s1", "category": "shoes", "unit_price": "30", "quantity": 2},
        {"sku": "b1", "category": "books", "unit_price": "15", "quantity": 1},
    ]
    with at("2026-05-03T10:00:00+00:00"), on_commit():
        member_services.purchase_record(
            member=member, partner=partner, external_id="p1", amount=Decimal("75"), currency="EUR", items=items
        )
    with at("2026-05-05T10:00:00+00:00"), on_commit():
        member_services.purchase_record(
            member=member, partner=partner, external_id="p2", amount=Decimal("60"), currency="EUR", items=items[:1]
        )
    with at("2026-05-20T10:00:00+00:00"), on_commit():  # after the 7 days of validity
        member_services.purchase_record(
            member=member, partner=partner, external_id="p3", amount=Decimal("75"), currency="EUR", items=items
        )
    bonuses = LedgerEntry.objects.filter(member=member, kind=LedgerEntry.Kind.BONUS).order_by("pk")
    # Double points on shoes: 60 extra on the first basket, 60 on the second (2 x 30), none after the period.
    assert [b.points for b in bonuses] == [60, 60]
    assert OfferGrant.objects.get(member=member).points == 120


def test_a_free_catalog_reward_is_granted_through_rewards_and_its_voucher_counts_as_redeemed(
    program, partner, consenting, on_commit
):
    from rewards import services as rewards_services
    from rewards.models import Redemption
    from tests.rewards.conftest import RewardFactory

    member = consenting()
    reward = RewardFactory(program=program, title="Free coffee")
    offer = OfferFactory(program=program, kind=Offer.Kind.REWARD, reward=reward, title="A coffee on us")
    campaign = CampaignFactory(program=program, offer=offer)
    with on_commit():
        services.campaign_launch(campaign=campaign)
    redemption = Redemption.objects.get(member=member, reward=reward)
    assert redemption.points == 0
    grant = OfferGrant.objects.get(member=member)
    assert grant.code == redemption.voucher.code
    assert grant.reference == f"rewards.redemption:{redemption.pk}"
    [campaign_email] = [
        m for m in mail.outbox if m.to == [member.email]
    ]  # the campaign's only: no second surprise email
    assert grant.code in campaign_email.body and "A coffee on us" in campaign_email.body

    with on_commit():
        rewards_services.voucher_consume(
            code=grant.code, partner=partner, order_reference="o-1", order_total=Decimal("20")
        )
    grant.refresh_from_db()
    assert (grant.status, grant.reference) == (OfferGrant.Status.REDEEMED, "order:o-1")
    assert campaign_results(campaign=campaign)[0].redeemed == 1


def test_a_reward_offer_without_a_reward_cannot_launch(program):
    offer = OfferFactory(program=program, kind=Offer.Kind.REWARD)
    with pytest.raises(DomainError) as err:
        services.campaign_launch(campaign=CampaignFactory(program=program, offer=offer))
    assert "offer" in err.value.fields
