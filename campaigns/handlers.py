"""Journeys and offers react to domain events (each (event, handler) runs once; see members.events)."""

from campaigns import services
from campaigns.models import Campaign, OfferGrant
from members.events import handles
from members.models import Event, Purchase


@handles("member.enrolled")
def welcome(event: Event) -> None:
    if event.member_id:
        services.journey_trigger(trigger=Campaign.Trigger.ENROLLED, member=event.member, occurrence="enrolled")


@handles("tier.changed")
def tier_reached(event: Event) -> None:
    if event.member_id and event.payload.get("reason") == "upgrade" and event.payload.get("to"):
        services.journey_trigger(
            trigger=Campaign.Trigger.TIER_REACHED, member=event.member, occurrence=f"tier.changed:{event.pk}"
        )


@handles("tier.expiring")
def tier_expiring(event: Event) -> None:
    if event.member_id:
        services.journey_trigger(
            trigger=Campaign.Trigger.TIER_EXPIRING, member=event.member, occurrence=f"tier.expiring:{event.pk}"
        )


@handles("points.expiring")
def points_expiring(event: Event) -> None:
    """Once per expiry date: a second notice for the same lots is the same occurrence."""
    if event.member_id:
        expires = event.payload.get("expires_at", "")[:10] or str(event.pk)
        services.journey_trigger(
            trigger=Campaign.Trigger.POINTS_EXPIRING, member=event.member, occurrence=f"expiring:{expires}"
        )


@handles("purchase.recorded")
def after_purchase(event: Event) -> None:
    purchase = Purchase.objects.select_related("member__program").filter(pk=event.payload.get("purchase")).first()
    if purchase is None:
        return
    services.offers_apply_to_purchase(purchase=purchase)
    services.journey_trigger(
        trigger=Campaign.Trigger.POST_PURCHASE,
        member=purchase.member,
        occurrence=f"purchase:{purchase.pk}",
        delay_from=max(purchase.occurred_at, event.occurred_at),
    )


@handles("reward.viewed")
def reward_viewed(event: Event) -> None:
    """Rewards records `reward.viewed` with {"reward": id, "points": cost} when a member opens a reward."""
    if event.member_id and event.payload.get("reward") and event.payload.get("points"):
        services.reward_interest_record(
            member=event.member, reward_id=int(event.payload["reward"]), points_needed=int(event.payload["points"])
        )


@handles("voucher.consumed")
def voucher_consumed(event: Event) -> None:
    """A reward voucher handed out by a campaign was used: the campaign's offer counts as redeemed."""
    code = event.payload.get("voucher")
    if code and OfferGrant.objects.filter(code=code, status=OfferGrant.Status.ISSUED).exists():
        services.offer_grant_redeem(code=code, reference=f"order:{event.payload.get('order_reference', '')}")


@handles("points.earned")
def points_earned(event: Event) -> None:
    if event.member_id:
        services.reward_interest_check(member=event.member)
