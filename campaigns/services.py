"""Writes for campaigns: static segments, launching, fan-out into deliveries, sending, offers, journeys.

Exactly-once: every (campaign, member, occurrence) has one Delivery row (unique constraint, rows are
inserted with ignore_conflicts), and a row is claimed (queued -> sending) in its own transaction before
the message leaves, so a re-run task or a crashed worker never sends it twice.
"""

import logging
from datetime import datetime, timedelta
from decimal import ROUND_FLOOR, Decimal
from email.utils import make_msgid
from urllib.parse import urlsplit

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db import connection, transaction
from django.db.models import Max, Min, Q, QuerySet
from django.template import Context, Template
from django.template.loader import get_template
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from campaigns.models import (
    MESSAGE_ENGINE,
    Campaign,
    Delivery,
    Offer,
    OfferGrant,
    RewardInterest,
    Segment,
    SegmentMember,
    Variant,
)
from campaigns.selectors import (
    assignment,
    birthday_q,
    campaign_audience,
    capped_members,
    personalization,
    quiet_until,
    segment_members,
)
from core.csvfiles import ImportMode, ImportRejected, ImportReport, RowError, csv_rows, rows_settle
from core.enqueue import enqueue, enqueue_on_commit
from core.errors import DomainError
from core.sms import send_sms
from members import services as member_services
from members.earning import lines_from_items
from members.links import unsubscribe_headers, unsubscribe_url
from members.models import LedgerEntry, Member, Purchase
from members.selectors import add_months
from rewards import services as rewards_services

logger = logging.getLogger(__name__)

CHUNK = 1000
# Deliveries claimed and recorded together: one commit per group. A worker killed mid-group leaves every
# message of the group 'sending', and those are never resent (at most once), so their members would get
# nothing. One per group keeps that loss to the single message in flight, which is the guarantee
# tests/reliability/test_worker_killed.py holds us to; groups of 100 were 1.5x faster (bench/RESULTS.md).
SEND_GROUP = 1
_MEMBER_FIELDS = ("pk", "consent_email", "consent_sms", "phone", "birth_date", "last_purchase_at", "enrolled_at")


# --- segments --------------------------------------------------------------------------------


@transaction.atomic
def segment_freeze(*, segment: Segment, name: str = "") -> Segment:
    """Copy today's members of a segment into a new static list."""
    now = timezone.now()
    frozen = Segment.objects.create(
        name=name or f"{segment.name} ({timezone.localdate(now):%Y-%m-%d})",
        program=segment.program,
        kind=Segment.Kind.STATIC,
        description=segment.description,
        frozen_from=segment,
    )
    ids = segment_members(segment=segment, now=now).order_by("pk").values_list("pk", flat=True)
    last = 0
    while True:
        chunk = list(ids.filter(pk__gt=last)[:CHUNK])
        if not chunk:
            return frozen
        SegmentMember.objects.bulk_create([SegmentMember(segment=frozen, member_id=i) for i in chunk])
        last = chunk[-1]


