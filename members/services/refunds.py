"""Refunds of a purchase: by amount or by returned items, each taking back its share of the points
the purchase earned and of what it set off (referral rewards, bonuses), idempotent by reference."""

from dataclasses import dataclass, field
from datetime import datetime
from decimal import ROUND_FLOOR, Decimal

from django.db import transaction
from django.db.models import F, QuerySet
from django.utils import timezone

from core.errors import DomainError
from members.checks import debt_case_open
from members.events import PointsReversed
from members.locks import lock_members
from members.models import LedgerEntry, Member, PointLot, Purchase, PurchaseReturn
from members.outbox import event_record
from members.services.currency import refund_convert
from members.services.ledger import ledger_debit
from members.services.purchases import (
    purchase_quote,
)


def points_reversed_share(purchase: Purchase, points: int) -> int:
    """The part of a purchase's `points` its refunds so far take back: all of them once it is fully
    refunded, else in proportion to the refunded amount, rounded down."""
    if purchase.refunded_amount == purchase.amount:
        return points
    return int((Decimal(points) * purchase.refunded_amount / purchase.amount).to_integral_value(ROUND_FLOOR))


@dataclass(frozen=True)
class Reversal:
    """What one refund changed, read under the locks that made the change: the answer to the
    partner (and what an idempotent replay repeats), never recomputed from rows read before."""

    purchase: Purchase
    member: Member
    amount: Decimal
    points: int
    debt: int
    entries: list[LedgerEntry] = field(default_factory=list)


def _reversed_so_far(purchase: Purchase) -> dict[int, int]:
    """Points each derived entry's refunds already took back (lots plus debt), by source entry id."""
    owed: dict[int, int] = {}
    for reference, points, breakdown in LedgerEntry.objects.filter(
        purchase=purchase, kind=LedgerEntry.Kind.REVERSE, reference__startswith=DERIVED_PREFIX
    ).values_list("reference", "points", "breakdown"):
        source = int(reference.removeprefix(DERIVED_PREFIX))
        debt = sum(line.get("debt", 0) for line in breakdown or [] if isinstance(line, dict))
        owed[source] = owed.get(source, 0) - points + debt
    return owed


# The REVERSE entry taking back points derived from a purchase names the entry it takes back.
DERIVED_PREFIX = "members.ledgerentry:"


def _derived_entries(purchase: Purchase) -> QuerySet[LedgerEntry]:
    """Credits a purchase set off besides its own earn entry: campaign offer bonus and multiplier
    points, challenge prizes, and referral rewards when the program takes those back too."""
    qs = LedgerEntry.objects.filter(purchase=purchase, points__gt=0).exclude(kind=LedgerEntry.Kind.EARN)
    if not purchase.member.program.refund_takes_referral:
        qs = qs.exclude(kind=LedgerEntry.Kind.REFERRAL)
    return qs.order_by("pk")


def _take_back(
    member: Member,
    *,
    purchase: Purchase,
    points: int,
    own_lots: QuerySet[PointLot],
    now: datetime,
    amount: Decimal,
    reason: str,
    reference: str,
    created_by,
    reason_params: dict | None = None,
) -> tuple[LedgerEntry, int]:
    """A REVERSE entry taking `points` from a locked member: the lots the points were credited to
    first, then spendable points, then other pending points; what none cover becomes debt."""
    other_pending = (
        PointLot.objects.select_for_update()
        .filter(member=member, pending=True, remaining__gt=0)
        .order_by(F("expires_at").asc(nulls_last=True), "id")
    )
    entry = ledger_debit(
        member,
        kind=LedgerEntry.Kind.REVERSE,
        points=points,
        now=now,
        lots=(own_lots, None, other_pending),
        amount=amount,
        currency=purchase.currency,
        partner=purchase.partner,
        purchase=purchase,
        reason=reason,
        reason_params=reason_params,
        reference=reference,
        created_by=created_by,
    )
    shortfall = points + entry.points  # what no lot covered (the entry holds what they gave)
    if shortfall:
        debt_case_open(entry=entry, debt=shortfall)
    return entry, shortfall


def _return_error(message: str, code: str = "invalid_return") -> DomainError:
    return DomainError(code, message, fields={"items": [message]})


def _items_returned(prior: list[tuple[list[dict], Decimal]]) -> dict[str, int]:
    """Quantities of each SKU earlier refunds (their items and amounts) took back."""
    returned: dict[str, int] = {}
    for items, _amount in prior:
        for line in items:
            returned[line["sku"]] = returned.get(line["sku"], 0) + line["quantity"]
    return returned


