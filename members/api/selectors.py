"""Reads for the members part of the partner API, each scoped to the calling partner (the scope
rule is in members/partners/selectors.py): lookups, its purchases and their ledger entries, a
member's subscriptions.
"""

import zlib
from datetime import datetime

from django.core.cache import cache
from django.db.models import Count, Prefetch, Q, QuerySet, Sum
from django.db.models.functions import Coalesce
from django.utils.translation import get_language
from rest_framework.renderers import JSONRenderer

from members.api import render
from members.households import household_pool_brief, household_tier_mode, tier_progress_for
from members.models import Card, LedgerEntry, Member, Partner, Purchase, Receipt, ReviewCase, Subscription
from members.phones import PhoneInvalid, phone_e164
from members.selectors import member_standing


def members_lookup(*, partner: Partner, email: str = "", phone: str = "", external_id: str = "") -> QuerySet[Member]:
    qs = Member.objects.select_related("tier").filter(program_id=partner.program_id)
    if email:
        qs = qs.filter(email=email.strip().lower())
    if phone:
        try:  # stored in E.164: the query is read the same way (an invalid number matches nobody)
            phone = phone_e164(phone, region=partner.program.default_region)
        except PhoneInvalid:
            return qs.none()
        qs = qs.filter(phone=phone)
    if external_id:
        qs = qs.filter(external_id=external_id)
    return qs.order_by("pk")


def member_subscriptions(*, member: Member) -> QuerySet[Subscription]:
    """A member of the partner's program: their plan subscriptions, newest first."""
    return Subscription.objects.select_related("plan").filter(member=member).order_by("-started_at", "-pk")


