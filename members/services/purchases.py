"""Purchases: recording one (its points, velocity limits, the referral it may qualify, its events),
the earn entry, and refunds, which take back a proportional share of the points."""

import unicodedata
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation

from django.db import transaction
from django.db.models import Sum
from django.db.models.functions import Coalesce
from django.utils import timezone

from core.errors import Conflict, DomainError, NotFound
from members.checks import earn_hold, earn_limit_check, member_require_active
from members.earning import Quote, earn_quote
from members.events import PointsEarned, PurchaseRecorded
from members.locks import lock_buyer
from members.models import Event, LedgerEntry, Member, Partner, Program, Purchase
from members.outbox import event_build, events_record_bulk
from members.services.cards import card_shown
from members.services.currency import Conversion, purchase_convert
from members.services.ledger import ledger_credit
from members.services.plans import active_plan
from members.services.referrals import referral_reward
from members.services.tiers import tier_evaluate
from members.zones import program_day_start


def purchase_quote(
    *,
    member: Member,
    partner: Partner | None,
    amount: Decimal,
    items: list[dict] | None = None,
    paid_with_points: Decimal = Decimal("0"),
    at: datetime | None = None,
) -> Quote:
    """What a purchase would earn (the simulate endpoint and the admin simulator)."""
    return earn_quote(
        program=member.program,
        amount=amount,
        at=at or timezone.now(),
        items=items,
        paid_with_points=paid_with_points,
        tier=member.tier,
        partner=partner,
        plan=active_plan(member, at),
    )


# Tills and e-shops clocks drift a little; a purchase further in the future is a mistake.
CLOCK_SKEW = timedelta(minutes=5)

# Line items: only product lines earn; shipping and tax lines are paid but earn nothing; discount
# lines are negative and lower what the products earn. All lines add up to the amount, give or take
# a cent per line (tills round each line's tax or discount on their own).
ITEM_KINDS = ("product", "shipping", "tax", "discount")
ITEMS_TOLERANCE_PER_LINE = Decimal("0.01")


def external_reference_normalize(value: str) -> str:
    """A partner's idempotent reference (order id, ...) in one Unicode form: "é" typed as one code
    point (NFC) and as "e" + a combining accent (NFD) are the same order, not two."""
    return unicodedata.normalize("NFC", value)


def _items_error(message: str, code: str = "invalid_items") -> DomainError:
    return DomainError(code, message, fields={"items": [message]})


def purchase_items_check(*, amount: Decimal, items: list[dict] | None) -> list[dict]:
    """The line items of a purchase, checked against its amount (refused with a 400 that says why)
    and normalised for storage: every line has its kind, an integer quantity and a price as text."""
    checked = []
    total = Decimal("0")
    for number, item in enumerate(items or [], start=1):
        if not isinstance(item, dict):
            raise _items_error(f"Line {number} is not an object.")
        kind = item.get("kind") or "product"
        quantity = item.get("quantity", 1)
        try:
            price = Decimal(str(item["unit_price"]))
            if not price.is_finite():
                raise InvalidOperation
        except (KeyError, InvalidOperation):
            raise _items_error(f'Line {number} needs a unit_price such as "12.50".') from None
        if kind not in ITEM_KINDS:
            raise _items_error(f"Line {number}: kind must be one of {', '.join(ITEM_KINDS)}.")
        if not isinstance(quantity, int) or isinstance(quantity, bool) or quantity < 1:
            raise _items_error(f"Line {number}: quantity must be a whole number of at least 1.")
        if kind == "discount" and price > 0:
            raise _items_error(f"Line {number}: a discount line has a negative unit_price.")
        if kind != "discount" and price < 0:
            raise _items_error(f"Line {number}: only discount lines may have a negative unit_price.")
        total += price * quantity
        checked.append({**item, "kind": kind, "quantity": quantity, "unit_price": str(price)})
    tolerance = ITEMS_TOLERANCE_PER_LINE * len(checked)
    if checked and abs(total - amount) > tolerance:
        raise _items_error(
            f"The items add up to {total:.2f} but the amount is {amount:.2f}: they must match within "
            f"{tolerance:.2f} (0.01 per line). Send shipping, tax and discounts as lines of their own kind.",
            code="items_mismatch",
        )
    return checked


