"""Reads for the members part of the partner API, each scoped to the calling partner (the scope
rule is in members/partners/selectors.py): lookups, its purchases and their ledger entries, a
member's subscriptions.
"""

from datetime import datetime

from django.db.models import Count, Q, QuerySet, Sum
from django.db.models.functions import Coalesce

from members.models import Card, LedgerEntry, Member, Partner, Purchase, Receipt, ReviewCase, Subscription
from members.phones import PhoneInvalid, phone_e164


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


def purchase_earn_entry(*, purchase: Purchase) -> LedgerEntry | None:
    return purchase.entries.filter(kind=LedgerEntry.Kind.EARN).select_related("lot").first()


def purchase_hold(*, purchase: Purchase) -> ReviewCase | None:
    """The review case holding a purchase's points (members.checks velocity limits), if any. Only a
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