@transaction.atomic
def segment_import_csv(*, segment: Segment, data: str, mode: str = ImportMode.ALL_OR_NOTHING) -> ImportReport:
    """Add members to a static segment from CSV with a `number` or `email` column (or one bare column).
    A line naming no active member of the segment's program is a bad line: `mode` says whether it
    refuses the file or is skipped. Members already in the list count as unchanged."""
    if segment.kind != Segment.Kind.STATIC:
        raise DomainError("not_static", _("Only a static segment takes an imported list."))
    rows = list(csv_rows(data))
    if not rows:
        raise ImportRejected([RowError(1, _("The file has no lines."))])
    header = [h.strip().lower() for h in rows[0][1]]
    column = next((header.index(c) for c in ("number", "email") if c in header), None)
    if column is None and len(header) > 1:
        # Several columns and none we know: guessing one would add the wrong members.
        raise ImportRejected([RowError(rows[0][0], _("The header line needs a 'number' or an 'email' column."))])
    body = rows[1:] if column is not None else rows
    column = column or 0
    values = {line: r[column].strip() if len(r) > column else "" for line, r in body}
    members = Member.objects.filter(status=Member.Status.ACTIVE)
    if segment.program_id:
        members = members.filter(program_id=segment.program_id)
    wanted = {v for v in values.values() if v}
    by_number = dict(members.filter(number__in=wanted).values_list("number", "pk"))
    by_email = dict(members.filter(email__in={v.lower() for v in wanted - set(by_number)}).values_list("email", "pk"))
    found, errors = {}, []
    for line, value in values.items():
        pk = by_number.get(value) or by_email.get(value.lower())
        if pk:
            found[line] = pk
        elif not value:
            errors.append(RowError(line, _("The member number or email is empty.")))
        else:
            errors.append(RowError(line, _("'%(value)s' is no active member of this program.") % {"value": value[:80]}))
    skipped = rows_settle(errors, mode)
    ids = set(found.values())
    before = segment.entries.count()
    SegmentMember.objects.bulk_create(
        [SegmentMember(segment=segment, member_id=i) for i in ids], ignore_conflicts=True, batch_size=CHUNK
    )
    added = segment.entries.count() - before
    return ImportReport(added=added, unchanged=len(found) - added, skipped=skipped)


# --- launching -------------------------------------------------------------------------------


def _validate(campaign: Campaign) -> None:
    errors: dict[str, list[str]] = {}
    if not campaign.variants.exists():
        errors["variants"] = ["Add at least one message variant."]
    if not (campaign.channel_email or campaign.channel_sms):
        errors["channel_email"] = ["Choose at least one channel."]
    if campaign.offer_id and campaign.offer.program_id != campaign.program_id:
        errors["offer"] = ["The offer belongs to another program."]
    if campaign.offer_id and campaign.offer.kind == Offer.Kind.REWARD and not campaign.offer.reward_id:
        errors["offer"] = ["Choose the catalog reward this offer grants."]
    if campaign.segment_id and campaign.segment.program_id not in (None, campaign.program_id):
        errors["segment"] = ["The segment belongs to another program."]
    if errors:
        raise DomainError("invalid_campaign", "The campaign cannot start yet.", fields=errors)


def _next_run(campaign: Campaign, after: datetime) -> datetime | None:
    step = {
        Campaign.Recurrence.DAILY: lambda t: t + timedelta(days=1),
        Campaign.Recurrence.WEEKLY: lambda t: t + timedelta(weeks=1),
        Campaign.Recurrence.MONTHLY: lambda t: add_months(t, 1),
    }.get(campaign.recurrence)
    return step(after) if step else None


@transaction.atomic
def campaign_launch(*, campaign: Campaign, by=None) -> Campaign:
    """Start a campaign: journeys become active; broadcasts go now or wait for their time."""
    campaign = Campaign.objects.select_for_update().get(pk=campaign.pk)
    before = campaign.status
    if campaign.status not in (Campaign.Status.DRAFT, Campaign.Status.PAUSED):
        raise DomainError("already_launched", "The campaign is already running.", status=409)
    _validate(campaign)
    now = timezone.now()
    campaign.launched_at = campaign.launched_at or now
    if campaign.trigger:
        campaign.status = Campaign.Status.ACTIVE
    else:
        campaign.status = Campaign.Status.SCHEDULED
        campaign.next_run_at = max(campaign.send_at or now, now)
    campaign.save(update_fields=["status", "launched_at", "next_run_at"])
    if campaign.next_run_at and campaign.next_run_at <= now:
        _start_run(campaign, now)
    if by is not None:
        member_services.audit_record(
            actor=by, action="campaign.launch", target=campaign, changes={"status": [before, campaign.status]}
        )
    return campaign


