"""Reads for campaigns: segment audiences as one SQL query, personalization context, results and lift."""

import functools
import hashlib
import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.db.models import (
    Count,
    DecimalField,
    Exists,
    F,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce
from django.db.models.lookups import GreaterThanOrEqual, LessThanOrEqual
from django.utils import timezone

from campaigns.models import (
    Campaign,
    CampaignResult,
    Delivery,
    Offer,
    OfferGrant,
    Segment,
    SegmentMember,
    SegmentRule,
    Variant,
)
from campaigns.rendering import long_date, number, points_name
from members.models import LedgerEntry, Member, PointLot, Purchase, Subscription
from members.selectors import tier_progress
from members.zones import member_zone, on_members_local_date

ZERO = Decimal("0")
NPS_GROUPS = {"promoter": (9, 10), "passive": (7, 8), "detractor": (0, 6)}


# --- segments --------------------------------------------------------------------------------


def _values(rule: SegmentRule) -> list[str]:
    return [v.strip() for v in rule.values.split(",") if v.strip()]


def _between(value, rule: SegmentRule) -> Q:
    """min <= value <= max, where value may be a column name or a subquery expression."""
    value = F(value) if isinstance(value, str) else value
    q = Q()
    if rule.minimum is not None:
        q &= Q(GreaterThanOrEqual(value, rule.minimum))
    if rule.maximum is not None:
        q &= Q(LessThanOrEqual(value, rule.maximum))
    return q


def _purchases_since(rule: SegmentRule, now: datetime) -> QuerySet[Purchase]:
    qs = Purchase.objects.filter(member=OuterRef("pk"))
    if rule.days is not None:
        qs = qs.filter(occurred_at__gte=now - timedelta(days=rule.days))
    return qs


def members_birthday_q(days: int, now: datetime) -> Q:
    """Members whose birthday falls within `days` days of their own local date at `now`."""
    return on_members_local_date(now, lambda today: birthday_q(days, today))


def birthday_q(days: int, today: date) -> Q:
    """Birthdays from today through today + days, as at most 13 (month, day-range) clauses.
    A range reaching a month's last day keeps every later day, so 29 February counts in common years."""
    q = Q()
    end = today + timedelta(days=min(days, 365))
    cursor = today
    while cursor <= end:
        month_end = (cursor.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)
        last = min(end, month_end)
        clause = Q(birth_date__month=cursor.month, birth_date__day__gte=cursor.day)
        if last < month_end:
            clause &= Q(birth_date__day__lte=last.day)
        q |= clause
        cursor = last + timedelta(days=1)
    return q


def rule_q(rule: SegmentRule, now: datetime) -> Q:
    """The rule as a condition on Member; subqueries keep the whole segment one SQL statement."""
    kind, K = rule.kind, SegmentRule.Kind
    if kind == K.TIER:
        q = Q(tier_id=rule.tier_id)
    elif kind == K.PROGRAM:
        q = Q(program_id=rule.program_id)
    elif kind == K.LOYALTY_TYPE:
        q = Q(loyalty_type__in=_values(rule))
    elif kind == K.ENROLLED:
        q = Q()
        if rule.days is not None:
            q &= Q(enrolled_at__gte=now - timedelta(days=rule.days))
        if rule.date_from:
            q &= Q(enrolled_at__date__gte=rule.date_from)
        if rule.date_to:
            q &= Q(enrolled_at__date__lte=rule.date_to)
    elif kind == K.RECENCY:
        q = Q(last_purchase_at__gte=now - timedelta(days=rule.days or 0))
    elif kind == K.FREQUENCY:
        count = _purchases_since(rule, now).values("member").annotate(n=Count("pk")).values("n")
        q = _between(Coalesce(Subquery(count, output_field=IntegerField()), 0), rule)
    elif kind == K.MONETARY:
        spend = (
            _purchases_since(rule, now).values("member").annotate(s=Sum(F("amount") - F("refunded_amount"))).values("s")
        )
        money = DecimalField(max_digits=14, decimal_places=2)
        value = Coalesce(Subquery(spend, output_field=money), Value(ZERO, output_field=money))
        q = _between(value, rule)
    elif kind == K.BALANCE:
        q = _between("points_available", rule)
    elif kind == K.EXPIRING:
        soon = (
            PointLot.objects.filter(
                member=OuterRef("pk"), remaining__gt=0, expires_at__lte=now + timedelta(days=rule.days or 0)
            )
            .values("member")
            .annotate(s=Sum("remaining"))
            .values("s")
        )
        q = Q(GreaterThanOrEqual(Coalesce(Subquery(soon, output_field=IntegerField()), 0), rule.minimum or 1))
    elif kind == K.NPS:
        q = Q(pk__in=[])
        for group in _values(rule):
            low, high = NPS_GROUPS.get(group.lower(), (None, None))
            if low is not None:
                q |= Q(last_nps__gte=low, last_nps__lte=high)
    elif kind == K.CONSENT:
        q = Q(**{f"consent_{c}": True for c in _values(rule) if c in ("email", "sms")})
    elif kind == K.BIRTHDAY:
        q = members_birthday_q(rule.days or 0, now)
    elif kind == K.LANGUAGE:
        q = Q(language__in=_values(rule))
    elif kind == K.PARTNER:
        q = Exists(_purchases_since(rule, now).filter(partner_id=rule.partner_id))
    elif kind == K.REDEEMED:
        redeemed = LedgerEntry.objects.filter(member=OuterRef("pk"), kind=LedgerEntry.Kind.REDEEM)
        if rule.days is not None:
            redeemed = redeemed.filter(created_at__gte=now - timedelta(days=rule.days))
        q = Exists(redeemed)
    elif kind == K.PAID_PLAN:
        live = Subscription.objects.filter(member=OuterRef("pk"), expires_at__gt=now).exclude(
            status=Subscription.Status.EXPIRED
        )
        if rule.plan_id:
            live = live.filter(plan_id=rule.plan_id)
        q = Exists(live)
    else:
        raise ValueError(f"unknown segment rule {kind}")
    return ~q if rule.negate else Q(q)


def segment_condition(segment: Segment, now: datetime | None = None, rules: Iterable[SegmentRule] | None = None) -> Q:
    """The segment's rules as one Q: groups joined by one operator, rules inside a group by the other.
    `rules`: unsaved rules to use instead of the stored ones (the admin's live count while editing)."""
    now = now or timezone.now()
    groups: dict[int, list[Q]] = {}
    for rule in segment.rules.all() if rules is None else rules:
        groups.setdefault(rule.group, []).append(rule_q(rule, now))
    inner_and = segment.combine == Segment.Combine.ANY_GROUP
    combined = []
    for qs in groups.values():
        joined = qs[0]
        for q in qs[1:]:
            joined = joined & q if inner_and else joined | q
        combined.append(joined)
    if not combined:
        return Q()
    result = combined[0]
    for q in combined[1:]:
        result = result | q if inner_and else result & q
    return result


def segment_members(
    *, segment: Segment, now: datetime | None = None, rules: Iterable[SegmentRule] | None = None
) -> QuerySet[Member]:
    """Active members in the segment: one SQL query (rules become WHERE clauses and subqueries).
    `rules`: unsaved rules instead of the stored ones (see segment_condition)."""
    qs = Member.objects.filter(status=Member.Status.ACTIVE)
    if segment.program_id:
        qs = qs.filter(program_id=segment.program_id)
    if segment.kind == Segment.Kind.STATIC:
        return qs.filter(pk__in=SegmentMember.objects.filter(segment=segment).values("member_id"))
    return qs.filter(segment_condition(segment, now, rules))


def campaign_audience(*, campaign: Campaign, now: datetime | None = None) -> QuerySet[Member]:
    if campaign.segment_id:
        qs = segment_members(segment=campaign.segment, now=now)
    else:
        qs = Member.objects.filter(status=Member.Status.ACTIVE)
    return qs.filter(program_id=campaign.program_id)


# --- sending helpers ------------------------------------------------------------------------


def assignment(*, campaign: Campaign, member_id: int, variants: list[Variant]) -> Variant | None:
    """Deterministic: the same (campaign, member) always lands in the same group. None is the holdout."""
    digest = hashlib.sha256(f"campaign:{campaign.pk}:member:{member_id}".encode()).digest()
    point = int.from_bytes(digest[:8], "big") / 2**64 * 100
    if point < campaign.holdout_percent or not variants:
        return None
    scaled = (point - campaign.holdout_percent) / (100 - campaign.holdout_percent) * sum(v.weight for v in variants)
    for variant in variants:
        if scaled < variant.weight:
            return variant
        scaled -= variant.weight
    return variants[-1]


def quiet_until(*, campaign: Campaign, member: Member, now: datetime) -> datetime | None:
    """End of the SMS quiet hours on the member's clock (their time zone, else their program's), or
    None when it is not quiet there now."""
    local = now.astimezone(member_zone(member))
    start, end = campaign.quiet_start, campaign.quiet_end
    if start == end:
        return None
    quiet = start <= local.hour or local.hour < end if start > end else start <= local.hour < end
    if not quiet:
        return None
    wake = local.replace(hour=end, minute=0, second=0, microsecond=0)
    if wake <= local:
        wake += timedelta(days=1)
    return wake


def capped_members(*, member_ids: Iterable[int], campaign: Campaign, now: datetime) -> set[int]:
    """Members who already got the cap's number of messages in its window (all campaigns)."""
    if not campaign.cap_messages:
        return set()
    return set(
        Delivery.objects.filter(
            member_id__in=list(member_ids),
            status__in=[Delivery.Status.SENT, Delivery.Status.SENDING],
            sent_at__gte=now - timedelta(days=campaign.cap_days),
        )
        .values("member_id")
        .annotate(n=Count("pk"))
        .filter(n__gte=campaign.cap_messages)
        .values_list("member_id", flat=True)
    )


def personalization(*, member: Member, grant: OfferGrant | None, now: datetime) -> dict:
    """Template variables, formatted for the language active at the call (numbers and dates as that
    locale writes them, the program's points name in that language). Tier progress costs queries, so it
    is a callable the template engine only calls when the message uses it; an unsaved member (the
    preview's sample) has no progress to look up."""
    progress = functools.cache(lambda: tier_progress(member=member, now=now))

    def next_tier() -> str:
        return progress().next.name if member.pk and progress().next else ""

    def points_to_next_tier() -> str:
        return number(progress().needed.normalize()) if member.pk and progress().next else number(0)

    offer = grant.offer if grant else None
    return {
        "name": member.first_name or member.full_name,
        "first_name": member.first_name,
        "balance": number(member.points_available),
        "points_name": points_name(member.program),
        "tier": member.tier.name if member.tier_id else "",
        "next_tier": next_tier,
        "points_to_next_tier": points_to_next_tier,
        "offer": offer.title if offer else "",
        "offer_details": offer.description if offer else "",
        "code": grant.code if grant else "",
        "expiry": long_date(timezone.localdate(grant.valid_until)) if grant else "",
    }


# --- results ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Lift:
    """Difference in conversion (treated minus holdout) with its 95% confidence interval."""

    difference: float
    low: float
    high: float
    relative: float | None
    z: float
    p_value: float

    @property
    def difference_points(self) -> float:
        return self.difference * 100

    @property
    def low_points(self) -> float:
        return self.low * 100

    @property
    def high_points(self) -> float:
        return self.high * 100

    @property
    def relative_percent(self) -> float | None:
        return None if self.relative is None else self.relative * 100


def two_proportion_lift(*, treated: int, treated_n: int, control: int, control_n: int, z_crit: float = 1.96) -> Lift:
    """Two-proportion z-test (pooled standard error) and a Wald interval on the difference (unpooled)."""
    if not treated_n or not control_n:
        raise ValueError("both groups need members")
    p1, p2 = treated / treated_n, control / control_n
    diff = p1 - p2
    se = math.sqrt(p1 * (1 - p1) / treated_n + p2 * (1 - p2) / control_n)
    pooled = (treated + control) / (treated_n + control_n)
    se_pooled = math.sqrt(pooled * (1 - pooled) * (1 / treated_n + 1 / control_n))
    z = diff / se_pooled if se_pooled else 0.0
    return Lift(
        difference=diff,
        low=diff - z_crit * se,
        high=diff + z_crit * se,
        relative=diff / p2 if p2 else None,
        z=z,
        p_value=math.erfc(abs(z) / math.sqrt(2)),
    )


@dataclass(frozen=True)
class GroupResult:
    label: str
    variant_id: int | None
    members: int
    delivered: int
    redeemed: int
    buyers: int
    purchases: int
    spend: Decimal
    lift: Lift | None = None


def _window_purchases(campaign: Campaign) -> QuerySet[Purchase]:
    return Purchase.objects.filter(
        member=OuterRef("member_id"),
        occurred_at__gte=OuterRef("created_at"),
        occurred_at__lt=OuterRef("created_at") + timedelta(days=campaign.attribution_days),
    )


def campaign_results(*, campaign: Campaign) -> list[GroupResult]:
    """Per variant and holdout: members, delivered, offer redemptions, buyers, purchases and spend in the
    attribution window after each member's delivery row; lift of each variant's buyer rate against holdout.
    One grouped query."""
    window = _window_purchases(campaign)
    money = DecimalField(max_digits=14, decimal_places=2)
    rows = (
        Delivery.objects.filter(campaign=campaign)
        .values("variant_id", "holdout", "variant__name")
        .annotate(
            members=Count("pk"),
            delivered=Count("pk", filter=Q(status=Delivery.Status.SENT)),
            redeemed=Count("pk", filter=Q(grant__status=OfferGrant.Status.REDEEMED)),
            buyers=Count("pk", filter=Exists(window)),
            purchases=Coalesce(
                Sum(Subquery(window.values("member").annotate(n=Count("pk")).values("n"), output_field=IntegerField())),
                0,
            ),
            spend=Coalesce(
                Sum(
                    Subquery(
                        window.values("member").annotate(s=Sum(F("amount") - F("refunded_amount"))).values("s"),
                        output_field=money,
                    )
                ),
                Value(ZERO, output_field=money),
            ),
        )
        .order_by("holdout", "variant__name")
    )
    return _with_lift(
        [
            GroupResult(
                label="Holdout" if r["holdout"] else (r["variant__name"] or "-"),
                variant_id=r["variant_id"],
                members=r["members"],
                delivered=r["delivered"],
                redeemed=r["redeemed"],
                buyers=r["buyers"],
                purchases=r["purchases"],
                spend=r["spend"],
            )
            for r in rows
        ]
    )


def campaign_results_stored(*, campaign_ids: Iterable[int]) -> dict[int, tuple[list[GroupResult], datetime]]:
    """The results the periodic job stored (campaigns.services.campaign_results_refresh), by campaign:
    the same groups as campaign_results, and when they were computed. One query for any number of
    campaigns; a campaign the job has not reached yet is missing."""
    stored: dict[int, tuple[list[GroupResult], datetime]] = {}
    for row in CampaignResult.objects.filter(campaign_id__in=list(campaign_ids)).order_by(
        "campaign", "holdout", "label"
    ):
        groups, _ = stored.get(row.campaign_id, ([], row.refreshed_at))
        groups.append(
            GroupResult(
                label=row.label,
                variant_id=row.variant_id,
                members=row.members,
                delivered=row.delivered,
                redeemed=row.redeemed,
                buyers=row.buyers,
                purchases=row.purchases,
                spend=row.spend,
            )
        )
        stored[row.campaign_id] = (groups, row.refreshed_at)
    return {campaign_id: (_with_lift(groups), at) for campaign_id, (groups, at) in stored.items()}


def _with_lift(groups: list[GroupResult]) -> list[GroupResult]:
    """Each variant's lift of its buyer rate against the holdout, when there is one."""
    control = next((g for g in groups if g.variant_id is None and g.label == "Holdout"), None)
    if control is None or not control.members:
        return groups
    return [
        g
        if g is control or not g.members
        else GroupResult(
            **{
                **g.__dict__,
                "lift": two_proportion_lift(
                    treated=g.buyers, treated_n=g.members, control=control.buyers, control_n=control.members
                ),
            }
        )
        for g in groups
    ]


def campaigns_summary(*, program=None) -> QuerySet[Campaign]:
    """Every campaign with sent, skipped, redeemed counts in one query (the admin index uses it)."""
    qs = Campaign.objects.select_related("program", "segment", "offer")
    if program is not None:
        qs = qs.filter(program=program)
    sent = Delivery.objects.filter(campaign=OuterRef("pk"), status=Delivery.Status.SENT)
    redeemed = OfferGrant.objects.filter(campaign=OuterRef("pk"), status=OfferGrant.Status.REDEEMED)
    return qs.annotate(
        sent=Coalesce(Subquery(sent.values("campaign").annotate(n=Count("pk")).values("n")), 0),
        redeemed=Coalesce(Subquery(redeemed.values("campaign").annotate(n=Count("pk")).values("n")), 0),
    )


def offer_grant_open(*, member: Member, now: datetime | None = None) -> QuerySet[OfferGrant]:
    """Offers the member can still use, soonest to expire first. A multiplier stays usable for its whole
    period even after it first paid out."""
    now = now or timezone.now()
    usable = Q(status=OfferGrant.Status.ISSUED) | Q(offer__kind=Offer.Kind.MULTIPLIER)
    return (
        OfferGrant.objects.select_related("offer")
        .filter(usable, member=member, valid_until__gt=now)
        .order_by("valid_until", "pk")
    )


def delivery_counts(*, campaign: Campaign) -> list[dict]:
    """Deliveries by status and reason (the admin shows why members were skipped)."""
    rows = list(
        Delivery.objects.filter(campaign=campaign)
        .values("status", "reason")
        .annotate(n=Count("pk"))
        .order_by("status", "reason")
    )
    for row in rows:
        row["status_label"] = Delivery.Status(row["status"]).label
        row["reason_label"] = Delivery.Reason(row["reason"]).label if row["reason"] else ""
    return rows


def offer_grants_used(*, member: Member, limit: int = 20) -> QuerySet[OfferGrant]:
    return OfferGrant.objects.select_related("offer").filter(member=member, status=OfferGrant.Status.REDEEMED)[:limit]


# --- before launch: what it will do ----------------------------------------------------------


@dataclass(frozen=True)
class LaunchSummary:
    """What staff confirm before a launch. Holdout and per-variant numbers are expectations (assignment is
    a hash per member, so the real split differs by a few); audience and channels are counted now."""

    audience: int
    holdout: int
    by_email: int
    by_sms: int
    no_consent: int
    variants: list[tuple[Variant, int]]
    budget_offers: int | None
    budget_points: int | None
    offers_allowed: int | None  # offers the budget lets out (None: no limit)
    offers_wanted: int  # offers the run would issue without a budget

    @property
    def budget_stops_early(self) -> bool:
        return self.offers_allowed is not None and self.offers_allowed < self.offers_wanted


def campaign_launch_summary(*, campaign: Campaign, now: datetime | None = None) -> LaunchSummary:
    """Audience, holdout, channels and budget of the campaign's next run, in one aggregate query."""
    email = Q(consent_email=True) if campaign.channel_email else Q(pk__in=[])
    sms = Q(consent_sms=True) & ~Q(phone="") if campaign.channel_sms else Q(pk__in=[])
    counts = campaign_audience(campaign=campaign, now=now).aggregate(
        total=Count("pk"), email=Count("pk", filter=email), sms=Count("pk", filter=~email & sms)
    )
    sent_share = (100 - campaign.holdout_percent) / 100
    variants = list(campaign.variants.order_by("name"))
    weights = sum(v.weight for v in variants) or 1
    reachable = round((counts["email"] + counts["sms"]) * sent_share)
    offer = campaign.offer if campaign.offer_id else None
    allowed = [campaign.budget_offers] if campaign.budget_offers is not None else []
    if offer is not None and offer.kind == Offer.Kind.BONUS and campaign.budget_points is not None and offer.points:
        allowed.append(campaign.budget_points // offer.points)
    return LaunchSummary(
        audience=counts["total"],
        holdout=counts["total"] - round(counts["total"] * sent_share),
        by_email=round(counts["email"] * sent_share),
        by_sms=round(counts["sms"] * sent_share),
        no_consent=round((counts["total"] - counts["email"] - counts["sms"]) * sent_share),
        variants=[(v, round(reachable * v.weight / weights)) for v in variants],
        budget_offers=campaign.budget_offers,
        budget_points=campaign.budget_points,
        offers_allowed=min(allowed) if offer is not None and allowed else None,
        offers_wanted=reachable if offer is not None else 0,
    )


def preview_member(*, campaign: Campaign, language: str) -> Member:
    """Whom a preview or test send is personalised for: the first member of the audience who reads that
    language (else the first of the audience), or, for an empty audience, an unsaved sample member."""
    audience = campaign_audience(campaign=campaign).select_related("program", "tier").order_by("pk")
    member = audience.filter(language=language).first() or audience.first()
    if member is None:
        member = Member(
            program=campaign.program, first_name="Ana", last_name="Popescu", points_available=1250, language=language
        )
    return member


# --- one member's campaigns (the 360° page) -----------------------------------------------------


@dataclass
class MemberCampaigns:
    """The campaigns one member received (or was held out of) and the offers granted, for the 360° page."""

    deliveries: list[Delivery]
    offers: list[OfferGrant]


def member_campaigns_overview(*, member: Member, limit: int = 10) -> MemberCampaigns:
    return MemberCampaigns(
        deliveries=list(Delivery.objects.filter(member=member).select_related("campaign", "variant")[:limit]),
        offers=list(OfferGrant.objects.filter(member=member).select_related("offer", "campaign")[:limit]),
    )