def _return_check(
    purchase: Purchase, items: list[dict], returned: dict[str, int]
) -> tuple[list[dict], Decimal, dict[str, int]]:
    """The items of a return, checked against what was bought and already returned: never more of a
    SKU than the purchase's product lines hold. Returns the lines (merged by SKU), their value at the
    prices paid, and every SKU's quantity returned once this return is counted."""
    wanted: dict[str, int] = {}
    for line in items:
        wanted[line["sku"]] = wanted.get(line["sku"], 0) + line["quantity"]
    bought: dict[str, list[tuple[int, Decimal]]] = {}
    for line in purchase.items:
        if line.get("kind", "product") == "product" and line.get("sku"):
            bought.setdefault(line["sku"], []).append((line["quantity"], Decimal(line["unit_price"])))
    returned = dict(returned)
    value = Decimal("0")
    for sku, quantity in wanted.items():
        if sku not in bought:
            raise _return_error(f"SKU {sku} is not a product line of this purchase.", code="item_not_bought")
        left = sum(q for q, _ in bought[sku]) - returned.get(sku, 0)
        if quantity > left:
            raise _return_error(
                f"Only {left} of SKU {sku} can still be returned ({quantity} asked).", code="return_exceeds_purchase"
            )
        # Lines of one SKU at several prices: the earlier returns took the first lines first.
        skip, take = returned.get(sku, 0), quantity
        for line_quantity, price in bought[sku]:
            used = min(skip, line_quantity)
            skip -= used
            here = min(take, line_quantity - used)
            value += price * here
            take -= here
        returned[sku] = returned.get(sku, 0) + quantity
    return [{"sku": sku, "quantity": q} for sku, q in wanted.items()], value, returned


def _items_share(purchase: Purchase, returned: dict[str, int]) -> int:
    """The part of a purchase's points its returned items earned: the earning rules quoted on the
    whole basket and on what is left of it (item and basket rules alike, so a basket bonus the rest
    no longer reaches counts too), applied to the points the purchase really earned, rounded down."""
    if not purchase.points or not purchase.items:
        return 0
    rest, rest_amount = [], purchase.amount
    left = dict(returned)
    for line in purchase.items:
        line = dict(line)
        if line.get("kind", "product") == "product" and left.get(line.get("sku")):
            gone = min(left[line["sku"]], line["quantity"])
            left[line["sku"]] -= gone
            rest_amount -= Decimal(line["unit_price"]) * gone
            line["quantity"] -= gone
        if line["quantity"]:
            rest.append(line)
    at = purchase.occurred_at
    full = purchase_quote(
        member=purchase.member,
        partner=purchase.partner,
        amount=purchase.amount,
        items=purchase.items,
        paid_with_points=purchase.paid_with_points,
        at=at,
    ).points
    if full <= 0:
        return 0
    paid = purchase.paid_with_points * rest_amount / purchase.amount if rest_amount > 0 else Decimal("0")
    kept = 0
    if rest_amount > 0:
        kept = purchase_quote(
            member=purchase.member,
            partner=purchase.partner,
            amount=rest_amount,
            items=rest,
            paid_with_points=paid,
            at=at,
        ).points
    share = Decimal(purchase.points) * (full - max(0, min(kept, full))) / full
    return int(share.to_integral_value(ROUND_FLOOR))


def _return_replay(purchase: Purchase, member: Member, reference: str) -> Reversal | None:
    done = purchase.returns.filter(reference=reference).first() if reference else None
    if done is None:
        return None
    return Reversal(purchase=purchase, member=member, amount=done.amount, points=done.points, debt=done.debt)


