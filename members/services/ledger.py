"""The points ledger: with its bulk forms (ledger_bulk), the only code that writes ledger entries, point
lots and members' cached balances.

One member's points move through two primitives, called with the member row locked
(members.locks) inside the caller's transaction:

- `ledger_credit`: an entry, a lot (pending until `available_at`), the balances; debt is repaid first;
- `ledger_debit`: points taken from lots (soonest expiry first, unless the caller names the lots),
  the balances, and an entry whose breakdown lists the lots taken from.

The periodic jobs (members.services.expiry) move many members' points at once through the bulk
forms in members.services.ledger_bulk (`ledger_release_pending`, `ledger_expire`): set-based
statements, a constant number per chunk of members.
Other apps move points through the services below: `points_spend`, `points_grant`,
`points_refund`; staff through `points_adjust`.

The invariant, checked nightly (members.selectors.ledger_mismatches): available + pending ==
sum(entries) == sum(lot remainders), each >= 0, and pending == sum(remainders of pending lots).
"""

from collections.abc import Sequence
from datetime import datetime

from django.conf import settings
from django.db import transaction
from django.db.models import F, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_noop

from core.errors import DomainError
from members.checks import member_require_active
from members.events import PointsEarned
from members.locks import lock_member
from members.models import LedgerEntry, Member, Partner, PendingAdjustment, PointLot, Program, Purchase
from members.outbox import event_record
from members.selectors import add_months
from members.services.audit import audit_record
from members.services.tiers import tier_evaluate
from members.zones import end_of_local_day, program_zone


def _expiry_for(program: Program, earned_at: datetime) -> datetime | None:
    """Points earned on a local date expire at the end of the same date N months later, at the
    program's local midnight (so a member reads one expiry date, whatever the hour they earned)."""
    if program.expiry_policy == Program.Expiry.FIXED:
        zone = program_zone(program)
        return end_of_local_day(zone, add_months(earned_at.astimezone(zone), program.expiry_months))
    return None


def ledger_credit(
    member: Member,
    *,
    kind: str,
    points: int,
    now: datetime,
    available_at: datetime | None = None,
    expires_by: datetime | None = None,
    also_save: tuple[str, ...] = (),
    **entry_fields,
) -> LedgerEntry:
    """Add points to a locked member: an entry, a lot, and the cached balances. Debt is repaid first.
    The lot is pending until `available_at` (default: available now) and expires by the program's
    policy, or at `expires_by` if that is sooner (points moved keep their expiry: a transfer). `entry_fields`: the entry's reason, reference, partner, purchase, breakdown, created_by...
    `also_save`: other member fields the caller changed, written in the same UPDATE."""
    if points <= 0:
        raise DomainError("invalid_points", "Points must be a positive whole number.")
    entry = LedgerEntry.objects.create(
        program_id=member.program_id,
        member=member,
        kind=kind,
        points=points,
        created_at=now,
        **entry_fields,
    )
    repaid = min(member.points_debt, points)
    if repaid:
        LedgerEntry.objects.create(
            program_id=member.program_id,
            member=member,
            kind=LedgerEntry.Kind.DEBT,
            points=-repaid,
            reason=gettext_noop("Repays points taken back by an earlier refund"),
            reason_params={},
            reference=f"members.ledgerentry:{entry.pk}",
            created_at=now,
        )
        member.points_debt -= repaid
    net = points - repaid
    available_at = available_at or now
    pending = available_at > now
    if net:
        PointLot.objects.create(
            member=member,
            entry=entry,
            points=net,
            remaining=net,
            pending=pending,
            available_at=available_at,
            expires_at=min(filter(None, [_expiry_for(member.program, now), expires_by]), default=None),
        )
    if pending:
        member.points_pending += net
    else:
        member.points_available += net
    # Lifetime = ISSUED_KINDS + staff adjustments (net: a negative one subtracts, in ledger_debit)
    # - reversals, never below 0 (README, "Points").
    if kind in LedgerEntry.ISSUED_KINDS or kind == LedgerEntry.Kind.ADJUST:
        member.points_lifetime += points
    member.last_activity_at = now
    member.save(
        update_fields=[
            "points_available",
            "points_pending",
            "points_lifetime",
            "points_debt",
            "last_activity_at",
            *also_save,
        ]
    )
    return entry


