"""The review queue's workflow: staff approve or reject what members.checks held, always with a note.

Above the services: approving credits what the case held through them, once (a held purchase earns
its points, a held referral pays as usual); rejecting credits nothing. The admin's actions and
buttons (members/admin/review.py) call `review_approve` and `review_reject`.
"""

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_noop

from core.errors import Conflict, DomainError
from members.checks import member_require_active
from members.locks import lock_members
from members.models import Member, Purchase, ReviewCase
from members.outbox import events_record_bulk
from members.services.audit import audit_record
from members.services.purchases import purchase_credit, purchase_earned_event
from members.services.referrals import referral_reward
from members.services.refunds import points_reversed_share
from members.services.tiers import tier_evaluate
from members.texts import ledger_reason


def _decide(case: ReviewCase, decided_by, note: str, status: str) -> ReviewCase:
    """Lock the case (first, before any member: a fixed order) and refuse a second decision."""
    if not note.strip():
        raise DomainError("note_required", "A decision needs a note.", fields={"note": ["Required."]})
    case = ReviewCase.objects.select_for_update().get(pk=case.pk)
    if case.status != ReviewCase.Status.OPEN:
        raise Conflict("case_decided", f"This case was already {case.get_status_display().lower()}.")
    case.status = status
    case.decided_by = decided_by
    case.decided_at = timezone.now()
    case.note = note.strip()
    case.save(update_fields=["status", "decided_by", "decided_at", "note"])
    audit_record(
        actor=decided_by, action=f"review.{status}", target=case, changes={"points": case.points}, reason=case.note
    )
    return case


@transaction.atomic
def review_reject(*, case: ReviewCase, decided_by, note: str) -> ReviewCase:
    """Record the decision; nothing is credited (a held referral stays without points)."""
    return _decide(case, decided_by, note, ReviewCase.Status.REJECTED)


@transaction.atomic
def review_approve(*, case: ReviewCase, decided_by, note: str) -> ReviewCase:
    """Credit what the case held, once: a held purchase earns its points (less any part refunded
    meanwhile); a held referral pays as usual, at once if the new member already qualified. A debt
    case holds no points: approving it only records that staff looked."""
    case = _decide(case, decided_by, note, ReviewCase.Status.APPROVED)
    if case.kind == ReviewCase.Kind.EARN_LIMIT:
        _release_purchase(case, decided_by)
    elif case.kind == ReviewCase.Kind.SELF_REFERRAL:
        _release_referral(case)
    return case


def _release_purchase(case: ReviewCase, decided_by) -> None:
    member = lock_members(case.member_id)[case.member_id]
    member_require_active(member)
    purchase = Purchase.objects.select_for_update().get(pk=case.purchase_id)
    purchase.member = member  # the locked row, for the event
    held, now = case.points, timezone.now()
    # Refunds while the points were held took nothing (the purchase showed 0 points); settle them
    # as purchase_reverse would have, so later refunds of this purchase take back the right share.
    reversed_points = points_reversed_share(purchase, held)
    purchase.points, purchase.points_reversed = held, reversed_points
    purchase.save(update_fields=["points", "points_reversed"])
    credit = held - reversed_points
    if credit <= 0:
        return
    entry = purchase_credit(
        member=member,
        purchase=purchase,
        points=credit,
        breakdown=case.details.get("breakdown", []),
        rule_revision_id=case.details.get("revision"),
        now=now,
        created_by=decided_by,
        **ledger_reason(gettext_noop("Held for review (case %(case)s), approved"), case=case.pk),
    )
    events_record_bulk([purchase_earned_event(purchase=purchase, entry=entry, case=case.pk)])
    tier_evaluate(member=member, now=now)


def _release_referral(case: ReviewCase) -> None:
    referrer_id = Member.objects.filter(pk=case.member_id).values_list("referred_by_id", flat=True).get()
    locked = lock_members(*[i for i in (case.member_id, referrer_id) if i])
    referee = locked[case.member_id]
    member_require_active(referee)
    referee.referral_held = False
    referee.save(update_fields=["referral_held"])
    program = referee.program
    # The first purchase that qualified it: both rewards reference it, so its refund can take them
    # back where the program says so, as at an unheld purchase.
    qualifying = (
        Purchase.objects.filter(member=referee, amount__gte=program.referral_min_purchase)
        .order_by("occurred_at", "pk")
        .first()
    )
    if referee.referral_rewarded_at is None and qualifying is not None:
        referral_reward(referee, locked.get(referrer_id), timezone.now(), purchase=qualifying)
