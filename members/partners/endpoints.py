"""Partner webhook endpoints: register, change, rotate the secret, send a test event, redeliver.

The partner API (members/api/webhooks.py) and the admin (members/admin/partners.py) both call these,
so a target is checked the same way wherever it is registered (http(s), public addresses unless
WEBHOOK_ALLOW_PRIVATE_TARGETS, events that exist) and every change is in the audit trail.
"""

import json
import re
from collections.abc import Iterable
from datetime import timedelta

from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.utils import timezone

from core.enqueue import enqueue_on_commit
from core.errors import DomainError
from members.models import Partner, WebhookDelivery, WebhookEndpoint
from members.outbox import webhook_event_types
from members.partners import outbound
from members.partners.services import webhook_resend, webhook_secret_new, webhook_secret_problem
from members.services.audit import audit_record

DELIVER_TASK = "members.partners.tasks.webhook_deliver"
TEST_EVENT_TYPE = "webhook.test"
# After a rotation the previous secret still signs deliveries for this long (Standard Webhooks sends
# one signature per secret), so a receiver has time to switch.
ROTATION_OVERLAP_DEFAULT = timedelta(hours=24)
ROTATION_OVERLAP_MAX = timedelta(days=7)
URL_MAX = 500
# What a webhook URL may look like, stated once for the schema and the checks: http(s), a host name of
# up to four labels (or localhost, or an IPv4 address), an optional port, path and query.
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_IPV4 = r"(?:(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])\.){3}(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])"
_HOST = rf"(?:{_LABEL}(?:\.{_LABEL}){{0,2}}\.[A-Za-z]{{2,24}}|localhost|{_IPV4})"
_REST = r"(?:[A-Za-z0-9._~!$&'()*+,;=:@/-]|%[0-9A-Fa-f]{2})"  # a % only as an escape (RFC 3986)
URL_PATTERN = rf"^https?://{_HOST}(?::[0-9]{{1,5}})?(?:/{_REST}*)?(?:\?{_REST}*)?$"


def webhook_url_problem(url: str) -> str | None:
    if len(url) > URL_MAX:
        return f"At most {URL_MAX} characters."
    # A private or local target is named as such first (whatever its spelling, IPv6 literals included).
    try:
        problem = outbound.url_problem(url)
    except ValueError:  # not a URL at all ("http://[")
        problem = None
    if problem is None and not re.fullmatch(URL_PATTERN, url):
        problem = "Use an http or https URL with a host name, e.g. https://shop.example.com/hooks."
    return problem


def webhook_events_problem(events: Iterable[str]) -> str | None:
    events = list(events)
    if not events:
        return "Choose at least one event type."
    unknown = sorted(set(events) - set(webhook_event_types()))
    if unknown:
        return f"Unknown event types: {', '.join(unknown)}. Known: {', '.join(webhook_event_types())}."
    return None


def _check(*, url: str | None = None, events: Iterable[str] | None = None, secret: str | None = None) -> None:
    problems = {
        "url": webhook_url_problem(url) if url is not None else None,
        "events": webhook_events_problem(events) if events is not None else None,
        "secret": webhook_secret_problem(secret) if secret else None,
    }
    fields = {name: [problem] for name, problem in problems.items() if problem}
    if fields:
        raise DomainError("invalid_webhook", "The webhook endpoint cannot be used as given.", fields=fields)


def _ordered(events: Iterable[str]) -> list[str]:
    wanted = set(events)
    return [name for name in webhook_event_types() if name in wanted]


@transaction.atomic
def webhook_endpoint_create(
    *, partner: Partner, url: str, events: Iterable[str], secret: str = "", is_active: bool = True, actor=None
) -> WebhookEndpoint:
    """A new endpoint for the partner; without a secret one is generated (whsec_ + 32 random bytes)."""
    events = list(events)
    _check(url=url, events=events, secret=secret)
    endpoint = WebhookEndpoint.objects.create(
        partner=partner, url=url, events=_ordered(events), secret=secret or webhook_secret_new(), is_active=is_active
    )
    audit_record(
        actor=actor,
        action="webhook.register",
        target=endpoint,
        changes={"partner": partner.pk, "url": url, "events": endpoint.events, "is_active": is_active},
    )
    return endpoint


