"""What rewards does when members' events happen: challenge progress and automatic surprises.

Each (event, handler) runs at most once (members.events), so a re-dispatch never double counts.
"""

from members.events import handles
from members.models import Event, Purchase
from rewards import services


def _purchase(event: Event) -> Purchase | None:
    return Purchase.objects.select_related("member", "member__program").filter(pk=event.payload.get("purchase")).first()


@handles("purchase.recorded")
def challenges_on_purchase(event: Event) -> None:
    purchase = _purchase(event)
    if purchase is not None:
        services.challenge_progress_on_purchase(purchase=purchase)


@handles("purchase.recorded")
def surprises_on_purchase(event: Event) -> None:
    purchase = _purchase(event)
    if purchase is not None:
        services.surprises_on_purchase(purchase=purchase)


@handles("member.enrolled")
def surprises_on_enrollment(event: Event) -> None:
    if event.member is not None:
        services.surprises_on_enrollment(member=event.member)


@handles("engagement.recorded")
def challenges_on_engagement(event: Event) -> None:
    if event.member is not None:
        services.challenge_progress_on_engagement(
            member=event.member, action=event.payload.get("action", ""), at=event.occurred_at
        )


@handles("points.earned")
def challenges_on_referral(event: Event) -> None:
    # The referrer's reward is the one signal that a referral qualified.
    if event.member is not None and event.payload.get("kind") == "referral":
        services.challenge_progress_on_referral(member=event.member, at=event.occurred_at)