def purchase_amounts_check(
    *,
    program: Program,
    amount: Decimal,
    currency: str,
    paid_with_points: Decimal = Decimal("0"),
    discount_amount: Decimal = Decimal("0"),
) -> None:
    """The amounts of a purchase (or of a receipt without a member), checked against the program."""
    if discount_amount < 0:
        raise DomainError(
            "invalid_amount", "The discount cannot be negative.", fields={"discount_amount": ["Must be zero or more."]}
        )
    if amount <= 0:
        raise DomainError(
            "invalid_amount", "The amount must be positive.", fields={"amount": ["Must be greater than zero."]}
        )
    if amount > program.max_purchase_amount:
        limit = program.max_purchase_amount
        raise DomainError(
            "amount_too_large",
            f"The amount is over this program's largest purchase ({limit} {program.currency}).",
            fields={"amount": [f"At most {limit}."]},
        )
    if paid_with_points < 0 or paid_with_points > amount:
        raise DomainError(
            "invalid_amount",
            "The part paid with points must be between zero and the amount.",
            fields={"paid_with_points": ["Out of range."]},
        )
    if currency.upper() != program.currency:
        raise DomainError(
            "currency_mismatch",
            f"This program works in {program.currency}.",
            fields={"currency": [f"Expected {program.currency}."]},
        )


def _validate_purchase(
    member: Member,
    partner: Partner | None,
    amount: Decimal,
    currency: str,
    paid_with_points: Decimal,
    discount_amount: Decimal = Decimal("0"),
) -> None:
    purchase_amounts_check(
        program=member.program,
        amount=amount,
        currency=currency,
        paid_with_points=paid_with_points,
        discount_amount=discount_amount,
    )
    if partner is not None and (partner.program_id != member.program_id or not partner.is_active):
        raise NotFound("Member not found.")


def _in_program_currency(
    program: Program,
    amount: Decimal,
    currency: str,
    at: datetime,
    items: list[dict] | None,
    paid_with_points: Decimal,
    discount_amount: Decimal = Decimal("0"),
) -> tuple[Decimal, str, list[dict], Decimal, Decimal, Conversion | None]:
    """A purchase's amounts and checked items in the program's currency, converted at the rate in
    force on its date when it was paid in another (members.services.currency), with the conversion."""
    items = purchase_items_check(amount=amount, items=items)
    conversion = purchase_convert(
        program=program,
        amount=amount,
        currency=currency,
        at=at,
        items=items,
        paid_with_points=paid_with_points,
        discount_amount=discount_amount,
    )
    if conversion is None:
        return amount, currency, items, paid_with_points, discount_amount, None
    c = conversion
    return c.amount, program.currency, c.items, c.paid_with_points, c.discount_amount, c


def _date_check(member: Member, occurred_at: datetime, now: datetime) -> None:
    """A purchase given a date is neither in the future (past clock skew), nor before the member
    enrolled, nor older than the program's back-dating window."""
    if occurred_at > now + CLOCK_SKEW:
        message = "The purchase date is in the future."
    elif occurred_at < member.enrolled_at - CLOCK_SKEW:
        message = "The purchase date is before the member enrolled."
    elif occurred_at < now - timedelta(days=member.program.backdate_days):
        message = f"The purchase date is more than {member.program.backdate_days} days ago."
    else:
        return
    raise DomainError("invalid_date", message, fields={"occurred_at": [message]})


def _points_earned_today(member: Member, now: datetime) -> int:
    start = program_day_start(member.program, now)
    if member.last_activity_at is None or member.last_activity_at < start:
        return 0  # every credit marks activity: none today, so no query (a member's first purchase of the day)
    return LedgerEntry.objects.filter(member=member, kind=LedgerEntry.Kind.EARN, created_at__gte=start).aggregate(
        points=Coalesce(Sum("points"), 0)
    )["points"]


