"""Writes for the partner API: keys, idempotency records and webhook deliveries."""

import base64
import hashlib
import hmac
import json
import re
import secrets
import time
import urllib.error
import urllib.request
from datetime import UTC, datetime, timedelta

from django.core.cache import cache
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, transaction
from django.utils import timezone
from standardwebhooks import Webhook as StandardWebhook

from core.errors import Conflict, DomainError
from core.partitions import is_partitioned
from members.models import Event, IdempotencyKey, Partner, PartnerAPIKey, WebhookDelivery, WebhookEndpoint
from members.partners import outbound
from members.partners.selectors import key_cache_name

# --- keys ------------------------------------------------------------------------------------

RATE_PERIODS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def rate_parse(rate: str) -> tuple[int, int]:
    """'600/min' -> (600, 60). Periods: s, m(in), h(our), d(ay)."""
    count, _, period = rate.strip().partition("/")
    if not count.isdigit() or int(count) <= 0 or not period or period[0] not in RATE_PERIODS:
        raise DomainError("invalid_rate", f"'{rate}' is not a rate like 600/min.", fields={"rate_limit": ["Invalid."]})
    return int(count), RATE_PERIODS[period[0]]


@transaction.atomic
def partner_key_create(
    *, partner: Partner, name: str, expiry_date: datetime | None = None, rate_limit: str = ""
) -> tuple[PartnerAPIKey, str]:
    """A new key for the partner. The plain key is returned once and never stored."""
    if not partner.is_active:
        raise DomainError("partner_inactive", f"Partner '{partner.name}' is inactive.")
    if rate_limit:
        rate_parse(rate_limit)
    return PartnerAPIKey.objects.create_key(
        partner=partner, name=name[:50], expiry_date=expiry_date, rate_limit=rate_limit
    )


def partner_key_revoke(*, api_key: PartnerAPIKey) -> PartnerAPIKey:
    PartnerAPIKey.objects.filter(pk=api_key.pk).update(revoked=True)
    cache.delete(key_cache_name(api_key.prefix))
    api_key.revoked = True
    return api_key


DEMO_KEY_NAME = "demo (seed_demo)"


def partner_key_demo(*, partner: Partner) -> str:
    """seed_demo: a fresh key for the demo partner (earlier demo keys are revoked), as a line to print."""
    for old in PartnerAPIKey.objects.filter(partner=partner, name=DEMO_KEY_NAME, revoked=False):
        partner_key_revoke(api_key=old)
    _, key = partner_key_create(partner=partner, name=DEMO_KEY_NAME)
    return f"Partner API key for '{partner.name}' (shown once): export FIDELIS_KEY={key}"


# --- idempotency -----------------------------------------------------------------------------

# How long a claimed key counts as "in flight". Work and stored response commit together, so a
# request that died left nothing behind and a retry after this may safely run it again.
IDEMPOTENCY_LOCK = timedelta(seconds=60)
IDEMPOTENCY_KEEP = timedelta(hours=24)


def request_fingerprint(*, method: str, path: str, body: bytes) -> str:
    return hashlib.sha256(b"%s %s\n%s" % (method.encode(), path.encode(), body)).hexdigest()


