"""Journeys and offers react to domain events (each (event, handler) runs once; see members.outbox)."""

from campaigns import services
from campaigns.models import Campaign, OfferGrant
from members.events import (
    MemberEnrolled,
    PointsEarned,
    PointsExpiring,
    PointsReversed,
    PurchaseRecorded,
    TierChanged,
    TierExpiring,
)
from members.models import Event, Purchase
from members.outbox import handles
from rewards.events import RewardViewed, VoucherConsumed


@handles(MemberEnrolled)
def welcome(event: Event) -> None:
    if event.member_id:
        services.journey_trigger(trigger=Campaign.Trigger.ENROLLED, member=event.member, occurrence="enrolled")


@handles(TierChanged)
def tier_reached(event: Event) -> None:
    payload = TierChanged.read(event)
    if event.member_id and payload.reason == "upgrade" and payload.to:
        services.journey_trigger(
            trigger=Campaign.Trigger.TIER_REACHED, member=event.member, occurrence=f"tier.changed:{event.pk}"
        )


@handles(TierExpiring)
def tier_expiring(event: Event) -> None:
    if event.member_id:
        services.journey_trigger(
            trigger=Campaign.Trigger.TIER_EXPIRING, member=event.member, occurrence=f"tier.expiring:{event.pk}"
        )


@handles(PointsExpiring)
def points_expiring(event: Event) -> None:
    """Once per expiry date: a second notice for the same lots is the same occurrence."""
    if event.member_id:
        expires = (PointsExpiring.read(event).expires_at or "")[:10] or str(event.pk)
        services.journey_trigger(
            trigger=Campaign.Trigger.POINTS_EXPIRING, member=event.member, occurrence=f"expiring:{expires}"
        )


@handles(PurchaseRecorded)
def after_purchase(event: Event) -> None:
    purchase_id = PurchaseRecorded.read(event).purchase
    purchase = Purchase.objects.select_related("member__program").filter(pk=purchase_id).first()
    if purchase is None:
        return
    services.offers_apply_to_purchase(purchase=purchase)
    services.journey_trigger(
        trigger=Campaign.Trigger.POST_PURCHASE,
        member=purchase.member,
        occurrence=f"purchase:{purchase.pk}",
        delay_from=max(purchase.occurred_at, event.occurred_at),
    )


@handles(PointsReversed)
def refund_restores_offers(event: Event) -> None:
    payload = PointsReversed.read(event)
    if payload.full:
        purchase = Purchase.objects.filter(pk=payload.purchase).first()
        if purchase is not None:
            services.offers_restore_for_refund(purchase=purchase)


@handles(RewardViewed)
def reward_viewed(event: Event) -> None:
    """Rewards records `reward.viewed` when a member opens a reward."""
    payload = RewardViewed.read(event)
    if event.member_id and payload.reward and payload.points:
        services.reward_interest_record(member=event.member, reward_id=payload.reward, points_needed=payload.points)


@handles(VoucherConsumed)
def voucher_consumed(event: Event) -> None:
    """A reward voucher handed out by a campaign was used: the campaign's offer counts as redeemed."""
    payload = VoucherConsumed.read(event)
    if payload.voucher and OfferGrant.objects.filter(code=payload.voucher, status=OfferGrant.Status.ISSUED).exists():
        services.offer_grant_redeem(code=payload.voucher, reference=f"order:{payload.order_reference}")


@handles(PointsEarned)
def points_earned(event: Event) -> None:
    if event.member_id:
        services.reward_interest_check(member=event.member)