@transaction.atomic
def campaign_pause(*, campaign: Campaign, by=None) -> Campaign:
    """Stop further runs and unsent messages; deliveries already sent stay."""
    updated = Campaign.objects.filter(
        pk=campaign.pk, status__in=[Campaign.Status.SCHEDULED, Campaign.Status.SENDING, Campaign.Status.ACTIVE]
    ).update(status=Campaign.Status.PAUSED)
    if not updated:
        raise DomainError("not_running", "The campaign is not running.", status=409)
    before = campaign.status
    campaign.refresh_from_db()
    if by is not None:
        member_services.audit_record(
            actor=by, action="campaign.pause", target=campaign, changes={"status": [before, campaign.status]}
        )
    return campaign


def _start_run(campaign: Campaign, now: datetime) -> None:
    """Advance the schedule and hand the run to the fan-out task once this transaction commits."""

    occurrence = "" if campaign.recurrence == Campaign.Recurrence.ONCE else f"run:{campaign.next_run_at:%Y-%m-%d}"
    campaign.next_run_at = _next_run(campaign, campaign.next_run_at)
    campaign.status = Campaign.Status.SENDING if campaign.next_run_at is None else Campaign.Status.SCHEDULED
    campaign.save(update_fields=["next_run_at", "status"])
    enqueue_on_commit("campaigns.tasks.campaign_fan_out", campaign.pk, occurrence)


def campaigns_run_due(*, now: datetime | None = None) -> int:
    """Beat: start every scheduled run whose time has come."""
    now = now or timezone.now()
    started = 0
    for campaign_id in Campaign.objects.filter(status=Campaign.Status.SCHEDULED, next_run_at__lte=now).values_list(
        "pk", flat=True
    ):
        with transaction.atomic():
            campaign = Campaign.objects.select_for_update().get(pk=campaign_id)
            if campaign.status == Campaign.Status.SCHEDULED and campaign.next_run_at <= now:
                _start_run(campaign, now)
                started += 1
    return started


def campaigns_resume_stalled(*, now: datetime | None = None, after: timedelta = timedelta(minutes=10)) -> int:
    """Beat: a broadcast still "sending" long after its run began lost its fan-out task (broker down at
    launch, worker lost before it ran). Fan out again: delivery rows are unique and sends are claimed,
    so a second fan-out only fills the gaps."""

    now = now or timezone.now()
    stalled = Campaign.objects.filter(status=Campaign.Status.SENDING, launched_at__lt=now - after).filter(
        Q(send_at__isnull=True) | Q(send_at__lt=now - after)
    )
    ids = list(stalled.values_list("pk", flat=True))
    for campaign_id in ids:
        enqueue("campaigns.tasks.campaign_fan_out", campaign_id, "")
    return len(ids)


# --- fan-out ---------------------------------------------------------------------------------


def campaign_fan_out(*, campaign: Campaign, occurrence: str) -> list[tuple[int, int]]:
    """Split the audience into member-id ranges of CHUNK ids; each range becomes one task."""

    bounds = _rows_query(campaign, timezone.now()).aggregate(low=Min("pk"), high=Max("pk"))
    if bounds["low"] is None:
        ranges = []
    else:
        ranges = [(lo, lo + CHUNK) for lo in range(bounds["low"], bounds["high"] + 1, CHUNK)]
    for lo, hi in ranges:
        enqueue("campaigns.tasks.campaign_chunk", campaign.pk, occurrence, lo, hi)
    if campaign.status == Campaign.Status.SENDING:
        Campaign.objects.filter(pk=campaign.pk, status=Campaign.Status.SENDING).update(status=Campaign.Status.SENT)
    return ranges