def idempotency_claim(*, partner: Partner, key: str, request_hash: str) -> IdempotencyKey:
    """Claim `key` for this request, inside the request's transaction (must be called in one).

    The claim is an INSERT that commits or rolls back with the work and its stored response, so a
    request that died left nothing behind and a retry simply runs again. A concurrent request with
    the same key waits on that INSERT until the first one ends, then sees its stored answer.
    Returns the record: with `status_code` set it holds a response to replay; without, the caller
    owns it. Raises 422 when the key came with another request, 409 while it is in flight.
    """
    now = timezone.now()
    q = connection.ops.quote_name
    with connection.cursor() as cursor:
        # One round trip for the common case; ON CONFLICT waits for a concurrent claimer to finish.
        cursor.execute(
            f"INSERT INTO {q(IdempotencyKey._meta.db_table)} (partner_id, {q('key')}, request_hash, status_code,"  # noqa: S608
            " response_body, content_type, locked_until, created_at)"
            " VALUES (%s, %s, %s, NULL, %s, '', %s, %s)"
            # No conflict target: on PostgreSQL the table is partitioned and (partner, key) is kept
            # unique by a guard trigger that skips the row like a conflict (core.partitions).
            " ON CONFLICT DO NOTHING RETURNING id",
            [
                partner.pk,
                key,
                request_hash,
                b"",
                *map(connection.ops.adapt_datetimefield_value, (now + IDEMPOTENCY_LOCK, now)),
            ],
        )
        row = cursor.fetchone()
    if row is not None:
        return IdempotencyKey(
            pk=row[0],
            partner=partner,
            key=key,
            request_hash=request_hash,
            locked_until=now + IDEMPOTENCY_LOCK,
            created_at=now,
        )
    # A key lives IDEMPOTENCY_KEEP: the time bound also limits the lookup to the last month or two
    # of a partitioned table.
    record = (
        IdempotencyKey.objects.select_for_update()
        .filter(partner=partner, key=key, created_at__gte=now - IDEMPOTENCY_KEEP)
        .order_by("-created_at")
        .first()
    )
    if record is None:
        # An expired key whose row is still kept (a plain table until the hourly purge): it no
        # longer counts, so it makes way and the request runs as a new one.
        IdempotencyKey.objects.filter(partner=partner, key=key, created_at__lt=now - IDEMPOTENCY_KEEP).delete()
        return idempotency_claim(partner=partner, key=key, request_hash=request_hash)
    if record.request_hash != request_hash:
        raise DomainError(
            "idempotency_key_reused",
            "This Idempotency-Key was already used with a different request.",
            fields={"Idempotency-Key": ["Use a new key for a new request."]},
            status=422,
        )
    if record.status_code is not None:
        return record
    # A row without an answer was committed by an earlier version of this code path (which
    # claimed in a transaction of its own): in flight until locked_until, then ours to take over.
    if record.locked_until is not None and record.locked_until >= now:
        raise Conflict(
            "idempotency_key_in_use", "A request with this Idempotency-Key is still being processed; retry shortly."
        )
    IdempotencyKey.objects.filter(pk=record.pk, created_at=record.created_at).update(
        locked_until=now + IDEMPOTENCY_LOCK
    )
    return record


def idempotency_store(*, record: IdempotencyKey, status_code: int, body: bytes, content_type: str) -> None:
    # created_at names the record's partition: the update touches one.
    IdempotencyKey.objects.filter(pk=record.pk, created_at=record.created_at).update(
        status_code=status_code, response_body=body, content_type=content_type, locked_until=None
    )


def idempotency_purge(*, now: datetime | None = None) -> int:
    """Delete the keys past IDEMPOTENCY_KEEP from a plain table (SQLite). A partitioned table is left
    alone: there an expired key already no longer counts (idempotency_claim's time bound and the
    guard's expiry) and its storage returns by whole months (members.retention)."""
    if is_partitioned(IdempotencyKey._meta.db_table):
        return 0
    cutoff = (now or timezone.now()) - IDEMPOTENCY_KEEP
    return IdempotencyKey.objects.filter(created_at__lt=cutoff).delete()[0]


# --- webhooks --------------------------------------------------------------------------------

WEBHOOK_MAX_ATTEMPTS = 8
WEBHOOK_FIRST_RETRY = timedelta(minutes=1)  # then x3 each time: 1, 3, 9, 27 min, 1.4 h, 4 h, 12 h
WEBHOOK_TIMEOUT_SECONDS = 10
WEBHOOK_LEASE = timedelta(seconds=WEBHOOK_TIMEOUT_SECONDS * 3)
# Events about members concern every partner of the program; those naming a partner in their
# payload (its purchase, its redemption, its voucher) go only to that partner.
PARTNER_KEY = "partner"


