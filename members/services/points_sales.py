"""Buying points (points + pay): a program sells points at its price (PointsPrice), within limits
per purchase and per member a day and a year. A partner sells them paid (its till took the money,
its payment reference goes on the ledger entry); the member page places an order that the payment
provider's confirmation settles (`points_order_settle`). Within the program's refund window a sale
is refunded for the points still unspent, at the price they were bought at."""

import secrets
import unicodedata
from datetime import datetime, timedelta
from decimal import ROUND_FLOOR, ROUND_HALF_UP, Decimal

from django.db import transaction
from django.db.models import F, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext_noop

from core.errors import Conflict, DomainError, NotFound
from members.checks import member_require_active
from members.events import PointsEarned
from members.locks import lock_member
from members.models import LedgerEntry, Member, Partner, PointLot, PointsPrice, PointsSale, Program
from members.outbox import event_record
from members.services.audit import audit_record
from members.services.ledger import ledger_credit, ledger_debit

CENT = Decimal("0.01")
# What counts against a member's limits: every order not cancelled, less what refunds gave back.
_COUNTED = (PointsSale.Status.PENDING, PointsSale.Status.PAID, PointsSale.Status.REFUNDED)


def points_price_for(*, program: Program) -> PointsPrice:
    price = PointsPrice.objects.filter(program=program, is_active=True).first()
    if price is None:
        raise DomainError("points_not_for_sale", "This program does not sell points.", status=409)
    return price


def points_price_quote(*, program: Program, points: int) -> tuple[PointsPrice, Decimal]:
    """The program's price settings and what `points` cost, refused outside its blocks and bounds."""
    config = points_price_for(program=program)
    if points < config.min_points or points > config.max_points:
        message = f"One purchase buys between {config.min_points} and {config.max_points} points."
        raise DomainError("invalid_points", message, fields={"points": [message]})
    if points % config.block:
        message = f"Points are sold by blocks of {config.block}."
        raise DomainError("invalid_points", message, fields={"points": [message]})
    total = (config.price * points / config.block).quantize(CENT, rounding=ROUND_HALF_UP)
    return config, total


def _bought_since(member: Member, since: datetime) -> int:
    return PointsSale.objects.filter(member=member, status__in=_COUNTED, created_at__gte=since).aggregate(
        points=Coalesce(Sum(F("points") - F("refunded_points")), 0)
    )["points"]


def _limits_check(member: Member, config: PointsPrice, points: int, now: datetime) -> None:
    """Called with the member row locked: two sales of one member never both see room for one."""
    day = timezone.localtime(now).replace(hour=0, minute=0, second=0, microsecond=0)
    for start, limit, code, period in (
        (day, config.daily_limit, "daily_limit", "today"),
        (day.replace(month=1, day=1), config.yearly_limit, "yearly_limit", "this year"),
    ):
        bought = _bought_since(member, start)
        if bought + points > limit:
            message = f"A member may buy {limit} points {period}; {bought} already bought."
            raise DomainError(code, message, fields={"points": [message]}, status=409)


def _order_code() -> str:
    return f"PTS-{secrets.token_hex(6).upper()}"


def _reference_check(payment_reference: str) -> str:
    reference = unicodedata.normalize("NFC", (payment_reference or "").strip())
    if not reference:
        message = "The payment reference is required: it is the proof the points were paid."
        raise DomainError("payment_reference_required", message, fields={"payment_reference": [message]})
    return reference


def _credit(sale: PointsSale, member: Member, now: datetime) -> None:
    sale.entry = ledger_credit(
        member,
        kind=LedgerEntry.Kind.BOUGHT,
        points=sale.points,
        now=now,
        amount=sale.price,
        currency=sale.currency,
        partner_id=sale.partner_id,
        reference=f"payment:{sale.payment_reference}"[:120],
        reason=gettext_noop("Points bought, order %(order)s"),
        reason_params={"order": sale.order},
        created_by=sale.created_by,
    )
    event_record(
        PointsEarned(member=member.number, points=sale.points, kind=LedgerEntry.Kind.BOUGHT, entry=sale.entry.pk),
        program=member.program,
        member=member,
    )


@transaction.atomic
def points_sell(
    *,
    member: Member,
    points: int,
    payment_reference: str,
    partner: Partner | None = None,
    price: Decimal | None = None,
    created_by=None,
) -> tuple[PointsSale, bool]:
    """Sell points already paid for (a partner's till, staff): credited at once. The payment
    reference makes it idempotent within the program: the same one again returns the first sale and
    False (with another member or number of points it is a 409). `price`, when given, is what the
    seller charged: it must be the program's price for those points."""
    reference = _reference_check(payment_reference)
    member = lock_member(member)
    member_require_active(member)
    existing = PointsSale.objects.filter(program_id=member.program_id, payment_reference=reference).first()
    if existing is not None:
        if existing.member_id != member.pk or existing.points != points:
            raise Conflict(
                "duplicate_payment_reference",
                "This payment reference was already used for another sale of points.",
                fields={"payment_reference": ["Already used."]},
            )
        return existing, False
    config, total = points_price_quote(program=member.program, points=points)
    if price is not None and price != total:
        message = f"{points} points cost {total} {member.program.currency}."
        raise DomainError("price_mismatch", message, fields={"price": [message]})
    now = timezone.now()
    _limits_check(member, config, points, now)
    sale = PointsSale.objects.create(
        program_id=member.program_id,
        member=member,
        partner=partner,
        order=_order_code(),
        points=points,
        price=total,
        currency=member.program.currency,
        status=PointsSale.Status.PAID,
        payment_reference=reference,
        created_by=created_by,
        created_at=now,
        paid_at=now,
    )
    _credit(sale, member, now)
    sale.save(update_fields=["entry"])
    sale.member = member
    return sale, True


