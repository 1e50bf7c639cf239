"""Bulk email for large campaigns: hundreds of deliveries claimed in one statement, each (variant, language)
rendered once with the provider's placeholders, one API call per batch with every recipient's variables,
the batch id as the provider's idempotency key, and the sends recorded in one UPDATE.

Offer campaigns go the same way: the claim issues each member's grant in the same transaction (within the
campaign's budget), and the code, its offer and its expiry are per-recipient variables.

Exactly once across a crash: the claim (queued -> sending, with the batch id) commits before the call.
A worker killed after it leaves the batch 'sending'; whoever finds it next (the re-delivered chunk task,
or the beat's `deliveries_send_due`) sends the same batch again under the same key, and the provider
accepts it once. Past the provider's key lifetime (`CAMPAIGN_BATCH_RESEND_WITHIN`) a stuck row is closed
as failed instead, as the one-by-one path does.

Used when EMAIL_BACKEND is a provider listed in PLACEHOLDERS and CAMPAIGN_EMAIL_BATCH > 1; SMTP and the
console keep the one-message-at-a-time path.
"""

import logging
import uuid
from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime

from anymail.exceptions import AnymailError, AnymailRequestsAPIError
from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db import connection, transaction
from django.utils import translation

from campaigns.models import Campaign, Delivery, OfferGrant, Variant
from campaigns.rendering import Renderer, email_message
from campaigns.selectors import personalization
from campaigns.services.offers import offer_budget_remaining, offer_grant_issue
from members.links import unsubscribe_headers

logger = logging.getLogger(__name__)

# How each bulk-capable provider writes a per-recipient variable in a message (Brevo's template language;
# it HTML-escapes the values in the HTML part). Another provider: its backend path and its syntax.
PLACEHOLDERS = {"anymail.backends.brevo.EmailBackend": "{{{{ params.{} }}}}"}
# Variables of the layout (templates/campaigns/email.html and .txt) that differ per member.
LAYOUT_VARIABLES = ("balance", "points_name", "tier", "unsubscribe_url")
# The layout's offer block: empty for a campaign without an offer, the member's grant otherwise.
OFFER_VARIABLES = ("offer", "offer_details", "code", "expiry")


def bulk_email_placeholder() -> str | None:
    """The provider's placeholder syntax when campaign emails go out in batches, else None."""
    if settings.CAMPAIGN_EMAIL_BATCH <= 1:
        return None
    return PLACEHOLDERS.get(settings.EMAIL_BACKEND)


def deliveries_claim(*, ids: list[int], now: datetime, batch: uuid.UUID) -> set[int]:
    """queued -> sending for these rows in one statement, stamped with the batch; rows another worker holds
    or already took are left out. Commits at once (autocommit): it must be durable before the call."""
    table = Delivery._meta.db_table
    batch_value = Delivery._meta.get_field("batch").get_db_prep_value(batch, connection)
    marks = ", ".join(["%s"] * len(ids))
    lock = " FOR UPDATE SKIP LOCKED" if connection.vendor == "postgresql" else ""
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET status = %s, sent_at = %s, batch = %s WHERE id IN ("  # noqa: S608
            f"SELECT id FROM {table} WHERE id IN ({marks}) AND status = %s{lock}) RETURNING id",
            [Delivery.Status.SENDING, now, batch_value, *ids, Delivery.Status.QUEUED],
        )
        return {row[0] for row in cursor.fetchall()}


def offer_deliveries_claim(
    *, campaign: Campaign, deliveries: list[Delivery], now: datetime, batch: uuid.UUID
) -> list[Delivery]:
    """The bulk claim of an offer campaign's deliveries: queued -> sending and each member's grant issued in
    one transaction, so a claimed row always has its code (a resend finds it) and a grant never exists for
    a message that was not claimed. Past the budget the rest are skipped, as the one-by-one path does.
    Returns the claimed deliveries."""
    with transaction.atomic():
        remaining = None
        if campaign.budget_offers is not None or campaign.budget_points is not None:
            # The campaign row lock: parallel chunks of one campaign cannot overspend its budget.
            Campaign.objects.select_for_update().filter(pk=campaign.pk).first()
            remaining = offer_budget_remaining(campaign, campaign.offer)
        within = deliveries if remaining is None else deliveries[:remaining]
        claimed = deliveries_claim(ids=[d.pk for d in within], now=now, batch=batch) if within else set()
        over = [d.pk for d in deliveries[len(within) :]]
        if over:
            Delivery.objects.filter(pk__in=over, status=Delivery.Status.QUEUED).update(
                status=Delivery.Status.SKIPPED, reason=Delivery.Reason.BUDGET
            )
        claimed_rows = [d for d in within if d.pk in claimed]
        for delivery in claimed_rows:
            offer_grant_issue(delivery, now)
    return claimed_rows


def deliveries_record_sent(done: Iterable[tuple[int, str]]) -> None:
    """sending -> sent with each message's provider id, one UPDATE ... FROM (VALUES ...) for the lot (not
    bulk_update: its CASE expression cost more Python time per message than building the email). Without
    waiting for the WAL flush on PostgreSQL: a record lost in a database crash leaves the rows 'sending'
    with their batch, which is resent under the same idempotency key, so nothing goes out twice."""
    done = list(done)
    if not done:
        return
    table = Delivery._meta.db_table
    values = ", ".join(["(%s, %s)"] * len(done))
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET LOCAL synchronous_commit TO OFF")
        cursor.execute(
            f"UPDATE {table} SET status = %s, provider_id = v.column2 FROM (VALUES {values}) AS v"  # noqa: S608
            f" WHERE {table}.id = v.column1",
            [Delivery.Status.SENT, *(x for pair in done for x in pair)],
        )


