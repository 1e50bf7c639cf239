"""Sending: deliveries are claimed (queued -> sending) before the message leaves, so a re-run task or a
crashed worker never sends one twice; emails go over one SMTP session per batch, SMS respect quiet
hours, and an offer's grant is issued in the claim's transaction."""

import logging
import uuid
from datetime import datetime, timedelta

from django.conf import settings
from django.core.mail import get_connection
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone, translation

from campaigns.models import Campaign, Delivery, OfferGrant
from campaigns.rendering import Renderer, email_message
from campaigns.selectors import personalization, quiet_until
from campaigns.services.bulk import (
    bulk_email_placeholder,
    deliveries_claim,
    deliveries_record_sent,
    emails_send_bulk,
    offer_deliveries_claim,
)
from campaigns.services.offers import offer_budget_left, offer_grant_issue
from core.sms import send_sms
from members.links import unsubscribe_headers, unsubscribe_url
from members.models import Member

logger = logging.getLogger(__name__)

CHUNK = 1000
# Deliveries claimed and recorded together: one commit per group. A worker killed mid-group leaves every
# message of the group 'sending', and those are never resent (at most once), so their members would get
# nothing. One per group keeps that loss to the single message in flight, which is the guarantee
# tests/reliability/test_worker_killed.py holds us to; groups of 100 were 1.5x faster (bench/RESULTS.md).
SEND_GROUP = 1


def _skip(delivery: Delivery, reason: str) -> None:
    Delivery.objects.filter(pk=delivery.pk, status=Delivery.Status.QUEUED).update(
        status=Delivery.Status.SKIPPED, reason=reason
    )


def _claim(delivery: Delivery, now: datetime) -> tuple[bool, OfferGrant | None]:
    """queued -> sending in one transaction, together with the offer grant. (False, None): not to send now."""
    campaign, member = delivery.campaign, delivery.member
    if member.status != Member.Status.ACTIVE:
        _skip(delivery, Delivery.Reason.INACTIVE)
        return False, None
    if delivery.channel == Delivery.Channel.SMS:
        wake = quiet_until(campaign=campaign, member=member, now=now)
        if wake is not None:
            Delivery.objects.filter(pk=delivery.pk, status=Delivery.Status.QUEUED).update(
                send_after=wake, reason=Delivery.Reason.QUIET_HOURS
            )
            return False, None
    claim = Delivery.objects.filter(pk=delivery.pk, status=Delivery.Status.QUEUED)
    if not campaign.offer_id:
        return bool(claim.update(status=Delivery.Status.SENDING, sent_at=now)), None
    with transaction.atomic():
        if campaign.budget_offers is not None or campaign.budget_points is not None:
            # Only a budget needs the campaign row lock; without one, chunks send in parallel.
            Campaign.objects.select_for_update().filter(pk=campaign.pk).first()
            if not offer_budget_left(campaign, campaign.offer):
                _skip(delivery, Delivery.Reason.BUDGET)
                return False, None
        if not claim.update(status=Delivery.Status.SENDING, sent_at=now):
            return False, None
        return True, offer_grant_issue(delivery, now)


def _send_email(delivery: Delivery, context: dict, render: Renderer, mail) -> str:
    member = delivery.member
    headers = unsubscribe_headers(member)
    rendered = render.email(
        variant=delivery.variant, context=context, unsubscribe_url=headers["List-Unsubscribe"].strip("<>")
    )
    message = email_message(rendered=rendered, to=member.email, headers=headers, connection=mail)
    message.send()
    return message.extra_headers["Message-ID"]


def _send_sms(delivery: Delivery, context: dict, render: Renderer) -> str:
    member = delivery.member
    body = render.sms(variant=delivery.variant, context=context, stop_url=unsubscribe_url(member, "sms"))
    return send_sms(to=member.phone, body=body)


