"""Offers: what each offer kind needs, issuing a member's grant when its message is sent (within the
campaign's budget), redeeming its code, and paying bonus and multiplier points on purchases."""

from datetime import datetime, timedelta
from decimal import ROUND_FLOOR, Decimal

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_noop

from campaigns.models import Campaign, Delivery, Offer, OfferGrant
from core.errors import DomainError
from members import services as member_services
from members.earning import lines_from_items
from members.models import LedgerEntry, Partner, Purchase
from members.texts import ledger_reason, stored_all
from rewards import services as rewards_services


def offer_errors(offer: Offer, *, program_id: int) -> list[str]:
    """Why a campaign of `program_id` cannot send this offer yet; empty when it can."""
    if offer.kind == Offer.Kind.REWARD and not offer.reward_id:
        return ["Choose the catalog reward this offer grants."]
    if offer.program_id != program_id:
        return ["The offer belongs to another program."]
    return []


def offer_budget_left(campaign: Campaign, offer: Offer) -> bool:
    """Whether the campaign's budget (offers issued, bonus points) allows one more grant. Checked under
    the campaign row lock, so parallel chunks cannot overspend."""
    issued = OfferGrant.objects.filter(campaign=campaign).count()
    if campaign.budget_offers is not None and issued >= campaign.budget_offers:
        return False
    if campaign.budget_points is not None and offer.kind == Offer.Kind.BONUS:
        return (issued + 1) * offer.points <= campaign.budget_points
    return True


