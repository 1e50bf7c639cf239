"""Receipts: a purchase a partner records without a member (the customer was not known at the till),
which a member claims later, within the program's window (Program.receipt_claim_days). Claiming
turns it into a purchase of that member and earns its points then, once.

Lock order (members.locks): the receipt row, then the member (purchase_record locks it).
"""

from datetime import datetime, timedelta
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.utils import timezone

from core.errors import Conflict, DomainError
from members.models import Member, Partner, Purchase, Receipt
from members.services.cards import card_number_normalize
from members.services.purchases import (
    CLOCK_SKEW,
    external_reference_normalize,
    purchase_amounts_check,
    purchase_items_check,
    purchase_record,
)


def _duplicate() -> Conflict:
    return Conflict(
        "duplicate_external_id",
        "This external id was already used for another purchase or receipt.",
        fields={"external_id": ["Already used."]},
    )


@transaction.atomic
def receipt_record(
    *,
    partner: Partner,
    external_id: str,
    amount: Decimal,
    currency: str,
    occurred_at: datetime | None = None,
    items: list[dict] | None = None,
    paid_with_points: Decimal = Decimal("0"),
    discount_amount: Decimal = Decimal("0"),
) -> tuple[Receipt, bool]:
    """Record a purchase without a member. Checked like a purchase (amounts, items, date); the same
    (partner, external_id) again returns the first receipt and False (another amount: 409)."""
    program = partner.program
    external_id = external_reference_normalize(external_id)
    if not program.receipt_claim_days:
        raise Conflict("receipts_off", "This program does not let members claim receipts later.")
    purchase_amounts_check(
        program=program,
        amount=amount,
        currency=currency,
        paid_with_points=paid_with_points,
        discount_amount=discount_amount,
    )
    items = purchase_items_check(amount=amount, items=items)
    now = timezone.now()
    occurred_at = occurred_at or now
    if occurred_at > now + CLOCK_SKEW or occurred_at < now - timedelta(days=program.backdate_days):
        message = f"The purchase date must lie within the last {program.backdate_days} days."
        raise DomainError("invalid_date", message, fields={"occurred_at": [message]})
    existing = Receipt.objects.filter(partner=partner, external_id=external_id).first()
    if existing is not None:
        if existing.amount != amount:
            raise _duplicate()
        return existing, False
    if Purchase.objects.filter(partner=partner, external_id=external_id).exists():
        raise _duplicate()
    try:
        with transaction.atomic():
            receipt = Receipt.objects.create(
                program=program,
                partner=partner,
                external_id=external_id,
                amount=amount,
                paid_with_points=paid_with_points,
                discount_amount=discount_amount,
                currency=currency.upper(),
                items=items,
                occurred_at=occurred_at,
                created_at=now,
                claim_until=now + timedelta(days=program.receipt_claim_days),
            )
    except IntegrityError:  # a concurrent request with the same external id won
        raise _duplicate() from None
    return receipt, True


@transaction.atomic
def receipt_claim(*, receipt: Receipt, member: Member | str | None, card: str = "") -> tuple[Purchase, bool]:
    """Give a receipt to a member (or the holder of `card`) within its window: it becomes their
    purchase and earns by the program's rules now. A second claim by the same member returns the
    same purchase and False; by another member it is a 409 `receipt_claimed`; after the window a 409
    `receipt_expired`."""
    receipt = Receipt.objects.select_for_update(of=("self",)).select_related("partner__program").get(pk=receipt.pk)
    if receipt.purchase_id is not None:
        purchase = Purchase.objects.select_related("member__program", "member__tier", "card").get(
            pk=receipt.purchase_id
        )
        same_member = member is not None and member in (purchase.member, purchase.member.number)
        same_card = bool(card) and purchase.card is not None and purchase.card.number == card_number_normalize(card)
        if same_member or same_card:
            return purchase, False
        raise Conflict("receipt_claimed", "This receipt was already claimed by a member.")
    if timezone.now() > receipt.claim_until:
        raise Conflict("receipt_expired", f"This receipt could be claimed until {receipt.claim_until:%Y-%m-%d}.")
    purchase, _ = purchase_record(
        member=member,
        card=card,
        partner=receipt.partner,
        external_id=receipt.external_id,
        amount=receipt.amount,
        currency=receipt.currency,
        occurred_at=receipt.occurred_at,
        items=receipt.items,
        paid_with_points=receipt.paid_with_points,
        discount_amount=receipt.discount_amount,
        dated_by_receipt=True,
    )
    receipt.member, receipt.purchase, receipt.claimed_at = purchase.member, purchase, timezone.now()
    receipt.save(update_fields=["member", "purchase", "claimed_at"])
    return purchase, True
