"""Reads for the partner API: key lookups (cached by prefix) and everything scoped to one partner.

Scope rule: a partner sees members of its own program and only the purchases and ledger entries
it created. Whatever lies outside that scope is reported as missing (None -> 404), never as
forbidden, so a partner cannot even learn that it exists.
"""

from dataclasses import dataclass
from datetime import datetime

from django.core.cache import cache
from django.db.models import Count, Q, QuerySet, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone

from members.models import LedgerEntry, Member, Partner, PartnerAPIKey, Purchase, ReviewCase, WebhookDelivery

# A revoked key keeps working for at most this long on other processes (revoking through the
# service clears the cache at once); in exchange the hot path skips a database round trip.
KEY_CACHE_SECONDS = 30


@dataclass(frozen=True)
class KeyGrant:
    """What a valid API key grants: the partner (with its program loaded) and the key's own rate."""

    key_id: str
    prefix: str
    hashed_key: str
    partner: Partner
    rate_limit: str
    expiry_date: datetime | None

    # request.user is the grant: Django and DRF code that asks request.user.is_authenticated works.
    is_authenticated = True
    is_anonymous = False

    @property
    def program_id(self) -> int:
        return self.partner.program_id


def key_cache_name(prefix: str) -> str:
    return f"api-key:{prefix}"


def api_key_grant(*, key: str) -> KeyGrant | None:
    """The grant for a presented key, or None when it is unknown, wrong, revoked, expired or its
    partner is inactive."""
    prefix, dot, _ = key.partition(".")
    if not dot or not prefix:
        return None
    grant = cache.get(key_cache_name(prefix))
    if grant is None:
        row = (
            PartnerAPIKey.objects.select_related("partner__program")
            .filter(prefix=prefix, revoked=False, partner__is_active=True)
            .first()
        )
        if row is None:
            return None
        grant = KeyGrant(row.pk, row.prefix, row.hashed_key, row.partner, row.rate_limit, row.expiry_date)
        cache.set(key_cache_name(prefix), grant, KEY_CACHE_SECONDS)
    if grant.expiry_date is not None and grant.expiry_date <= timezone.now():
        return None
    if not PartnerAPIKey.objects.key_generator.verify(key, grant.hashed_key):
        return None
    return grant


def member_for_partner(*, partner: Partner, number: str) -> Member | None:
    return Member.objects.select_related("program", "tier").filter(program_id=partner.program_id, number=number).first()


def members_lookup(*, partner: Partner, email: str = "", phone: str = "", external_id: str = "") -> QuerySet[Member]:
    qs = Member.objects.select_related("tier").filter(program_id=partner.program_id)
    if email:
        qs = qs.filter(email=email.strip().lower())
    if phone:
        qs = qs.filter(phone=phone.strip())
    if external_id:
        qs = qs.filter(external_id=external_id)
    return qs.order_by("pk")


def purchase_for_partner(*, partner: Partner, purchase_id: int) -> Purchase | None:
    return (
        Purchase.objects.select_related("member__program", "member__tier")
        .filter(pk=purchase_id, partner=partner)
        .first()
    )


def purchase_earn_entry(*, purchase: Purchase) -> LedgerEntry | None:
    return purchase.entries.filter(kind=LedgerEntry.Kind.EARN).select_related("lot").first()


def purchase_hold(*, purchase: Purchase) -> ReviewCase | None:
    """The review case holding a purchase's points (members.fraud velocity limits), if any. Only a
    purchase showing 0 points can be held, so earning purchases skip the query."""
    if purchase.points:
        return None
    return ReviewCase.objects.filter(purchase=purchase, kind=ReviewCase.Kind.EARN_LIMIT).first()


def entries_totals(entries: QuerySet[LedgerEntry]) -> dict[str, int]:
    """Points in, points out and the net of a (filtered) set of ledger entries, in one query."""
    return entries.order_by().aggregate(
        count=Count("pk"),
        points_in=Coalesce(Sum("points", filter=Q(points__gt=0)), 0),
        points_out=Coalesce(Sum("points", filter=Q(points__lt=0)), 0),
        net=Coalesce(Sum("points"), 0),
    )


def deliveries_due(*, now: datetime, limit: int = 500) -> list[int]:
    """Webhook deliveries waiting for their next attempt."""
    return list(
        WebhookDelivery.objects.filter(status=WebhookDelivery.Status.PENDING, next_attempt_at__lte=now)
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[:limit]
    )