def _rows_query(campaign: Campaign, now: datetime):
    """The audience of one run; periodic journeys add their trigger condition."""
    audience = campaign_audience(campaign=campaign, now=now)
    if campaign.trigger == Campaign.Trigger.BIRTHDAY:
        return audience.filter(birthday_q(campaign.trigger_days, timezone.localdate(now)))
    if campaign.trigger == Campaign.Trigger.WIN_BACK:
        cutoff = now - timedelta(days=campaign.trigger_days)
        return audience.filter(
            Q(last_purchase_at__lt=cutoff) | Q(last_purchase_at__isnull=True, enrolled_at__lt=cutoff)
        )
    return audience


def _occurrence(campaign: Campaign, row: dict, occurrence: str, today) -> str:
    """Periodic journeys fire once per birthday year or per lapse; broadcasts once per run."""
    if campaign.trigger == Campaign.Trigger.BIRTHDAY:
        birthday = row["birth_date"]
        year = today.year if (birthday.month, birthday.day) >= (today.month, today.day) else today.year + 1
        return f"birthday:{year}"
    if campaign.trigger == Campaign.Trigger.WIN_BACK:
        last = row["last_purchase_at"]
        return f"win_back:{last:%Y-%m-%d}" if last else "win_back:never"
    return occurrence


def campaign_chunk(*, campaign: Campaign, occurrence: str, low: int, high: int) -> int:
    """Create the deliveries of members low <= id < high (set-based), then send the ones due. Returns sent."""
    if campaign.status == Campaign.Status.PAUSED:
        return 0
    now = timezone.now()
    today = timezone.localdate(now)
    rows = list(_rows_query(campaign, now).filter(pk__gte=low, pk__lt=high).values(*_MEMBER_FIELDS))
    deliveries_queue(
        campaign=campaign, rows=[(row, _occurrence(campaign, row, occurrence, today)) for row in rows], now=now
    )
    return deliveries_send_batch(
        deliveries=Delivery.objects.filter(campaign=campaign, member_id__gte=low, member_id__lt=high), now=now
    )


def deliveries_queue(
    *, campaign: Campaign, rows: list[tuple[dict, str]], now: datetime, send_after: datetime | None = None
) -> None:
    """One delivery row per (campaign, member, occurrence): assignment, consent and cap decided together.
    Rows that already exist are left as they are (ignore_conflicts), which makes every re-run harmless."""
    variants = list(campaign.variants.order_by("name"))
    capped = capped_members(member_ids=[row["pk"] for row, _ in rows], campaign=campaign, now=now)
    objs = []
    for row, occurrence in rows:
        variant = assignment(campaign=campaign, member_id=row["pk"], variants=variants)
        delivery = Delivery(
            campaign=campaign,
            member_id=row["pk"],
            occurrence=occurrence,
            variant=variant,
            holdout=variant is None,
            send_after=send_after,
        )
        if campaign.channel_email and row["consent_email"]:
            delivery.channel = Delivery.Channel.EMAIL
        elif campaign.channel_sms and row["consent_sms"] and row["phone"]:
            delivery.channel = Delivery.Channel.SMS
        if delivery.holdout:
            delivery.status, delivery.reason = Delivery.Status.SKIPPED, Delivery.Reason.HOLDOUT
        elif not delivery.channel:
            delivery.status, delivery.reason = Delivery.Status.SKIPPED, Delivery.Reason.NO_CONSENT
        elif row["pk"] in capped:
            delivery.status, delivery.reason = Delivery.Status.SKIPPED, Delivery.Reason.CAPPED
        objs.append(delivery)
    Delivery.objects.bulk_create(objs, ignore_conflicts=True, batch_size=CHUNK)


# --- sending ---------------------------------------------------------------------------------


def _skip(delivery: Delivery, reason: str) -> None:
    Delivery.objects.filter(pk=delivery.pk, status=Delivery.Status.QUEUED).update(
        status=Delivery.Status.SKIPPED, reason=reason
    )