# Standard Webhooks (standardwebhooks.com): the secret is "whsec_" + base64 of the key bytes, and
# every delivery carries webhook-id, webhook-timestamp and webhook-signature ("v1,<base64>", several
# separated by spaces while a rotated secret still counts), so receivers verify with a ready-made
# library in any language. X-Fidelis-Signature, the older header, is computed with the same key
# bytes and is still sent while receivers move over (README, "Webhooks").
SECRET_PREFIX = "whsec_"  # noqa: S105 - the prefix, not a secret
SECRET_BYTES = 32
# A secret someone chooses (admin, API): padded standard base64 of at least 24 bytes (the
# specification's minimum), 88 characters at most; one pattern, so the schema states the same rule.
SECRET_PATTERN = r"^whsec_(?:[A-Za-z0-9+/]{4}){8,21}(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$"  # noqa: S105


def webhook_secret_new() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def webhook_secret_problem(secret: str) -> str | None:
    """Why `secret` cannot sign Standard Webhooks deliveries; None when it can."""
    if not re.fullmatch(SECRET_PATTERN, secret):
        return (
            f"Use {SECRET_PREFIX} followed by the standard base64 (A-Z, a-z, 0-9, +, /, = padding) "
            "of at least 24 random bytes, 32 to 88 characters."
        )
    return None


def webhook_key(secret: str) -> bytes:
    """The signing key: the bytes the base64 after whsec_ decodes to, as Standard Webhooks libraries
    derive it. (Secrets from before the standard were re-encoded so that these bytes are their text.)"""
    return base64.b64decode(secret.removeprefix(SECRET_PREFIX))


def webhook_signature(*, secret: str, timestamp: int, body: str) -> str:
    """X-Fidelis-Signature: HMAC-SHA256 over "<timestamp>.<body>" with the key bytes, hex."""
    message = f"{timestamp}.{body}".encode()
    return hmac.new(webhook_key(secret), message, hashlib.sha256).hexdigest()


def webhook_signing_secrets(*, endpoint: WebhookEndpoint, now: datetime) -> list[str]:
    """The current secret, then the previous one while its overlap after a rotation lasts."""
    expires = endpoint.previous_secret_expires_at
    if endpoint.previous_secret and expires is not None and expires > now:
        return [endpoint.secret, endpoint.previous_secret]
    return [endpoint.secret]


def webhook_headers(*, endpoint: WebhookEndpoint, delivery: WebhookDelivery, now: datetime) -> dict[str, str]:
    """The headers of one attempt: Standard Webhooks' three and the older X-Fidelis ones.

    webhook-id is the delivery's id: the same on every attempt and redelivery of this message to this
    endpoint (receivers de-duplicate on it), different for every other message."""
    timestamp = int(now.timestamp())
    signed_at = datetime.fromtimestamp(timestamp, tz=UTC)
    message_id = str(delivery.pk)
    signatures = [
        StandardWebhook(webhook_key(secret)).sign(message_id, signed_at, delivery.body)
        for secret in webhook_signing_secrets(endpoint=endpoint, now=now)
    ]
    return {
        "Content-Type": "application/json",
        "User-Agent": "Fidelis-Webhooks/1",
        "webhook-id": message_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": " ".join(signatures),
        "X-Fidelis-Event": delivery.event_type,
        "X-Fidelis-Delivery": message_id,
        "X-Fidelis-Timestamp": str(timestamp),
        "X-Fidelis-Signature": "sha256="
        + webhook_signature(secret=endpoint.secret, timestamp=timestamp, body=delivery.body),
    }


def webhook_payload(event: Event) -> dict:
    """What partners receive about an event, as JSON values: the body of its webhooks and, unchanged,
    an item of GET /api/v1/events."""
    created = DjangoJSONEncoder().default(event.occurred_at)
    return {"id": event.pk, "type": event.type, "created": created, "data": event.payload}


def _concerns(endpoint: WebhookEndpoint, event: Event) -> bool:
    if event.type not in endpoint.events:
        return False
    owner = event.payload.get(PARTNER_KEY)
    return owner is None or owner == endpoint.partner_id