def _ceilings_check(member: Member, points: int, now: datetime) -> None:
    """The program's hard ceilings on purchase points; past one the purchase is refused (a daily
    *limit* of members.checks holds it for review instead). Called with the member row locked when
    recording, so two purchases of one member never both see room for one."""
    program = member.program
    if points > program.max_purchase_points:
        raise DomainError(
            "points_ceiling",
            f"This purchase would earn {points} points; a purchase may earn at most {program.max_purchase_points}.",
            fields={"amount": [f"At most {program.max_purchase_points} points a purchase."]},
        )
    if points > 0:
        earned = _points_earned_today(member, now)
        if earned + points > program.max_member_daily_points:
            raise DomainError(
                "daily_points_ceiling",
                f"This purchase would take the member past {program.max_member_daily_points} purchase points "
                f"today ({earned} already earned).",
                fields={"member": [f"At most {program.max_member_daily_points} points a day."]},
            )


def purchase_simulate(
    *,
    member: Member,
    partner: Partner | None,
    amount: Decimal,
    currency: str,
    items: list[dict] | None = None,
    paid_with_points: Decimal = Decimal("0"),
    occurred_at: datetime | None = None,
) -> Quote:
    """What recording this purchase would earn, refused for the same reasons purchase_record would
    refuse it (the simulate endpoint). Writes nothing."""
    now = timezone.now()
    amount, currency, items, paid_with_points, _, _ = _in_program_currency(
        member.program, amount, currency, occurred_at or now, items, paid_with_points
    )
    _validate_purchase(member, partner, amount, currency, paid_with_points)
    if occurred_at is not None:
        _date_check(member, occurred_at, now)
    quote = purchase_quote(
        member=member,
        partner=partner,
        amount=amount,
        items=items,
        paid_with_points=paid_with_points,
        at=occurred_at or now,
    )
    _ceilings_check(member, max(quote.points, 0), now)
    return quote


@transaction.atomic
def purchase_record(
    *,
    member: Member | str | None,
    partner: Partner | None,
    external_id: str,
    amount: Decimal,
    currency: str,
    occurred_at: datetime | None = None,
    items: list[dict] | None = None,
    paid_with_points: Decimal = Decimal("0"),
    discount_amount: Decimal = Decimal("0"),
    card: str = "",
    created_by=None,
    dated_by_receipt: bool = False,
) -> tuple[Purchase, bool]:
    """Record a purchase and earn its points. The same (partner, external_id) never earns twice:
    a repeat returns the first purchase and False. `member` may be a membership number of the
    partner's program (404 if there is none), or None when `card` names the member by a card
    number of the program (refused when blocked or replaced; the purchase keeps the card).
    `dated_by_receipt`: a receipt claimed within its window (members.services.receipts), whose date
    was checked when it was recorded and may precede the member's enrollment. The purchase carries its earn entry as
    `purchase.earn_entry` (None without points) so callers need not read it back."""
    external_id = external_reference_normalize(external_id)
    shown = None
    if card:
        program_id = partner.program_id if partner else member.program_id
        shown = card_shown(program_id=program_id, number=card, member=member)
        member = shown.member
    member, referrer = lock_buyer(member, partner)
    sent_amount = amount
    amount, currency, items, paid_with_points, discount_amount, conversion = _in_program_currency(
        member.program, amount, currency, occurred_at or timezone.now(), items, paid_with_points, discount_amount
    )
    _validate_purchase(member, partner, amount, currency, paid_with_points, discount_amount)
    member_require_active(member)
    if member.referral_rewarded_at is not None or member.referral_held:
        # A concurrent purchase qualified the referral while we waited for the lock, or it is held
        # as a suspected self-referral (members.checks) until staff approve it.
        referrer = None
    existing = Purchase.objects.filter(program_id=member.program_id, partner=partner, external_id=external_id).first()
    if existing is not None:
        if existing.member_id != member.pk or (existing.original_amount or existing.amount) != sent_amount:
            raise Conflict(
                "duplicate_external_id",
                "This external id was already used for another purchase.",
                fields={"external_id": ["Already used."]},
            )
        return existing, False

    now = timezone.now()
    if occurred_at is not None and not dated_by_receipt:
        _date_check(member, occurred_at, now)
    occurred_at = occurred_at or now
    quote = purchase_quote(
        member=member, partner=partner, amount=amount, items=items, paid_with_points=paid_with_points, at=occurred_at
    )
    _ceilings_check(member, max(quote.points, 0), now)
    hold = earn_limit_check(member=member, partner=partner, points=max(quote.points, 0), now=now)
    purchase = Purchase.objects.create(
        program_id=member.program_id,
        member=member,
        partner=partner,
        external_id=external_id,
        card=shown,
        amount=amount,
        paid_with_points=paid_with_points,
        discount_amount=discount_amount,
        currency=currency.upper(),
        original_amount=conversion.original_amount if conversion else None,
        original_currency=conversion.original_currency if conversion else "",
        exchange_rate=conversion.rate if conversion else None,
        items=items,
        categories=len({i.get("category") for i in items if i.get("category")}),
        occurred_at=occurred_at,
        points=0 if hold else max(quote.points, 0),
    )
    # From here on "now" is the moment the purchase was recorded: its return window starts there.
    now = purchase.created_at
    if hold:
        earn_hold(purchase=purchase, points=quote.points, breakdown=quote.breakdown, hold=hold, revision=quote.revision)
    member.last_purchase_at = max(filter(None, [member.last_purchase_at, occurred_at]))
    member.last_activity_at = now
    entry = None
    if purchase.points:
        entry = purchase_credit(
            member=member,
            purchase=purchase,
            points=purchase.points,
            breakdown=quote.breakdown,
            rule_revision_id=quote.revision,
            now=now,
            created_by=created_by,
            also_save=("last_purchase_at",),
        )
    else:
        member.save(update_fields=["last_purchase_at", "last_activity_at"])
    if referrer and amount >= member.program.referral_min_purchase:
        referral_reward(member, referrer, now, purchase=purchase)
    events = [
        event_build(
            PurchaseRecorded(
                member=member.number,
                purchase=purchase.pk,
                amount=str(purchase.amount),
                points=purchase.points,
                partner=purchase.partner_id,
            ),
            program=member.program,
            member=member,
        )
    ]
    if entry is not None:
        events.append(purchase_earned_event(purchase=purchase, entry=entry))
    # One INSERT and one dispatch task for both events.
    events_record_bulk(events)
    tier_evaluate(member=member, now=now)
    purchase.earn_entry = entry
    return purchase, True