def _claim_plain(deliveries: list[Delivery], now: datetime) -> list[Delivery]:
    """queued -> sending for a group of emails without offers, in one transaction: the same exactly-once
    claim as `_claim`, one commit per group instead of one per message."""
    with transaction.atomic():
        # skip_locked: rows another worker is claiming right now are its to send.
        ids = set(
            Delivery.objects.select_for_update(skip_locked=True)
            .filter(pk__in=[d.pk for d in deliveries], status=Delivery.Status.QUEUED)
            .values_list("pk", flat=True)
        )
        Delivery.objects.filter(pk__in=ids).update(status=Delivery.Status.SENDING, sent_at=now)
    return [d for d in deliveries if d.pk in ids]


class _Mailer:
    """One SMTP session for a whole batch (opening one per message cost more than building the message).
    After a failure the session is reopened, so one bad message does not fail the rest."""

    def __init__(self) -> None:
        self.connection = get_connection()

    def __enter__(self) -> "_Mailer":
        self._open()
        return self

    def __exit__(self, *exc) -> None:
        self.connection.close()

    def _open(self) -> None:
        try:
            self.connection.open()
        except OSError:
            # The server is unreachable now: each message then tries on its own and fails visibly.
            logger.warning("could not open the mail connection for a batch", exc_info=True)

    def failed(self) -> None:
        self.connection.close()
        self._open()


def deliveries_send_batch(*, deliveries: QuerySet[Delivery], now: datetime | None = None) -> int:
    """Send the queued, due deliveries among these, each at most once. Returns how many went out."""
    now = now or timezone.now()
    due = list(
        deliveries.filter(Q(send_after__isnull=True) | Q(send_after__lte=now), status=Delivery.Status.QUEUED)
        .exclude(campaign__status=Campaign.Status.PAUSED)
        # The campaign, its offer, the variant and the program are the same few rows for a whole batch:
        # prefetched once each rather than instantiated again on every delivery.
        .select_related("member__tier")
        .prefetch_related("campaign__offer", "member__program", "variant")
        .order_by("pk")
    )
    render, sent = Renderer(), 0
    placeholder = bulk_email_placeholder()
    if placeholder:
        sent += deliveries_resend_stuck(deliveries=deliveries, now=now, placeholder=placeholder)
        bulk = [d for d in due if _bulk_email(d)]
        due = [d for d in due if not _bulk_email(d)]
        size = settings.CAMPAIGN_EMAIL_BATCH
        plain = [d for d in bulk if not d.campaign.offer_id]
        for i in range(0, len(plain), size):
            part, batch = plain[i : i + size], uuid.uuid4()
            claimed = deliveries_claim(ids=[d.pk for d in part], now=now, batch=batch)
            part = [d for d in part if d.pk in claimed]
            sent += emails_send_bulk(deliveries=part, batch=batch, now=now, placeholder=placeholder)
        by_campaign: dict[int, list[Delivery]] = {}
        for delivery in bulk:
            if delivery.campaign.offer_id:
                by_campaign.setdefault(delivery.campaign_id, []).append(delivery)
        for rows in by_campaign.values():
            for i in range(0, len(rows), size):
                batch = uuid.uuid4()
                part = offer_deliveries_claim(
                    campaign=rows[0].campaign, deliveries=rows[i : i + size], now=now, batch=batch
                )
                sent += emails_send_bulk(deliveries=part, batch=batch, now=now, placeholder=placeholder)
    if not due:
        return sent
    with _Mailer() as mailer:
        for i in range(0, len(due), SEND_GROUP):
            sent += _send_group(due[i : i + SEND_GROUP], now, render, mailer)
    return sent


def _bulk_email(delivery: Delivery) -> bool:
    """An email to an active member, with or without an offer: the kind that goes out in bulk."""
    return delivery.channel == Delivery.Channel.EMAIL and delivery.member.status == Member.Status.ACTIVE