def ledger_debit(
    member: Member,
    *,
    kind: str,
    points: int,
    now: datetime,
    lots: Sequence[QuerySet[PointLot] | None] = (None,),
    activity: bool = False,
    **entry_fields,
) -> LedgerEntry:
    """Take `points` from a locked member: the lots' remainders, the cached balances, and one
    negative entry whose breakdown lists the lots taken from. `lots`: locked lot querysets taken
    from in turn until the points are covered (None: the available lots, soonest expiry first).
    `activity`: the member did it (a spend), which counts as activity for inactivity expiry.

    Callers refuse first, in their own words, what the member's available points do not cover. A
    REVERSE (a refunded purchase) is the exception: it takes back earned points that may be spent
    already, so what no lot covers becomes debt (repaid first by later credits) and the entry shows
    only what the lots gave; it also takes the points back out of the lifetime total. A negative
    staff ADJUST takes them out of the lifetime total too: adjustments are corrections, counted net,
    so a +2,000,000 slip corrected by -2,000,000 leaves lifetime where it was."""
    if points <= 0:
        raise DomainError("invalid_points", "Points must be a positive whole number.")
    reversal = kind == LedgerEntry.Kind.REVERSE
    if not reversal and member.points_available < points:
        raise DomainError("insufficient_points", f"Only {member.points_available} points are available.", status=409)
    taken, detail = 0, []
    for source in lots:
        if taken < points:
            more, more_detail = _lots_take(member, points - taken, source)
            taken += more
            detail += more_detail
    update_fields = ["points_available", "points_pending"]
    if activity:
        member.last_activity_at = now
        update_fields.append("last_activity_at")
    shortfall = points - taken if reversal else 0
    if reversal:
        member.points_debt += shortfall
        update_fields.append("points_debt")
    if reversal or kind == LedgerEntry.Kind.ADJUST:
        member.points_lifetime = max(0, member.points_lifetime - points)
        update_fields.append("points_lifetime")
    member.save(update_fields=update_fields)
    if shortfall:
        detail.append({"debt": shortfall})
    return LedgerEntry.objects.create(
        program_id=member.program_id,
        member=member,
        kind=kind,
        points=-taken,
        breakdown=detail,
        created_at=now,
        **entry_fields,
    )


def _lots_take(member: Member, points: int, lots: QuerySet[PointLot] | None) -> tuple[int, list[dict]]:
    """Take up to `points` from lots (None: available lots, soonest expiry first). Returns taken and a breakdown."""
    if lots is None:
        lots = (
            PointLot.objects.select_for_update()
            .filter(member=member, pending=False, remaining__gt=0)
            .order_by(F("expires_at").asc(nulls_last=True), "id")
        )
    taken, touched, detail = 0, [], []
    for lot in lots:
        if taken >= points:
            break
        use = min(lot.remaining, points - taken)
        lot.remaining -= use
        taken += use
        touched.append(lot)
        detail.append({"lot": lot.pk, "points": use})
        if lot.pending:
            member.points_pending -= use
        else:
            member.points_available -= use
    PointLot.objects.bulk_update(touched, ["remaining"])
    return taken, detail


# --- what other apps and staff call ----------------------------------------------------------


@transaction.atomic
def points_spend(
    *,
    member: Member,
    points: int,
    reason: str,
    reason_params: dict | None = None,
    reference: str = "",
    kind: str = LedgerEntry.Kind.REDEEM,
    partner: Partner | None = None,
    created_by=None,
) -> LedgerEntry:
    """Spend available points (soonest-expiring lots first). Never overdraws."""
    if points <= 0:
        raise DomainError("invalid_points", "Points must be a positive whole number.")
    member = lock_member(member)
    member_require_active(member)
    if member.points_available < points:
        missing = points - member.points_available
        raise DomainError(
            "insufficient_points",
            f"Not enough points: {missing} more needed.",
            fields={"points": [f"Available {member.points_available}, needed {points}."]},
            status=409,
        )
    return ledger_debit(
        member,
        kind=kind,
        points=points,
        now=timezone.now(),
        activity=True,
        reason=reason,
        reason_params=reason_params,
        reference=reference,
        partner=partner,
        created_by=created_by,
    )