def webhook_deliveries_create(*, event: Event) -> list[WebhookDelivery]:
    """One delivery per active endpoint of the event's program that subscribed to its type."""
    endpoints = WebhookEndpoint.objects.select_related("partner").filter(
        partner__program_id=event.program_id, partner__is_active=True, is_active=True
    )
    now = timezone.now()
    deliveries = []
    for endpoint in endpoints:
        if not _concerns(endpoint, event):
            continue
        body = json.dumps(webhook_payload(event), cls=DjangoJSONEncoder, separators=(",", ":"))
        deliveries.append(
            WebhookDelivery(endpoint=endpoint, event=event, event_type=event.type, body=body, next_attempt_at=now)
        )
    # ignore_conflicts: a re-dispatched event must not deliver twice (one row per endpoint and event).
    WebhookDelivery.objects.bulk_create(deliveries, ignore_conflicts=True)
    return list(WebhookDelivery.objects.filter(event=event, status=WebhookDelivery.Status.PENDING, attempts=0))


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """A redirect is an answer of its own (not a 2xx): the receiver must fix its URL."""

    def redirect_request(self, *args, **kwargs):
        return None


def _post(url: str, body: bytes, headers: dict[str, str]) -> tuple[int | None, str]:
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")  # noqa: S310 - http(s) only
    try:
        # Built per call: WEBHOOK_ALLOW_PRIVATE_TARGETS decides whether private addresses are refused (SSRF).
        with outbound.opener(_NoRedirect).open(request, timeout=WEBHOOK_TIMEOUT_SECONDS) as response:
            return response.status, response.read(500).decode("utf-8", "replace")
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read(500).decode("utf-8", "replace")
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        return None, str(getattr(exc, "reason", exc))[:500]


def webhook_deliver(*, delivery_id: int) -> WebhookDelivery | None:
    """Make one attempt at a due delivery. Returns None when it is not due (another worker has it,
    it already succeeded or gave up). A failure schedules the next attempt with exponential backoff."""
    now = timezone.now()
    claimed = WebhookDelivery.objects.filter(
        pk=delivery_id, status=WebhookDelivery.Status.PENDING, next_attempt_at__lte=now
    ).update(next_attempt_at=now + WEBHOOK_LEASE)
    if not claimed:
        return None
    delivery = WebhookDelivery.objects.select_related("endpoint").get(pk=delivery_id)
    endpoint = delivery.endpoint
    headers = webhook_headers(endpoint=endpoint, delivery=delivery, now=timezone.now())
    started = time.monotonic()
    if endpoint.url.startswith(("http://", "https://")):
        status_code, excerpt = _post(endpoint.url, delivery.body.encode(), headers)
    else:
        status_code, excerpt = None, "Only http and https URLs are delivered to."
    delivery.attempts += 1
    delivery.last_status_code = status_code
    delivery.log = [
        *delivery.log,
        {
            "at": now.isoformat(),
            "status_code": status_code,
            "response": excerpt,
            "ms": int((time.monotonic() - started) * 1000),
        },
    ]
    if status_code is not None and 200 <= status_code < 300:
        delivery.status = WebhookDelivery.Status.SUCCEEDED
        delivery.delivered_at = timezone.now()
        delivery.next_attempt_at = None
    elif delivery.attempts >= WEBHOOK_MAX_ATTEMPTS:
        delivery.status = WebhookDelivery.Status.FAILED
        delivery.next_attempt_at = None
    else:
        delivery.next_attempt_at = timezone.now() + WEBHOOK_FIRST_RETRY * 3 ** (delivery.attempts - 1)
    delivery.save(update_fields=["attempts", "last_status_code", "log", "status", "delivered_at", "next_attempt_at"])
    return delivery


def webhook_resend(*, delivery: WebhookDelivery) -> WebhookDelivery:
    """Staff send a delivery again (after the receiver was fixed): due now, with a fresh attempt budget.
    The body is unchanged, so receivers can de-duplicate on the event id."""
    delivery.status = WebhookDelivery.Status.PENDING
    delivery.next_attempt_at = timezone.now()
    delivery.attempts = 0
    delivery.save(update_fields=["status", "next_attempt_at", "attempts"])
    return delivery