def _placeholders(syntax: str, names: Iterable[str]) -> dict[str, str]:
    return {name: syntax.format(name) for name in names}


def _values(context: dict, names: Iterable[str]) -> dict[str, str]:
    """The member's own values of the variables their message places (lazy ones only when placed); an
    unknown name reads empty, as Django's templates render it."""
    values = {}
    for name in names:
        value = context.get(name, "")
        values[name] = str(value() if callable(value) else value)
    return values


def emails_send_bulk(*, deliveries: list[Delivery], batch: uuid.UUID, now: datetime, placeholder: str) -> int:
    """Send a claimed batch of emails: one provider call per (variant, language, has a tier) group with
    each member's variables (and their offer's code, when the campaign has an offer), under the batch's
    idempotency key. Returns how many were accepted; rows of a call the provider refused are marked failed,
    rows of a call that did not get an answer stay 'sending' for the resend."""
    groups: dict[tuple, list[Delivery]] = defaultdict(list)
    for delivery in deliveries:
        groups[(delivery.variant_id, delivery.member.language, bool(delivery.member.tier_id))].append(delivery)
    with_offer = [d.pk for d in deliveries if d.campaign.offer_id]
    grants = (
        {g.delivery_id: g for g in OfferGrant.objects.filter(delivery_id__in=with_offer).select_related("offer")}
        if with_offer
        else {}
    )
    render, done, mail = Renderer(), [], get_connection()
    for (_variant_id, language, has_tier), group in sorted(groups.items(), key=lambda item: str(item[0])):
        with translation.override(language):
            sent = _send_group(group, batch, now, placeholder, render, mail, has_tier, grants)
        done += sent
    deliveries_record_sent(done)
    return len(done)


def _send_group(
    group, batch, now, placeholder, render: Renderer, mail, has_tier: bool, grants: dict[int, OfferGrant]
) -> list[tuple[int, str]]:
    variant: Variant = group[0].variant
    placed = render.placed_variables(variant)
    if placed is None:
        # The texts compute with personal values: each member's copy is rendered in full, still one call.
        return _send_each(group, batch, now, render, mail, grants)
    names = (placed | set(LAYOUT_VARIABLES)) - ({"tier"} if not has_tier else set())
    if group[0].campaign.offer_id:
        names |= set(OFFER_VARIABLES)
    page = {name: "" for name in (*OFFER_VARIABLES, "tier")}
    page.update(_placeholders(placeholder, names))
    rendered = render.email(variant=variant, context=page, unsubscribe_url=page["unsubscribe_url"])
    recipients, data, headers, metadata, seen = [], {}, {}, {}, set()
    repeats = []
    for delivery in group:
        member = delivery.member
        if member.email.lower() in seen:  # the provider keys variables by address: one per call
            repeats.append(delivery)
            continue
        seen.add(member.email.lower())
        context = personalization(member=member, grant=grants.get(delivery.pk), now=now)
        member_headers = unsubscribe_headers(member)
        context["unsubscribe_url"] = member_headers["List-Unsubscribe"].strip("<>")
        recipients.append(member.email)
        data[member.email] = _values(context, names)
        headers[member.email] = member_headers
        metadata[member.email] = {"delivery": str(delivery.pk)}
    message = EmailMultiAlternatives(
        subject=rendered.subject, body=rendered.text, to=recipients, connection=mail, headers={}
    )
    message.attach_alternative(rendered.html, "text/html")
    message.merge_data, message.merge_headers, message.merge_metadata = data, headers, metadata
    # One key per call: the batch id, and the group inside it (a resend rebuilds the same groups).
    message.extra_headers["idempotencyKey"] = str(uuid.uuid5(batch, f"{variant.pk}:{rendered.language}:{has_tier}"))
    done = _call(message, [d for d in group if d not in repeats])
    return done + (_send_each(repeats, batch, now, render, mail, grants) if repeats else [])


def _send_each(group, batch, now, render: Renderer, mail, grants: dict[int, OfferGrant]) -> list[tuple[int, str]]:
    done = []
    for delivery in group:
        member = delivery.member
        headers = unsubscribe_headers(member)
        context = personalization(member=member, grant=grants.get(delivery.pk), now=now)
        rendered = render.email(
            variant=delivery.variant, context=context, unsubscribe_url=headers["List-Unsubscribe"].strip("<>")
        )
        message = email_message(rendered=rendered, to=member.email, headers=headers, connection=mail)
        message.extra_headers["idempotencyKey"] = str(uuid.uuid5(batch, str(delivery.pk)))
        message.metadata = {"delivery": str(delivery.pk)}
        done += _call(message, [delivery])
    return done


def _call(message, deliveries: list[Delivery]) -> list[tuple[int, str]]:
    """One provider call. Refused (4xx): the rows fail with the reason. No answer (network, 5xx): they stay
    'sending' with their batch, to be resent under the same key."""
    try:
        message.send()
    except AnymailRequestsAPIError as exc:
        status = getattr(exc, "status_code", None)
        if status is not None and 400 <= status < 500 and status != 429:
            Delivery.objects.filter(pk__in=[d.pk for d in deliveries]).update(
                status=Delivery.Status.FAILED, error=str(exc)[:255]
            )
        logger.warning("bulk email call failed for %d deliveries (status %s)", len(deliveries), status)
        return []
    except (AnymailError, OSError):
        logger.warning("bulk email call got no answer for %d deliveries", len(deliveries), exc_info=True)
        return []
    statuses = message.anymail_status.recipients
    return [(d.pk, (statuses[d.member.email].message_id or "")[:200]) for d in deliveries]