def _budget_left(campaign: Campaign, offer: Offer) -> bool:
    """Checked under the campaign row lock, so parallel chunks cannot overspend."""
    issued = OfferGrant.objects.filter(campaign=campaign).count()
    if campaign.budget_offers is not None and issued >= campaign.budget_offers:
        return False
    if campaign.budget_points is not None and offer.kind == Offer.Kind.BONUS:
        return (issued + 1) * offer.points <= campaign.budget_points
    return True


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
            if not _budget_left(campaign, campaign.offer):
                _skip(delivery, Delivery.Reason.BUDGET)
                return False, None
        if not claim.update(status=Delivery.Status.SENDING, sent_at=now):
            return False, None
        return True, _grant_issue(delivery, now)


def _grant_issue(delivery: Delivery, now: datetime) -> OfferGrant:
    """The member's copy of the offer. A catalog reward is granted through rewards (a free redemption with
    its own voucher), and its voucher code is the one the message shows."""
    offer, member = delivery.campaign.offer, delivery.member
    code, reference, valid_until = member_services.new_code(10), "", now + timedelta(days=offer.valid_days)
    if offer.kind == Offer.Kind.REWARD:
        redemption = rewards_services.surprise_grant(
            member=member, reward=offer.reward, message=offer.title, notify=False
        )
        voucher = getattr(redemption, "voucher", None)
        reference = f"rewards.redemption:{redemption.pk}"
        if voucher is not None:
            code, valid_until = voucher.code, voucher.expires_at or valid_until
    return OfferGrant.objects.create(
        offer=offer,
        campaign=delivery.campaign,
        delivery=delivery,
        member=member,
        code=code,
        reference=reference,
        valid_until=valid_until,
    )


class _Renderer:
    """Compiles each variant's template once per batch and language (thousands of messages share them),
    and looks the email layout templates up once per batch."""

    def __init__(self) -> None:
        self._cache: dict[tuple, Template] = {}
        self._pages: dict[str, object] = {}

    def page(self, name: str, context: dict) -> str:
        if name not in self._pages:
            self._pages[name] = get_template(name)
        return self._pages[name].render(context)

    def __call__(self, variant: Variant, field: str, context: dict) -> str:
        key = (variant.pk, translation.get_language(), field)
        if key not in self._cache:
            self._cache[key] = MESSAGE_ENGINE.from_string(getattr(variant, field))
        return self._cache[key].render(Context(context, autoescape=False))


def _send_email(delivery: Delivery, context: dict, render: _Renderer, mail) -> str:
    member, variant = delivery.member, delivery.variant
    subject = " ".join(render(variant, "subject", context).split())
    headers = unsubscribe_headers(member)
    page = {**context, "body": render(variant, "body", context), "subject": subject}
    page["unsubscribe_url"] = headers["List-Unsubscribe"].strip("<>")
    message_id = make_msgid(domain=urlsplit(settings.SITE_URL).hostname or "fidelis")
    message = EmailMultiAlternatives(
        subject=subject,
        body=render.page("campaigns/email.txt", page),
        to=[member.email],
        headers={**headers, "Message-ID": message_id},
        connection=mail,
    )
    message.attach_alternative(render.page("campaigns/email.html", page), "text/html")
    message.send()
    return message_id


def _send_sms(delivery: Delivery, context: dict, render: _Renderer) -> str:
    """Marketing SMS carry their own opt-out link (SMS consent is withdrawn separately from email)."""
    member = delivery.member
    body = render(delivery.variant, "sms_body", context).strip()
    stop = _("Stop: %(url)s") % {"url": unsubscribe_url(member, "sms")}
    return send_sms(to=member.phone, body=f"{body}\n{stop}")


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
        .select_related("campaign__offer", "member__program", "member__tier", "variant")
        .order_by("pk")
    )
    render, sent = _Renderer(), 0
    with _Mailer() as mailer:
        for i in range(0, len(due), SEND_GROUP):
            sent += _send_group(due[i : i + SEND_GROUP], now, render, mailer)
    return sent