def offer_budget_remaining(campaign: Campaign, offer: Offer) -> int | None:
    """How many more grants the campaign's budget allows (None: no budget), for a batch claimed at once.
    Read under the campaign row lock, like `offer_budget_left`."""
    limits = []
    if campaign.budget_offers is not None:
        limits.append(campaign.budget_offers)
    if campaign.budget_points is not None and offer.kind == Offer.Kind.BONUS and offer.points:
        limits.append(campaign.budget_points // offer.points)
    if not limits:
        return None
    return max(min(limits) - OfferGrant.objects.filter(campaign=campaign).count(), 0)


def offer_grant_issue(delivery: Delivery, now: datetime) -> OfferGrant:
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


def _grant_usable(grant: OfferGrant | None, now: datetime) -> OfferGrant:
    if grant is None:
        raise DomainError("unknown_code", "This code does not exist.", fields={"code": ["Unknown code."]}, status=404)
    if grant.status == OfferGrant.Status.REDEEMED:
        raise DomainError("already_redeemed", "This code was already used.", status=409)
    if grant.valid_until <= now:
        raise DomainError("expired", "This code has expired.", status=409)
    return grant


@transaction.atomic
def offer_grant_redeem(*, code: str, reference: str) -> OfferGrant:
    """A personal voucher (discount, free shipping, gift, a reward's voucher) was used at checkout."""
    grant = OfferGrant.objects.select_for_update().select_related("offer").filter(code__iexact=code.strip()).first()
    grant = _grant_usable(grant, timezone.now())
    grant.status, grant.reference, grant.redeemed_at = OfferGrant.Status.REDEEMED, reference, timezone.now()
    grant.save(update_fields=["status", "reference", "redeemed_at"])
    return grant


# --- offer codes at a partner's till (partner API /offer-codes) -----------------------------------

# Kinds whose code the member shows at checkout. Bonus and multiplier offers pay out on purchases by
# themselves; a catalog reward's code is a reward voucher (/vouchers).
CHECKOUT_KINDS = (Offer.Kind.DISCOUNT, Offer.Kind.FREE_SHIPPING, Offer.Kind.GIFT)


def _order_reference(partner: Partner, order_reference: str) -> str:
    return f"partner:{partner.pk}:order:{order_reference}"


def _grant_for_partner(code: str, partner: Partner, *, lock: bool) -> OfferGrant | None:
    grants = OfferGrant.objects.select_related("offer", "member", "campaign")
    if lock:
        grants = grants.select_for_update(of=("self",))
    return grants.filter(code__iexact=code.strip(), member__program_id=partner.program_id).first()


def _checkout_usable(grant: OfferGrant | None, now: datetime, order_total: Decimal | None) -> OfferGrant:
    grant = _grant_usable(grant, now)
    if grant.offer.kind == Offer.Kind.REWARD:
        raise DomainError(
            "reward_voucher", "This code is a reward voucher: check and use it at /vouchers/{code}.", status=409
        )
    if grant.offer.kind not in CHECKOUT_KINDS:
        raise DomainError("not_a_checkout_code", "This offer pays out on the member's purchases by itself.", status=409)
    if order_total is not None and order_total < grant.offer.min_amount:
        raise DomainError(
            "order_below_minimum",
            f"This code needs an order of at least {grant.offer.min_amount}.",
            fields={"order_total": [f"At least {grant.offer.min_amount}."]},
        )
    return grant


def offer_code_check(*, code: str, partner: Partner, order_total: Decimal | None = None) -> OfferGrant:
    """A campaign's offer code a customer shows, if it can be used now (and on an order of
    `order_total`). Codes of members of other programs do not exist for the partner (404)."""
    return _checkout_usable(_grant_for_partner(code, partner, lock=False), timezone.now(), order_total)


@transaction.atomic
def offer_code_consume(*, code: str, partner: Partner, order_reference: str, order_total: Decimal) -> OfferGrant:
    """Use an offer code on an order, like a reward voucher: the same partner consuming it again for the
    same order gets it back unchanged (safe to retry); anyone else gets 409 already_redeemed."""
    grant = _grant_for_partner(code, partner, lock=True)
    reference = _order_reference(partner, order_reference)
    if grant is not None and grant.status == OfferGrant.Status.REDEEMED and grant.reference == reference:
        return grant
    now = timezone.now()
    grant = _checkout_usable(grant, now, order_total)
    grant.status, grant.reference, grant.redeemed_at = OfferGrant.Status.REDEEMED, reference, now
    grant.save(update_fields=["status", "reference", "redeemed_at"])
    return grant


def offer_code_order(grant: OfferGrant) -> str:
    """The partner's order reference a consumed code was used on ("" otherwise)."""
    _, found, order = grant.reference.partition(":order:")
    return order if found and grant.reference.startswith("partner:") else ""


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
            **ledger_reason(gettext_noop("Campaign offer: %(title)s"), title=stored_all(offer, "title")),
            reference=f"campaigns.offergrant:{grant.pk}",
            purchase=purchase,  # a refund of the purchase takes these points back with its own
        )
        grant.status, grant.points = OfferGrant.Status.REDEEMED, grant.points + points
        grant.reference, grant.redeemed_at = f"purchase:{purchase.pk}", grant.redeemed_at or timezone.now()
        grant.save(update_fields=["status", "points", "reference", "redeemed_at"])
        used.append(grant)
    return used


@transaction.atomic
def offers_restore_for_refund(*, purchase: Purchase) -> list[OfferGrant]:
    """A purchase was refunded in full: a one-time bonus offer it used is the member's again while
    still valid (members already took its points back, since they reference the purchase)."""
    restored = []
    grants = (
        OfferGrant.objects.select_for_update()
        .select_related("offer")
        .filter(
            member_id=purchase.member_id,
            offer__kind=Offer.Kind.BONUS,
            status=OfferGrant.Status.REDEEMED,
            reference=f"purchase:{purchase.pk}",
            valid_until__gt=timezone.now(),
        )
    )
    for grant in grants:
        grant.status, grant.reference, grant.redeemed_at = OfferGrant.Status.ISSUED, "", None
        grant.points = max(grant.points - grant.offer.points, 0)
        grant.save(update_fields=["status", "reference", "redeemed_at", "points"])
        restored.append(grant)
    return restored