@transaction.atomic
def points_grant(
    *,
    member: Member,
    points: int,
    reason: str,
    reason_params: dict | None = None,
    reference: str = "",
    kind: str = LedgerEntry.Kind.GRANT,
    purchase: Purchase | None = None,
    created_by=None,
) -> LedgerEntry:
    """Give points that are available at once (campaign offers, challenges, survey rewards).
    `purchase`: the purchase that earned them (a campaign bonus or multiplier on it, a challenge it
    completed); its refund takes them back with its own points (members.services.purchases)."""
    member = lock_member(member)
    member_require_active(member)
    now = timezone.now()
    entry = ledger_credit(
        member,
        kind=kind,
        points=points,
        now=now,
        reason=reason,
        reason_params=reason_params,
        reference=reference,
        purchase=purchase,
        created_by=created_by,
    )
    event_record(
        PointsEarned(member=member.number, points=points, kind=kind, entry=entry.pk),
        program=member.program,
        member=member,
    )
    tier_evaluate(member=member, now=now)
    return entry


@transaction.atomic
def points_refund(
    *,
    member: Member,
    points: int,
    reason: str,
    reason_params: dict | None = None,
    reference: str = "",
    created_by=None,
) -> LedgerEntry:
    """Return spent points (a cancelled redemption or an unconfirmed checkout hold). The refund belongs
    to the partner of the spend it returns (same `reference`), so that partner's ledger nets out."""
    member = lock_member(member)
    partner_id = None
    if reference:
        partner_id = (
            LedgerEntry.objects.filter(member=member, reference=reference, points__lt=0)
            .order_by("pk")
            .values_list("partner_id", flat=True)
            .first()
        )
    return ledger_credit(
        member,
        kind=LedgerEntry.Kind.REFUND,
        points=points,
        now=timezone.now(),
        reason=reason,
        reason_params=reason_params,
        reference=reference,
        partner_id=partner_id,
        created_by=created_by,
    )


def points_adjust_limit(*, program: Program, user) -> int | None:
    """The largest adjustment `user` may make at once in `program`; None: no limit."""
    if user is not None and user.has_perm("members.adjust_points_unlimited"):
        return None
    return program.adjust_limit if program.adjust_limit is not None else settings.POINTS_ADJUST_LIMIT


def points_adjust_approval_above(*, program: Program) -> int:
    """Adjustments larger than this (up or down) need a second staff member's approval, whoever asks."""
    if program.adjust_approval_above is not None:
        return program.adjust_approval_above
    return settings.POINTS_ADJUST_APPROVAL_ABOVE


def _adjust_check(*, member: Member, points: int, reason: str, user) -> None:
    if not reason.strip():
        raise DomainError("reason_required", "An adjustment needs a reason.", fields={"reason": ["Required."]})
    if points == 0:
        raise DomainError("invalid_points", "An adjustment must change the balance.")
    limit = points_adjust_limit(program=member.program, user=user)
    if limit is not None and abs(points) > limit:
        raise DomainError(
            "over_adjust_limit",
            f"Adjustments are limited to {limit} points at once; ask a program manager for more.",
            fields={"points": [f"At most {limit} up or down."]},
            status=403,
        )


def _adjust_apply(*, member: Member, points: int, reason: str, created_by) -> tuple[LedgerEntry, int, int]:
    """The ledger side of an adjustment, on the locked member. Returns the entry and the balance before/after."""
    before = member.points_available
    now = timezone.now()
    if points > 0:
        entry = ledger_credit(
            member, kind=LedgerEntry.Kind.ADJUST, points=points, now=now, reason=reason, created_by=created_by
        )
    else:
        if member.points_available < -points:
            raise DomainError(
                "insufficient_points", f"Only {member.points_available} points are available to remove.", status=409
            )
        entry = ledger_debit(
            member, kind=LedgerEntry.Kind.ADJUST, points=-points, now=now, reason=reason, created_by=created_by
        )
    return entry, before, member.points_available