@transaction.atomic
def points_order_place(*, member: Member, points: int) -> PointsSale:
    """A member's order on their page, waiting for payment: it counts against the limits at once
    (an unpaid order cannot be used to pass them), and earns its points when the payment provider
    confirms it. Only programs that configured a payment page take orders."""
    member = lock_member(member)
    member_require_active(member)
    config, total = points_price_quote(program=member.program, points=points)
    if not config.payment_url:
        raise DomainError("points_not_for_sale", "Points are sold by the program's partners only.", status=409)
    now = timezone.now()
    _limits_check(member, config, points, now)
    return PointsSale.objects.create(
        program_id=member.program_id,
        member=member,
        order=_order_code(),
        points=points,
        price=total,
        currency=member.program.currency,
        created_at=now,
    )


def points_order_payment_url(sale: PointsSale, price: PointsPrice) -> str:
    """Where the member pays an order: the program's payment page, told which order."""
    base = price.payment_url
    return f"{base}{'&' if '?' in base else '?'}order={sale.order}&amount={sale.price}&currency={sale.currency}"


@transaction.atomic
def points_order_settle(*, order: str, payment_reference: str, amount: Decimal, created_by=None) -> PointsSale:
    """The payment provider confirmed an order (its callback, or staff recording the confirmation
    in the admin): the points are credited. Idempotent: the same confirmation again changes nothing."""
    reference = _reference_check(payment_reference)
    sale = PointsSale.objects.select_related("member").filter(order=order).first()
    if sale is None:
        raise NotFound("Order not found.")
    member = lock_member(sale.member)
    sale = PointsSale.objects.select_for_update().get(pk=sale.pk)
    if sale.status == PointsSale.Status.PAID and sale.payment_reference == reference:
        return sale
    if sale.status != PointsSale.Status.PENDING:
        raise Conflict("order_not_pending", f"Order {sale.order} is {sale.get_status_display().lower()}.")
    if amount != sale.price:
        message = f"Order {sale.order} costs {sale.price} {sale.currency}; {amount} was paid."
        raise DomainError("amount_mismatch", message, fields={"amount": [message]})
    if PointsSale.objects.filter(program_id=sale.program_id, payment_reference=reference).exists():
        raise Conflict("duplicate_payment_reference", "This payment reference was already used for another sale.")
    now = timezone.now()
    sale.status, sale.payment_reference, sale.paid_at, sale.created_by = (
        PointsSale.Status.PAID,
        reference,
        now,
        created_by,
    )
    _credit(sale, member, now)
    sale.save(update_fields=["status", "payment_reference", "paid_at", "created_by", "entry"])
    if created_by is not None:
        audit_record(actor=created_by, action="points_order_settle", target=sale, changes={"payment": reference})
    return sale


def points_sale_refundable_until(sale: PointsSale, config: PointsPrice | None = None) -> datetime | None:
    if sale.paid_at is None:
        return None
    config = config or PointsPrice.objects.filter(program_id=sale.program_id).first()
    return sale.paid_at + timedelta(days=config.refund_days if config else 0)


@transaction.atomic
def points_sale_refund(*, sale: PointsSale, created_by=None) -> PointsSale:
    """Refund a paid sale within the program's refund window: the points of the sale the member has
    not spent are taken back, and their share of the price is refunded. Idempotent: a refunded sale
    is returned as it is. A pending order is cancelled instead (nothing was paid)."""
    member = lock_member(sale.member)
    sale = PointsSale.objects.select_for_update().get(pk=sale.pk)
    sale.member = member
    if sale.status in (PointsSale.Status.REFUNDED, PointsSale.Status.CANCELLED):
        return sale
    now = timezone.now()
    if sale.status == PointsSale.Status.PENDING:
        sale.status, sale.refunded_at = PointsSale.Status.CANCELLED, now
        sale.save(update_fields=["status", "refunded_at"])
        return sale
    until = points_sale_refundable_until(sale)
    if until is None or now > until:
        raise Conflict("refund_window_closed", f"Bought points can be refunded until {until:%Y-%m-%d %H:%M}.")
    lot = PointLot.objects.select_for_update().filter(entry_id=sale.entry_id, remaining__gt=0)
    unspent = sum(lot.values_list("remaining", flat=True))
    refund = (sale.price * unspent / sale.points).quantize(CENT, rounding=ROUND_FLOOR)
    if unspent:
        ledger_debit(
            member,
            kind=LedgerEntry.Kind.SALE_REFUND,
            points=unspent,
            now=now,
            lots=(lot,),
            amount=refund,
            currency=sale.currency,
            partner_id=sale.partner_id,
            reference=f"payment:{sale.payment_reference}"[:120],
            reason=gettext_noop("Bought points refunded, order %(order)s"),
            reason_params={"order": sale.order},
            created_by=created_by,
        )
    sale.status, sale.refunded_points, sale.refunded_amount, sale.refunded_at = (
        PointsSale.Status.REFUNDED,
        unspent,
        refund,
        now,
    )
    sale.save(update_fields=["status", "refunded_points", "refunded_amount", "refunded_at"])
    if created_by is not None:
        audit_record(actor=created_by, action="points_sale_refund", target=sale, changes={"points": unspent})
    return sale