@transaction.atomic
def purchase_reverse(
    *,
    purchase: Purchase,
    amount: Decimal | None = None,
    items: list[dict] | None = None,
    reference: str = "",
    reason: str = "Refund",
    created_by=None,
    currency: str = "",
) -> Reversal:
    """Take back the points of a refund: the purchase's own points and every credit derived from it
        (campaign offers, challenge prizes, referral rewards where the program says so), in proportion
        to the amount refunded. With `items` ([{sku, quantity}]) the own points taken back are at least
        what those items earned (_items_share) and the amount defaults to their value at the prices paid;
        no SKU comes back more often than it was bought. Points already spent become debt. `reference`
        (the partner's return id) makes the call idempotent: the same one returns the first refund's
        answer. `currency`: the currency of `amount` when it is not the program's, the one the purchase
    was paid in, converted at the purchase's own rate (members.services.currency). Returns what this
    call changed, under the locks."""
    # Derived entries may belong to another member (the referrer): lock them all, in id order.
    others = set(_derived_entries(purchase).values_list("member_id", flat=True)) - {purchase.member_id}
    locked = lock_members(purchase.member_id, *others)
    member = locked[purchase.member_id]
    purchase = Purchase.objects.select_for_update(of=("self",)).select_related("partner").get(pk=purchase.pk)
    purchase.member = member
    replay = _return_replay(purchase, member, reference)
    if replay is not None:
        return replay
    if amount is not None and currency:
        amount = refund_convert(purchase=purchase, amount=amount, currency=currency)
    refundable = purchase.amount - purchase.refunded_amount
    prior = list(purchase.returns.values_list("items", "amount"))
    returned, lines = _items_returned(prior), []
    if items:
        lines, value, returned = _return_check(purchase, items, returned)
        amount = min(value, refundable) if amount is None else amount
    amount = refundable if amount is None else amount
    if amount <= 0 or amount > refundable:
        raise DomainError(
            "invalid_amount",
            f"The refund must be between 0 and {refundable}.",
            fields={"amount": [f"At most {refundable}."]},
        )
    purchase.refunded_amount += amount
    # Item returns take back what their items earned; money refunded without items (and refunds from
    # before returns were recorded) takes back its proportional share; a full refund takes it all.
    by_items = sum((a for i, a in prior if i), Decimal("0")) + (amount if lines else Decimal("0"))
    target = points_reversed_share(purchase, purchase.points)
    if returned and purchase.refunded_amount < purchase.amount:
        by_amount = int(
            (Decimal(purchase.points) * (purchase.refunded_amount - by_items) / purchase.amount).to_integral_value(
                ROUND_FLOOR
            )
        )
        target = min(purchase.points, _items_share(purchase, returned) + by_amount)
    to_take = max(0, target - purchase.points_reversed)
    target = purchase.points_reversed + to_take
    purchase.points_reversed = target
    purchase.save(update_fields=["refunded_amount", "points_reversed"])
    now = timezone.now()
    entries, points, debt = [], 0, 0
    if to_take > 0:
        own_lot = PointLot.objects.select_for_update().filter(
            entry__purchase=purchase, entry__kind=LedgerEntry.Kind.EARN, remaining__gt=0
        )
        entry, shortfall = _take_back(
            member,
            purchase=purchase,
            points=to_take,
            own_lots=own_lot,
            now=now,
            amount=amount,
            reason=reason,
            reference=f"purchase:{purchase.external_id}",
            created_by=created_by,
        )
        entries.append(entry)
        points, debt = to_take, shortfall
    so_far = _reversed_so_far(purchase)
    for source in _derived_entries(purchase):
        share = points_reversed_share(purchase, source.points) - so_far.get(source.pk, 0)
        if share <= 0:
            continue
        holder = locked.get(source.member_id)
        if holder is None:  # credited after we looked (a late offer): its member is not locked
            continue
        entry, shortfall = _take_back(
            holder,
            purchase=purchase,
            points=share,
            own_lots=PointLot.objects.select_for_update().filter(entry=source, remaining__gt=0),
            now=now,
            amount=amount,
            # The member's history names what is taken back (the entry's kind says it is a refund).
            reason=source.reason or str(source.get_kind_display()),
            reason_params=source.reason_params if source.reason else None,
            reference=f"{DERIVED_PREFIX}{source.pk}",
            created_by=created_by,
        )
        entries.append(entry)
        if holder.pk == member.pk:
            points, debt = points + share, debt + shortfall
    PurchaseReturn.objects.create(
        purchase=purchase,
        reference=reference,
        items=lines,
        amount=amount,
        points=points,
        debt=debt,
        reason=reason[:200],
        created_at=now,
    )
    event_record(
        PointsReversed(
            member=member.number,
            purchase=purchase.pk,
            amount=str(amount),
            points=points,
            debt=debt,
            refunded_amount=str(purchase.refunded_amount),
            full=purchase.refunded_amount == purchase.amount,
        ),
        program=member.program,
        member=member,
    )
    return Reversal(purchase=purchase, member=member, amount=amount, points=points, debt=debt, entries=entries)
