"""The event types members' services record (see members.outbox for how events work).

Money is a string (Decimal's text), dates ISO 8601; `member` is the member number.
"""

from members.outbox import Payload, event_type


@event_type("member.enrolled", webhook=True)
class MemberEnrolled(Payload):
    member: str
    referred_by: str | None


@event_type("member.erased")
class MemberErased(Payload):
    """Other apps erase what they hold of the member's own words (survey comments, ticket texts)."""

    member: str


@event_type("purchase.recorded")
class PurchaseRecorded(Payload):
    member: str
    purchase: int
    amount: str
    points: int
    partner: int | None


@event_type("points.earned", webhook=True)
class PointsEarned(Payload):
    """Any credit: `kind` is the ledger kind ("earn" for a purchase, "referral", "engagement", ...);
    a purchase's earn also carries the purchase fields, an engagement its action."""

    member: str
    points: int
    kind: str
    entry: int | None = None
    purchase: int | None = None
    amount: str | None = None
    partner: int | None = None
    pending: bool | None = None
    action: str | None = None
    case: int | None = None


@event_type("points.held")
class PointsHeld(Payload):
    """A purchase past a velocity limit: its points wait for a review decision (`case`)."""

    member: str
    purchase: int
    points: int
    reason: str
    case: int


@event_type("points.reversed", webhook=True)
class PointsReversed(Payload):
    """A refund of a purchase (one per call, even one that takes back no points): `points` taken
    back from the member by it (the purchase's own and those derived from it), `debt` the part
    already spent; `full` once the whole amount is refunded."""

    member: str
    purchase: int
    amount: str
    points: int
    debt: int
    refunded_amount: str | None = None
    full: bool = False


@event_type("points.expiring", webhook=True)
class PointsExpiring(Payload):
    member: str
    points: int
    expires_at: str


@event_type("points.expired", webhook=True)
class PointsExpired(Payload):
    member: str
    points: int


@event_type("engagement.recorded")
class EngagementRecorded(Payload):
    member: str
    action: str
    reference: str
    points: int


@event_type("tier.changed", webhook=True)
class TierChanged(Payload):
    member: str
    from_: str | None
    to: str | None
    reason: str


@event_type("tier.expiring")
class TierExpiring(Payload):
    member: str
    tier: str
    downgrade_after: str


@event_type("plan.subscribed")
class PlanSubscribed(Payload):
    member: str
    plan: str


@event_type("plan.renewed")
class PlanRenewed(Payload):
    """Carries the fee to charge the same payer; a periodic renewal also its new end."""

    member: str
    plan: str
    fee: str
    paid_by: str
    expires_at: str | None = None


@event_type("plan.expired")
class PlanExpired(Payload):
    member: str
    plan: str
    fee: str
    paid_by: str
    expires_at: str


@event_type("card.issued", webhook=True)
class CardIssued(Payload):
    """A loyalty card given to a member (`kind`: printed or virtual); `replaces` the card it replaces."""

    member: str
    card: str
    kind: str
    replaces: str | None = None


@event_type("card.blocked", webhook=True)
class CardBlocked(Payload):
    """A card blocked (lost, stolen) or replaced: refused from now on; the member keeps their points."""

    member: str
    card: str
    reason: str


@event_type("points.transferred", webhook=True)
class PointsTransferred(Payload):
    """Points one member sent another of the program (`reference`: the transfer's id)."""

    sender: str
    recipient: str
    points: int
    reference: str
    transfer: int


@event_type("custom_event.recorded")
class CustomEventRecorded(Payload):
    """An operator-defined event a partner reported (`key`: its type's key), with the points it earned."""

    member: str
    key: str
    reference: str
    points: int
    attributes: dict


@event_type("household.joined", webhook=True)
class HouseholdJoined(Payload):
    """A member joined a household (`invited_by`: who invited them; None for its founder)."""

    member: str
    household: int
    name: str
    invited_by: str | None
    members: int


@event_type("household.left", webhook=True)
class HouseholdLeft(Payload):
    """A member left a household; what they earned stays theirs (`members`: how many remain)."""

    member: str
    household: int
    name: str
    members: int