def partner_member_entries(
    *,
    partner: Partner,
    member: Member,
    kind: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> QuerySet[LedgerEntry]:
    """Every entry of `member` the partner caused, newest first: its purchases and their refunds,
    what its purchases set off (campaign offer points, challenge prizes, referral rewards, and
    their reversals), its redemptions and checkout burns and the points they returned when cancelled
    or lapsed (points_refund gives a refund the partner of the spend it returns)."""
    qs = (
        LedgerEntry.objects.filter(member=member)
        .filter(Q(partner=partner) | Q(purchase__partner=partner))
        .select_related("partner")
        .order_by("-created_at", "-id")
    )
    if kind:
        qs = qs.filter(kind=kind)
    if since:
        qs = qs.filter(created_at__gte=since)
    if until:
        qs = qs.filter(created_at__lt=until)
    return qs


def purchase_for_partner(*, partner: Partner, purchase_id: int) -> Purchase | None:
    return (
        Purchase.objects.select_related("member__program", "member__tier")
        .filter(pk=purchase_id, partner=partner)
        .first()
    )


def partner_purchases(
    *, partner: Partner, external_id: str = "", since: datetime | None = None, until: datetime | None = None
) -> QuerySet[Purchase]:
    """The partner's own purchases (by when they happened), each with its earn entry and review case
    loaded in two queries per page, whatever its length (purchase_earn_entry / purchase_hold read them)."""
    qs = (
        Purchase.objects.filter(partner=partner)
        .select_related("member__program", "member__tier")
        .prefetch_related(
            Prefetch("entries", queryset=LedgerEntry.objects.filter(kind=LedgerEntry.Kind.EARN), to_attr="earn_entries")
        )
    )
    if external_id:
        qs = qs.filter(external_id=external_id)
    if since:
        qs = qs.filter(occurred_at__gte=since)
    if until:
        qs = qs.filter(occurred_at__lt=until)
    return qs


def purchases_holds_load(purchases: list[Purchase]) -> None:
    """Attach to each purchase its review case (or None) in one query, for purchase_hold."""
    held = [p.pk for p in purchases if not p.points]
    cases = {}
    if held:
        for case in ReviewCase.objects.filter(purchase__in=held, kind=ReviewCase.Kind.EARN_LIMIT).order_by("pk"):
            cases.setdefault(case.purchase_id, case)
    for purchase in purchases:
        purchase.hold_case = cases.get(purchase.pk)


def purchase_earn_entry(*, purchase: Purchase) -> LedgerEntry | None:
    if hasattr(purchase, "earn_entries"):
        return purchase.earn_entries[0] if purchase.earn_entries else None
    return purchase.entries.filter(kind=LedgerEntry.Kind.EARN).select_related("lot").first()


def purchase_hold(*, purchase: Purchase) -> ReviewCase | None:
    """The review case holding a purchase's points (members.checks velocity limits), if any. Only a
    purchase showing 0 points can be held, so earning purchases skip the query."""
    if purchase.points:
        return None
    if hasattr(purchase, "hold_case"):
        return purchase.hold_case
    return ReviewCase.objects.filter(purchase=purchase, kind=ReviewCase.Kind.EARN_LIMIT).first()


def entries_totals(entries: QuerySet[LedgerEntry]) -> dict[str, int]:
    """Points in, points out and the net of a (filtered) set of ledger entries, in one query."""
    return entries.order_by().aggregate(
        count=Count("pk"),
        points_in=Coalesce(Sum("points", filter=Q(points__gt=0)), 0),
        points_out=Coalesce(Sum("points", filter=Q(points__lt=0)), 0),
        net=Coalesce(Sum("points"), 0),
    )


# The answer holds time-dependent figures (points expiring within 30/60/90 days, a rolling tier
# window): a cached body is served for at most this long even when nothing about the member changed.
BALANCE_CACHE_SECONDS = 60


def balance_cache_name(*, member: Member) -> str:
    """The cache entry of a member's balance answer, named by everything the answer depends on that a
    write changes: the ledger service updates the member row (balances, tier, last activity) in the
    same transaction as every entry, lot and purchase, and staff rule changes bump the program's
    rules_version. So a write makes the next read miss as soon as it commits, on every process, with
    no window in which a reader could store the old answer after an invalidation (an on-commit delete
    has that race)."""
    stamp = (
        member.points_available,
        member.points_pending,
        member.points_lifetime,
        member.points_debt,
        member.tier_id,
        member.last_activity_at.timestamp() if member.last_activity_at else 0,
        member.program.rules_version,
        get_language(),  # tier names are translated
    )
    return "balance:{}:{}".format(member.pk, ":".join(map(str, stamp)))


def member_balance_json(*, member: Member) -> bytes:
    """The partner API's balance answer for a member, as JSON bytes, from the cache when fresh. A
    household member's answer also depends on the other members' balances: their pool is read first
    (one statement, only for them) and names the cache entry too."""
    household = household_pool_brief(household_id=member.household_id) if member.household_id else None
    name = balance_cache_name(member=member)
    if household is not None:
        # The name by its checksum: a cache key holds no spaces (memcached refuses them).
        name += ":household:{}:{}:{}:{}".format(
            household["id"], zlib.crc32(household["name"].encode()), household["available"], household["members"]
        )
    body = cache.get(name)
    if body is None:
        body = JSONRenderer().render(render.balance(member_balance(member=member, household=household)))
        cache.set(name, body, BALANCE_CACHE_SECONDS)
    return body


def member_balance(*, member: Member, household: dict | None = None) -> dict:
    """What GET /members/{number}/balance answers (members.api.serializers.BalanceSerializer).
    `household`: the member's household_pool_brief, when they belong to one."""
    if member.household_id and household is None:
        household = household_pool_brief(household_id=member.household_id)
    standing = member_standing(member=member, days=(30, 60, 90))
    # Household tier mode: the household's combined metric is what qualifies (a few more reads, only then).
    progress = tier_progress_for(member=member) if household_tier_mode(member) else standing.progress
    nxt = progress.next
    return {
        "member": member.number,
        "available": member.points_available,
        "pending": member.points_pending,
        "lifetime": member.points_lifetime,
        "debt": member.points_debt,
        "tier": member.tier.name if member.tier else None,
        "next_tier": {
            "name": nxt.name,
            "metric": progress.metric,
            "threshold": nxt.threshold,
            "value": progress.value,
            "needed": progress.needed,
            "percent": progress.percent,
        }
        if nxt
        else None,
        "expiring": {f"within_{days}_days": points for days, points in standing.expiring.items()},
        "household": household,
    }


def card_for_partner(*, partner: Partner, number: str) -> Card | None:
    """A card of the partner's program by its (normalised) number, whatever its status."""
    return (
        Card.objects.select_related("member__program", "member__tier", "replaced_by")
        .filter(program_id=partner.program_id, number=number)
        .first()
    )


def member_cards(*, member: Member) -> QuerySet[Card]:
    """A member's cards, newest first, active and not."""
    return Card.objects.select_related("replaced_by").filter(member=member).order_by("-issued_at", "-pk")


def receipt_for_partner(*, partner: Partner, receipt_id: int) -> Receipt | None:
    """A receipt the partner recorded; other partners' receipts are not found."""
    return Receipt.objects.filter(pk=receipt_id, partner=partner).first()