def _send_group(group: list[Delivery], now: datetime, render: _Renderer, mailer: _Mailer) -> int:
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
    _record_sent(done)
    return len(done)


def _record_sent(done: list[tuple[int, str]]) -> None:
    """sending -> sent with each message's provider id, one UPDATE for the group. Not bulk_update: its
    CASE expression cost more Python time per message than building the email (py-spy, bench/RESULTS.md).
    UPDATE ... FROM (VALUES ...) runs on PostgreSQL and SQLite >= 3.33 alike."""
    if not done:
        return
    table = Delivery._meta.db_table
    values = ", ".join(["(%s, %s)"] * len(done))
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET status = %s, provider_id = v.column2 FROM (VALUES {values}) AS v"  # noqa: S608
            f" WHERE {table}.id = v.column1",
            [Delivery.Status.SENT, *(x for pair in done for x in pair)],
        )


def deliveries_send_due(*, now: datetime | None = None) -> int:
    """Beat: send deliveries whose wait is over (quiet hours, post-purchase delay) or whose task was lost."""
    now = now or timezone.now()
    # Claimed long ago and never marked sent: the worker died between claiming the row and recording
    # the send (SIGKILL, OOM). Whether the message left is unknown, and sending again could make it
    # twice, so the row is closed as failed for a person to look at (at most once, never twice).
    Delivery.objects.filter(status=Delivery.Status.SENDING, sent_at__lt=now - timedelta(minutes=10)).update(
        status=Delivery.Status.FAILED, error="Interrupted while sending (worker lost); not sent again."
    )
    due = Q(send_after__lte=now) | Q(send_after__isnull=True, created_at__lte=now - timedelta(minutes=10))
    sent, last = 0, 0
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


# --- journeys triggered by events ----------------------------------------------------------


def journey_trigger(*, trigger: str, member: Member, occurrence: str, delay_from: datetime | None = None) -> list[int]:
    """Queue the member in every active journey with this trigger, once per occurrence. With delay_from,
    a journey's message waits trigger_days after it (post-purchase). Sends run after the caller commits.
    Returns the new delivery ids."""

    now = timezone.now()
    row = Member.objects.filter(pk=member.pk, status=Member.Status.ACTIVE).values(*_MEMBER_FIELDS).first()
    if row is None:
        return []
    journeys = Campaign.objects.filter(program_id=member.program_id, trigger=trigger, status=Campaign.Status.ACTIVE)
    created, send_now = [], []
    for journey in journeys.select_related("segment"):
        if journey.segment_id and not campaign_audience(campaign=journey, now=now).filter(pk=member.pk).exists():
            continue
        send_after = delay_from + timedelta(days=journey.trigger_days) if delay_from and journey.trigger_days else None
        existing = Delivery.objects.filter(campaign=journey, member=member, occurrence=occurrence)
        if existing.exists():
            continue
        deliveries_queue(campaign=journey, rows=[(row, occurrence)], now=now, send_after=send_after)
        ids = list(existing.values_list("pk", flat=True))
        created += ids
        if send_after is None:
            send_now += ids
    if send_now:
        enqueue_on_commit("campaigns.tasks.deliveries_send", send_now)
    return created


def reward_interest_record(*, member: Member, reward_id: int, points_needed: int) -> None:
    """A member looked at a reward they cannot afford yet; kept once per (member, reward) while open."""
    if points_needed <= member.points_available:
        return
    RewardInterest.objects.bulk_create(
        [RewardInterest(member=member, reward_id=reward_id, points_needed=points_needed)], ignore_conflicts=True
    )


def reward_interest_check(*, member: Member) -> list[int]:
    """The member earned points: every reward they wanted and can now afford fires the journey once."""
    member.refresh_from_db(fields=["points_available"])
    now = timezone.now()
    created = []
    for interest in RewardInterest.objects.filter(
        member=member, fulfilled_at__isnull=True, points_needed__lte=member.points_available
    ):
        RewardInterest.objects.filter(pk=interest.pk).update(fulfilled_at=now)
        created += journey_trigger(
            trigger=Campaign.Trigger.ABANDONED_REDEMPTION, member=member, occurrence=f"reward_interest:{interest.pk}"
        )
    return created


