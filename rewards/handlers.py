"""What rewards does when members' events happen: challenge progress and automatic surprises.

Each (event, handler) runs at most once (members.outbox), so a re-dispatch never double counts.
"""

from decimal import Decimal

from members.events import EngagementRecorded, MemberEnrolled, PointsEarned, PointsReversed, PurchaseRecorded
from members.models import Event, Purchase
from members.outbox import handles
from rewards import services


def _purchase(event: Event) -> Purchase | None:
    purchase_id = PurchaseRecorded.read(event).purchase
    return Purchase.objects.select_related("member", "member__program").filter(pk=purchase_id).first()


@handles(PurchaseRecorded)
def challenges_on_purchase(event: Event) -> None:
    purchase = _purchase(event)
    if purchase is not None:
        services.challenge_progress_on_purchase(purchase=purchase)


@handles(PurchaseRecorded)
def surprises_on_purchase(event: Event) -> None:
    purchase = _purchase(event)
    if purchase is not None:
        services.surprises_on_purchase(purchase=purchase)


@handles(PointsReversed)
def refund_takes_back(event: Event) -> None:
    """A refund: challenge progress goes back down (members already took back the prize points the
    purchase earned, which reference it); a full refund withdraws the surprises it set off."""
    payload = PointsReversed.read(event)
    purchase = Purchase.objects.select_related("member", "member__program").filter(pk=payload.purchase).first()
    if purchase is None:
        return
    services.challenge_progress_on_refund(purchase=purchase, amount=Decimal(payload.amount), full=payload.full)
    if payload.full:
        services.surprises_withdraw_for_refund(purchase=purchase)


@handles(MemberEnrolled)
def surprises_on_enrollment(event: Event) -> None:
    if event.member is not None:
        services.surprises_on_enrollment(member=event.member)


@handles(EngagementRecorded)
def challenges_on_engagement(event: Event) -> None:
    if event.member is not None:
        services.challenge_progress_on_engagement(
            member=event.member, action=EngagementRecorded.read(event).action, at=event.occurred_at
        )


@handles(PointsEarned)
def challenges_on_referral(event: Event) -> None:
    # The referrer's reward is the one signal that a referral qualified.
    if event.member is not None and PointsEarned.read(event).kind == "referral":
        services.challenge_progress_on_referral(member=event.member, at=event.occurred_at)
