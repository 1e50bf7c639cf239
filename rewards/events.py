"""The event types rewards' services record (see members.outbox for how events work)."""

from members.outbox import Payload, event_type


@event_type("reward.redeemed", webhook=True)
class RewardRedeemed(Payload):
    member: str
    redemption: int
    reward: int
    kind: str
    source: str
    points: int
    value: str
    voucher: str | None
    partner: int | None


@event_type("voucher.consumed", webhook=True)
class VoucherConsumed(Payload):
    member: str
    voucher: str
    reward: int
    partner: int
    order_reference: str
    order_total: str


@event_type("points.burned")
class PointsBurned(Payload):
    """A checkout burn hold was confirmed: the points paid part of an order."""

    member: str
    points: int
    amount: str
    order_reference: str
    partner: int | None


@event_type("reward.viewed")
class RewardViewed(Payload):
    """A member opened a reward they may not afford yet (campaigns follow up when they can)."""

    reward: int
    points: int


@event_type("challenge.completed")
class ChallengeCompleted(Payload):
    """`purchase`: the purchase that completed it, if one did (its full refund reopens the challenge)."""

    member: str
    challenge: int
    points: int
    purchase: int | None = None
