"""Reads for the partner-API platform: key lookups (cached by prefix), the member a partner may
address, and webhook deliveries due.

Scope rule: a partner sees members of its own program and only the purchases and ledger entries
it created. Whatever lies outside that scope is reported as missing (None -> 404), never as
forbidden, so a partner cannot even learn that it exists.
"""

from dataclasses import dataclass
from datetime import datetime

from django.core.cache import cache
from django.db.models import Q, QuerySet
from django.utils import timezone

from core.cache import cache_get_and_count
from core.forms import BIGINT_MAX
from core.prepared import STAND_IN_ID, STAND_IN_TEXT, Prepared
from members.models import Event, Member, Partner, PartnerAPIKey, WebhookDelivery, WebhookEndpoint
from members.outbox import webhook_event_types

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
    return _grant_check(key, prefix, cache.get(key_cache_name(prefix)))


def api_key_grant_counted(*, key: str, counter: str, seconds: int) -> tuple[KeyGrant | None, int | None]:
    """api_key_grant and one increment of the `counter` cache entry (the key's throttle window), read
    in the same cache round trip. The count is None when the key is malformed (nothing counted) or
    the cache could not count."""
    prefix, dot, _ = key.partition(".")
    if not dot or not prefix:
        return None, None
    cached, count = cache_get_and_count(key_cache_name(prefix), counter, seconds)
    return _grant_check(key, prefix, cached), count


def _grant_check(key: str, prefix: str, grant: KeyGrant | None) -> KeyGrant | None:
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


# Every partner request on a member starts here: compiled once per process (core.prepared). A number is
# unique in its program, so no ORDER BY (first() would add one by pk).
_MEMBER_BY_NUMBER = Prepared(
    lambda program_id, number: Member.objects.select_related("program", "tier").filter(
        program_id=program_id, number=number
    )[:1],
    program_id=STAND_IN_ID,
    number=STAND_IN_TEXT,
)


def member_for_partner(*, partner: Partner, number: str) -> Member | None:
    return next(iter(_MEMBER_BY_NUMBER(program_id=partner.program_id, number=number)), None)


def deliveries_due(*, now: datetime, limit: int = 500) -> list[int]:
    """Webhook deliveries waiting for their next attempt. Not bounded by `created_at` (so every
    retained month is probed, by its small partial index of pending rows): a redelivery sent again
    from the admin keeps its old `created_at`."""
    return list(
        WebhookDelivery.objects.filter(status=WebhookDelivery.Status.PENDING, next_attempt_at__lte=now)
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[:limit]
    )


def webhook_endpoints_for_partner(*, partner: Partner) -> QuerySet[WebhookEndpoint]:
    """The partner's own endpoints, oldest first (other partners' endpoints are never listed)."""
    return WebhookEndpoint.objects.filter(partner=partner).order_by("pk")


def webhook_endpoint_for_partner(*, partner: Partner, pk: int) -> WebhookEndpoint | None:
    if pk > BIGINT_MAX:
        return None
    return webhook_endpoints_for_partner(partner=partner).filter(pk=pk).first()


def webhook_deliveries_for_endpoint(*, endpoint: WebhookEndpoint, status: str = "") -> QuerySet[WebhookDelivery]:
    """Newest first (the index on endpoint, -created_at serves it)."""
    deliveries = WebhookDelivery.objects.filter(endpoint=endpoint).order_by("-created_at", "-pk")
    return deliveries.filter(status=status) if status else deliveries


def webhook_delivery_for_endpoint(*, endpoint: WebhookEndpoint, pk: int) -> WebhookDelivery | None:
    if pk > BIGINT_MAX:
        return None
    return WebhookDelivery.objects.select_related("endpoint").filter(endpoint=endpoint, pk=pk).first()


def partner_events(*, partner: Partner, after: int = 0, settled_before: datetime | None = None) -> QuerySet[Event]:
    """The events the partner's webhooks would carry, oldest first, after event id `after`: webhook
    types of its program, about members or about itself, never about another partner's own records
    (the rule of services._concerns, with the payload's `partner` key). `settled_before` leaves out the
    newest events, whose ids may still be overtaken by a slower transaction's commit."""
    qs = Event.objects.filter(program_id=partner.program_id, type__in=webhook_event_types(), pk__gt=after).filter(
        Q(payload__partner__isnull=True) | Q(payload__partner=None) | Q(payload__partner=partner.pk)
    )
    if settled_before is not None:
        qs = qs.filter(occurred_at__lt=settled_before)
    return qs.order_by("pk")