def purchase_credit(
    *,
    member: Member,
    purchase: Purchase,
    points: int,
    breakdown: list[dict],
    now: datetime,
    rule_revision_id: int | None = None,
    created_by=None,
    reason: str = "",
    reason_params: dict | None = None,
    also_save: tuple[str, ...] = (),
) -> LedgerEntry:
    """The earn entry of a purchase (at recording, or when a held purchase is approved), pending for
    the program's return window from when it was recorded: a back-dated purchase waits it out too.
    `rule_revision_id`: the rule revision its points were quoted under."""
    return ledger_credit(
        member,
        kind=LedgerEntry.Kind.EARN,
        points=points,
        now=now,
        available_at=purchase_available_at(purchase),
        amount=purchase.amount,
        currency=purchase.currency,
        partner_id=purchase.partner_id,
        purchase=purchase,
        reference=f"purchase:{purchase.external_id}",
        reason=reason,
        reason_params=reason_params,
        breakdown=breakdown,
        rule_revision_id=rule_revision_id,
        created_by=created_by,
        also_save=also_save,
    )


def purchase_available_at(purchase: Purchase) -> datetime:
    """When a purchase's points become spendable: the return window counts from when the purchase
    was recorded, never from the date the partner gave it (which may be in the past)."""
    return purchase.created_at + timedelta(days=purchase.member.program.pending_days)


def purchase_earned_event(*, purchase: Purchase, entry: LedgerEntry, case: int | None = None) -> Event:
    """The `points.earned` event of a purchase's earn entry (unsaved: callers record it with the
    other events of their transaction). One builder, so partners' webhooks see one payload shape."""
    return event_build(
        PointsEarned(
            member=purchase.member.number,
            purchase=purchase.pk,
            amount=str(purchase.amount),
            partner=purchase.partner_id,
            points=entry.points,
            kind="earn",
            entry=entry.pk,
            pending=entry.lot.pending if hasattr(entry, "lot") else False,
            case=case,
        ),
        program=purchase.member.program,
        member=purchase.member,
    )
