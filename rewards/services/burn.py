"""Checkout burn: points pay part of an order, held until the partner confirms it."""

import secrets
from datetime import datetime, timedelta
from decimal import ROUND_DOWN, Decimal

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from core.errors import DomainError, NotFound
from members import services as members_services
from members.models import Member, Partner, Program
from members.outbox import event_record
from rewards.events import PointsBurned
from rewards.models import BurnHold
from rewards.selectors import refusal

BURN_HOLD_MINUTES = 5


def burn_value(program: Program, points: int) -> Decimal:
    return (Decimal(points) * program.burn_rate).quantize(Decimal("0.01"), rounding=ROUND_DOWN)


@transaction.atomic
def burn_quote(
    *,
    member: Member,
    partner: Partner | None,
    order_total: Decimal,
    points: int | None = None,
    order_reference: str = "",
) -> BurnHold:
    """Hold points to pay part of an order: `points` (default: as many as the order and balance
    allow). The points leave the balance now; they come back unless the partner confirms within
    BURN_HOLD_MINUTES."""
    program = member.program
    if partner is not None and (partner.program_id != member.program_id or not partner.is_active):
        raise NotFound(_("Member not found."))
    if order_total <= 0:
        raise DomainError("invalid_amount", _("The order total must be positive."), fields={"order_total": ["> 0"]})
    if order_total < program.burn_min_order:
        raise refusal(
            "order_below_minimum",
            _("Points can pay orders of at least %(min)s.") % {"min": program.burn_min_order},
            status=400,
            order_total=[str(program.burn_min_order)],
        )
    if program.burn_rate <= 0:
        raise refusal("burn_disabled", _("This program does not accept points at checkout."))
    most = int((order_total / program.burn_rate).to_integral_value(rounding=ROUND_DOWN))
    if points is None:
        points = min(most, Member.objects.get(pk=member.pk).points_available)
    if points <= 0:
        raise refusal("insufficient_points", _("There are no points available to pay with."), points=["0"])
    if points > most:
        raise refusal(
            "exceeds_order_total",
            _("At most %(most)s points can pay this order.") % {"most": most},
            status=400,
            points=[str(most)],
        )
    now = timezone.now()
    hold = BurnHold.objects.create(
        program=program,
        member=member,
        partner=partner,
        token=secrets.token_hex(16),
        points=points,
        amount=burn_value(program, points),
        order_total=order_total,
        order_reference=order_reference,
        created_at=now,
        expires_at=now + timedelta(minutes=BURN_HOLD_MINUTES),
    )
    members_services.points_spend(
        member=member,
        points=points,
        reason=gettext_noop("Paid at checkout"),
        reason_params={},
        reference=f"rewards.burnhold:{hold.pk}",
        partner=partner,
    )
    return hold


def _hold_for_partner(token: str, partner: Partner | None) -> BurnHold:
    hold = BurnHold.objects.select_for_update().select_related("member").filter(token=token).first()
    if hold is None or hold.partner_id != (partner.pk if partner else None):
        raise NotFound(_("Checkout hold not found."), code="hold_not_found")
    return hold


@transaction.atomic
def burn_confirm(*, token: str, partner: Partner | None, order_reference: str = "") -> BurnHold:
    """The order went through: the held points are spent for good. Confirming twice is harmless."""
    hold = _hold_for_partner(token, partner)
    if hold.status == BurnHold.Status.CONFIRMED:
        return hold
    if hold.status != BurnHold.Status.HELD or hold.expires_at <= timezone.now():
        raise refusal("hold_lapsed", _("The points hold lapsed; ask for a new quote."))
    hold.status = BurnHold.Status.CONFIRMED
    hold.settled_at = timezone.now()
    hold.order_reference = order_reference or hold.order_reference
    hold.save(update_fields=["status", "settled_at", "order_reference"])
    event_record(
        PointsBurned(
            member=hold.member.number,
            points=hold.points,
            amount=str(hold.amount),
            order_reference=hold.order_reference,
            partner=hold.partner_id,
        ),
        program=hold.program,
        member=hold.member,
    )
    return hold


def _release(hold: BurnHold, status: str, reason: str) -> None:
    hold.status = status
    hold.settled_at = timezone.now()
    hold.save(update_fields=["status", "settled_at"])
    members_services.points_refund(
        member=hold.member, points=hold.points, reason=reason, reference=f"rewards.burnhold:{hold.pk}"
    )


@transaction.atomic
def burn_cancel(*, token: str, partner: Partner | None) -> BurnHold:
    """The checkout was abandoned: the points come back at once."""
    hold = _hold_for_partner(token, partner)
    if hold.status != BurnHold.Status.HELD:
        raise refusal("hold_settled", _("This hold is already %(status)s.") % {"status": hold.get_status_display()})
    _release(hold, BurnHold.Status.CANCELLED, _("Checkout cancelled"))
    return hold


def burn_holds_lapse(*, now: datetime | None = None, chunk: int = 500) -> int:
    """Periodic: give back the points of holds nobody confirmed in time. Each hold is settled in its
    own transaction; SKIP LOCKED lets a confirm racing with the sweep win cleanly."""
    now = now or timezone.now()
    lapsed = 0
    while True:
        with transaction.atomic():
            holds = list(
                BurnHold.objects.select_for_update(skip_locked=True)
                .select_related("member")
                .filter(status=BurnHold.Status.HELD, expires_at__lte=now)
                .order_by("id")[:chunk]
            )
            for hold in holds:
                _release(hold, BurnHold.Status.LAPSED, _("Checkout not confirmed in time"))
        lapsed += len(holds)
        if len(holds) < chunk:
            return lapsed