# --- offers ----------------------------------------------------------------------------------


@transaction.atomic
def offer_grant_redeem(*, code: str, reference: str) -> OfferGrant:
    """A personal voucher (discount, free shipping, gift, a reward's voucher) was used at checkout."""
    grant = OfferGrant.objects.select_for_update().select_related("offer").filter(code__iexact=code.strip()).first()
    if grant is None:
        raise DomainError("unknown_code", "This code does not exist.", fields={"code": ["Unknown code."]}, status=404)
    if grant.status == OfferGrant.Status.REDEEMED:
        raise DomainError("already_redeemed", "This code was already used.", status=409)
    if grant.valid_until <= timezone.now():
        raise DomainError("expired", "This code has expired.", status=409)
    grant.status, grant.reference, grant.redeemed_at = OfferGrant.Status.REDEEMED, reference, timezone.now()
    grant.save(update_fields=["status", "reference", "redeemed_at"])
    return grant


def _extra_multiplier_points(purchase: Purchase, offer: Offer) -> int:
    if offer.category:
        base = sum((ln.amount for ln in lines_from_items(purchase.items) if ln.category == offer.category), Decimal(0))
    else:
        base = purchase.amount - purchase.paid_with_points
    extra = base * purchase.member.program.earn_rate * (offer.multiplier - 1)
    return int(extra.quantize(Decimal("1"), rounding=ROUND_FLOOR))


@transaction.atomic
def offers_apply_to_purchase(*, purchase: Purchase) -> list[OfferGrant]:
    """Pay out the offers the member holds on a purchase made while they are valid: a bonus once (row lock
    + status), a multiplier on every purchase of its period (the purchase.recorded handler runs once per
    purchase, so none is paid twice)."""
    used = []
    grants = (
        OfferGrant.objects.select_for_update()
        .select_related("offer")
        .filter(
            Q(offer__kind=Offer.Kind.BONUS, status=OfferGrant.Status.ISSUED) | Q(offer__kind=Offer.Kind.MULTIPLIER),
            member_id=purchase.member_id,
            valid_until__gt=purchase.occurred_at,
            created_at__lte=purchase.occurred_at,
        )
        .order_by("pk")
    )
    for grant in grants:
        offer = grant.offer
        if offer.kind == Offer.Kind.BONUS:
            points = offer.points if purchase.amount >= offer.min_amount else 0
        else:
            points = _extra_multiplier_points(purchase, offer)
        if points <= 0:
            continue
        member_services.points_grant(
            member=purchase.member,
            points=points,
            kind=LedgerEntry.Kind.BONUS,
            reason=f"Campaign offer: {offer.title}",
            reference=f"campaigns.offergrant:{grant.pk}",
        )
        grant.status, grant.points = OfferGrant.Status.REDEEMED, grant.points + points
        grant.reference, grant.redeemed_at = f"purchase:{purchase.pk}", grant.redeemed_at or timezone.now()
        grant.save(update_fields=["status", "points", "reference", "redeemed_at"])
        used.append(grant)
    return used


def journeys_periodic_start() -> int:
    """Beat (daily): fan out every active birthday and win-back journey. Their occurrences (birthday year,
    date of the last purchase) make a second run on the same day, or the next day, send nothing new."""

    journeys = Campaign.objects.filter(
        status=Campaign.Status.ACTIVE, trigger__in=[Campaign.Trigger.BIRTHDAY, Campaign.Trigger.WIN_BACK]
    )
    ids = list(journeys.values_list("pk", flat=True))
    for campaign_id in ids:
        enqueue("campaigns.tasks.campaign_fan_out", campaign_id, "")
    return len(ids)
