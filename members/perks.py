"""Paid-plan perks, as the till and the shop read them: free shipping and early access.

A member holds the perks of the plan they are subscribed to while the subscription gives perks
(paid, until it runs out; Subscription.PERK_STATUSES). The partner API returns them on the member
lookup and on voucher validation, so a shop can waive shipping or open a sale early; catalog
rewards marked early-access are redeemable by members with the perk before their public date
(rewards.selectors.redeem_refusal)."""

from dataclasses import asdict, dataclass
from datetime import datetime

from django.db.models import Exists, OuterRef, QuerySet
from django.utils import timezone

from members.models import Member, Subscription


@dataclass(frozen=True)
class Perks:
    free_shipping: bool = False
    early_access: bool = False

    def as_dict(self) -> dict[str, bool]:
        return asdict(self)


NO_PERKS = Perks()


def _perk_subscriptions(at: datetime):
    return Subscription.objects.filter(member=OuterRef("pk"), expires_at__gt=at, status__in=Subscription.PERK_STATUSES)


def members_with_perks(queryset: QuerySet[Member], at: datetime | None = None) -> QuerySet[Member]:
    """`queryset` annotated with `perk_free_shipping` and `perk_early_access` (two EXISTS
    subqueries, no query per member): what the API's member lists read."""
    at = at or timezone.now()
    return queryset.annotate(
        perk_free_shipping=Exists(_perk_subscriptions(at).filter(plan__free_shipping=True)),
        perk_early_access=Exists(_perk_subscriptions(at).filter(plan__early_access=True)),
    )


def subscription_perks(subscription: Subscription | None, at: datetime | None = None) -> Perks:
    """The perks of a member's live subscription (members.selectors.subscription_live, plan
    selected): no query, for a page that reads the subscription anyway."""
    if subscription is None or not subscription.gives_perks or subscription.expires_at <= (at or timezone.now()):
        return NO_PERKS
    return Perks(free_shipping=subscription.plan.free_shipping, early_access=subscription.plan.early_access)


def member_perks(member: Member | None, at: datetime | None = None) -> Perks:
    """The perks `member` holds at `at` (default: now): from the annotations of members_with_perks
    when present, else one query."""
    if member is None:
        return NO_PERKS
    if hasattr(member, "perk_free_shipping"):
        return Perks(free_shipping=member.perk_free_shipping, early_access=member.perk_early_access)
    at = at or timezone.now()
    plans = (
        Subscription.objects.filter(member=member, expires_at__gt=at, status__in=Subscription.PERK_STATUSES)
        .values_list("plan__free_shipping", "plan__early_access")
        .first()
    )
    return Perks(free_shipping=plans[0], early_access=plans[1]) if plans else NO_PERKS