@transaction.atomic
def points_adjust(*, member: Member, points: int, reason: str, created_by) -> LedgerEntry:
    """A staff correction, up or down, always with a reason, within the staff user's limit. Above the
    program's approval threshold it is refused: ask with points_adjust_request instead."""
    _adjust_check(member=member, points=points, reason=reason, user=created_by)
    threshold = points_adjust_approval_above(program=member.program)
    if abs(points) > threshold:
        raise DomainError(
            "approval_required",
            f"Adjustments above {threshold} points need a second staff member's approval.",
            fields={"points": [f"Above {threshold}: ask for approval."]},
            status=409,
        )
    member = lock_member(member)
    entry, before, after = _adjust_apply(member=member, points=points, reason=reason, created_by=created_by)
    audit_record(
        actor=created_by,
        action="points.adjust",
        target=member,
        changes={"points_available": [before, after], "ledger_entry": [None, entry.pk]},
        reason=reason,
    )
    return entry


@transaction.atomic
def points_adjust_request(*, member: Member, points: int, reason: str, created_by) -> PendingAdjustment:
    """A large adjustment, recorded to wait for another staff member (points_adjust_approve). Nothing
    moves until then; the requester's own limit applies already."""
    _adjust_check(member=member, points=points, reason=reason, user=created_by)
    pending = PendingAdjustment.objects.create(
        program_id=member.program_id,
        member=member,
        points=points,
        reason=reason.strip(),
        requested_by=created_by,
        requested_at=timezone.now(),
    )
    audit_record(
        actor=created_by,
        action="points.adjust_requested",
        target=member,
        changes={"points": [None, points], "pending_adjustment": [None, pending.pk]},
        reason=reason,
    )
    return pending


def _pending_lock(adjustment: PendingAdjustment, user) -> PendingAdjustment:
    adjustment = PendingAdjustment.objects.select_for_update().select_related("member").get(pk=adjustment.pk)
    if adjustment.status != PendingAdjustment.Status.PENDING:
        raise DomainError("already_decided", "This adjustment was already decided.", status=409)
    if user is None or user.pk == adjustment.requested_by_id:
        raise DomainError(
            "own_adjustment", "Another staff member must decide on an adjustment you asked for.", status=403
        )
    return adjustment


@transaction.atomic
def points_adjust_approve(*, adjustment: PendingAdjustment, approved_by) -> LedgerEntry:
    """A second staff member applies a pending adjustment (within their own limit). The entry names
    the requester; the approval is on the pending row and in the audit trail."""
    # Lock order: the pending row, then the member (lock_member).
    adjustment = _pending_lock(adjustment, approved_by)
    limit = points_adjust_limit(program=adjustment.member.program, user=approved_by)
    if limit is not None and abs(adjustment.points) > limit:
        raise DomainError("over_adjust_limit", f"You may approve adjustments of at most {limit} points.", status=403)
    member = lock_member(adjustment.member)
    entry, before, after = _adjust_apply(
        member=member, points=adjustment.points, reason=adjustment.reason, created_by=adjustment.requested_by
    )
    adjustment.status, adjustment.entry = PendingAdjustment.Status.APPROVED, entry
    adjustment.decided_by, adjustment.decided_at = approved_by, timezone.now()
    adjustment.save(update_fields=["status", "entry", "decided_by", "decided_at"])
    audit_record(
        actor=approved_by,
        action="points.adjust_approved",
        target=member,
        changes={
            "points_available": [before, after],
            "ledger_entry": [None, entry.pk],
            "pending_adjustment": [adjustment.pk, adjustment.pk],
            "requested_by": [adjustment.requested_by_id, adjustment.requested_by_id],
        },
        reason=adjustment.reason,
    )
    return entry


@transaction.atomic
def points_adjust_reject(*, adjustment: PendingAdjustment, rejected_by, note: str = "") -> PendingAdjustment:
    """A second staff member turns a pending adjustment down; nothing moves."""
    adjustment = _pending_lock(adjustment, rejected_by)
    adjustment.status, adjustment.note = PendingAdjustment.Status.REJECTED, note[:255]
    adjustment.decided_by, adjustment.decided_at = rejected_by, timezone.now()
    adjustment.save(update_fields=["status", "note", "decided_by", "decided_at"])
    audit_record(
        actor=rejected_by,
        action="points.adjust_rejected",
        target=adjustment.member,
        changes={"pending_adjustment": [adjustment.pk, adjustment.pk], "points": [adjustment.points, None]},
        reason=note,
    )
    return adjustment