@transaction.atomic
def webhook_endpoint_update(
    *,
    endpoint: WebhookEndpoint,
    url: str | None = None,
    events: Iterable[str] | None = None,
    is_active: bool | None = None,
    actor=None,
) -> WebhookEndpoint:
    """Change what is given (None: unchanged). Deliveries already created keep their endpoint."""
    events = list(events) if events is not None else None
    _check(url=url, events=events)
    changes = {}
    for name, value in (("url", url), ("events", _ordered(events) if events is not None else None)):
        if value is not None and value != getattr(endpoint, name):
            changes[name] = [getattr(endpoint, name), value]
            setattr(endpoint, name, value)
    if is_active is not None and is_active != endpoint.is_active:
        changes["is_active"] = [endpoint.is_active, is_active]
        endpoint.is_active = is_active
    if changes:
        endpoint.save(update_fields=list(changes))
        audit_record(actor=actor, action="webhook.change", target=endpoint, changes=changes)
    return endpoint


@transaction.atomic
def webhook_secret_rotate(
    *, endpoint: WebhookEndpoint, overlap: timedelta = ROTATION_OVERLAP_DEFAULT, actor=None
) -> WebhookEndpoint:
    """A new secret at once; the current one keeps signing deliveries (as a second webhook-signature)
    for `overlap` (0 to 7 days), so the receiver can switch without refusing a delivery. Rotating
    again during an overlap ends the older one: only the two newest secrets ever sign."""
    if not timedelta(0) <= overlap <= ROTATION_OVERLAP_MAX:
        raise DomainError(
            "invalid_overlap",
            "The overlap is 0 to 168 hours.",
            fields={"overlap_hours": ["0 to 168."]},
        )
    endpoint = WebhookEndpoint.objects.select_for_update().get(pk=endpoint.pk)
    now = timezone.now()
    endpoint.previous_secret = endpoint.secret if overlap else ""
    endpoint.previous_secret_expires_at = now + overlap if overlap else None
    endpoint.secret = webhook_secret_new()
    endpoint.save(update_fields=["secret", "previous_secret", "previous_secret_expires_at"])
    audit_record(
        actor=actor,
        action="webhook.rotate_secret",
        target=endpoint,
        changes={"previous_secret_expires_at": endpoint.previous_secret_expires_at},
    )
    return endpoint


@transaction.atomic
def webhook_test_send(*, endpoint: WebhookEndpoint, actor=None) -> WebhookDelivery:
    """A `webhook.test` delivery to this endpoint only (even inactive, to try it before switching it
    on), signed and retried like any other. Its `id` is null: it stands for no event."""
    now = timezone.now()
    body = json.dumps(
        {
            "id": None,
            "type": TEST_EVENT_TYPE,
            "created": now,
            "data": {"endpoint": endpoint.pk, "partner": endpoint.partner_id},
        },
        cls=DjangoJSONEncoder,
        separators=(",", ":"),
    )
    delivery = WebhookDelivery.objects.create(
        endpoint=endpoint, event=None, event_type=TEST_EVENT_TYPE, body=body, next_attempt_at=now
    )
    audit_record(actor=actor, action="webhook.test", target=endpoint, changes={"delivery": delivery.pk})
    enqueue_on_commit(DELIVER_TASK, delivery.pk)
    return delivery


@transaction.atomic
def webhook_redeliver(*, delivery: WebhookDelivery, actor=None) -> WebhookDelivery:
    """Send a delivery again now, with a fresh attempt budget and the same bytes and webhook-id."""
    delivery = webhook_resend(delivery=delivery)
    audit_record(actor=actor, action="webhook.redeliver", target=delivery.endpoint, changes={"delivery": delivery.pk})
    enqueue_on_commit(DELIVER_TASK, delivery.pk)
    return delivery