def deliveries_resend_stuck(
    *, deliveries: QuerySet[Delivery], now: datetime, placeholder: str, idle: timedelta = timedelta(0)
) -> int:
    """Batches claimed but never recorded (the worker died between the claim and the record, or the call
    got no answer), still within the provider's idempotency window: send them again under the same key."""
    window = timedelta(seconds=settings.CAMPAIGN_BATCH_RESEND_WITHIN)
    stuck = (
        deliveries.filter(
            status=Delivery.Status.SENDING, batch__isnull=False, sent_at__gt=now - window, sent_at__lte=now - idle
        )
        # The campaign, its offer, the variant and the program are the same few rows for a whole batch:
        # prefetched once each rather than instantiated again on every delivery.
        .select_related("member__tier")
        .prefetch_related("campaign__offer", "member__program", "variant")
        .order_by("pk")
    )
    batches: dict = {}
    for delivery in stuck:
        batches.setdefault(delivery.batch, []).append(delivery)
    sent = 0
    for batch, rows in batches.items():
        logger.info("resending batch %s (%d deliveries) under its idempotency key", batch, len(rows))
        sent += emails_send_bulk(deliveries=rows, batch=batch, now=now, placeholder=placeholder)
    return sent


def _send_group(group: list[Delivery], now: datetime, render: Renderer, mailer: _Mailer) -> int:
    """Claim, send and record a group of deliveries. Emails without offers are claimed and recorded
    in one statement each for the whole group; offers (a grant per message) and SMS (quiet hours)
    are claimed one by one, as before."""
    claimed: list[tuple[Delivery, OfferGrant | None]] = []
    plain = []
    for delivery in group:
        if delivery.member.status != Member.Status.ACTIVE:
            _skip(delivery, Delivery.Reason.INACTIVE)
        elif delivery.campaign.offer_id or delivery.channel != Delivery.Channel.EMAIL:
            ok, grant = _claim(delivery, now)
            if ok:
                claimed.append((delivery, grant))
        else:
            plain.append(delivery)
    if plain:
        claimed += [(delivery, None) for delivery in _claim_plain(plain, now)]
    done = []
    for delivery, grant in sorted(claimed, key=lambda pair: pair[0].pk):
        member = delivery.member
        try:
            with translation.override(member.language):
                context = personalization(member=member, grant=grant, now=now)
                if delivery.channel == Delivery.Channel.EMAIL:
                    provider_id = _send_email(delivery, context, render, mailer.connection)
                else:
                    provider_id = _send_sms(delivery, context, render)
        except Exception as exc:
            logger.exception("delivery %s failed", delivery.pk)
            Delivery.objects.filter(pk=delivery.pk).update(status=Delivery.Status.FAILED, error=str(exc)[:255])
            if delivery.channel == Delivery.Channel.EMAIL:
                mailer.failed()
        else:
            done.append((delivery.pk, provider_id[:200]))
    deliveries_record_sent(done)
    return len(done)


def deliveries_send_due(*, now: datetime | None = None) -> int:
    """Beat: send deliveries whose wait is over (quiet hours, post-purchase delay) or whose task was lost."""
    now = now or timezone.now()
    # Claimed long ago and never marked sent: the worker died between claiming the row and recording
    # the send (SIGKILL, OOM). Whether the message left is unknown, and sending again could make it
    # twice, so the row is closed as failed for a person to look at (at most once, never twice).
    # A bulk batch within the provider's idempotency window is sent again under its key instead.
    window = timedelta(seconds=settings.CAMPAIGN_BATCH_RESEND_WITHIN)
    sent = 0
    if placeholder := bulk_email_placeholder():
        sent += deliveries_resend_stuck(
            deliveries=Delivery.objects.all(), now=now, placeholder=placeholder, idle=timedelta(minutes=1)
        )
    Delivery.objects.filter(status=Delivery.Status.SENDING, sent_at__lt=now - window).update(
        status=Delivery.Status.FAILED, error="Interrupted while sending (worker lost); not sent again."
    )
    due = Q(send_after__lte=now) | Q(send_after__isnull=True, created_at__lte=now - timedelta(minutes=10))
    last = 0
    while True:
        ids = list(
            Delivery.objects.filter(due, status=Delivery.Status.QUEUED, pk__gt=last)
            .order_by("pk")
            .values_list("pk", flat=True)[:CHUNK]
        )
        if not ids:
            return sent
        sent += deliveries_send_batch(deliveries=Delivery.objects.filter(pk__in=ids), now=now)
        last = ids[-1]
