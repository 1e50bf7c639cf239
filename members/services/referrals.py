"""Referrals: the reward when a referred member's first qualifying purchase qualifies the referral.

What a referral pays is members.earning.referral_points_for; a suspected self-referral is held at
enrolment (members.checks.referral_check) and paid only once staff approve it (members.review).
"""

from datetime import datetime

from django.utils.translation import gettext_noop

from members.earning import referral_points_for
from members.events import PointsEarned
from members.models import LedgerEntry, Member, Program, Purchase
from members.outbox import event_record
from members.services.ledger import ledger_credit
from members.services.tiers import tier_evaluate
from members.texts import ledger_reason


def referral_reward(referee: Member, referrer: Member | None, now: datetime, purchase: Purchase | None = None) -> None:
    """The referral qualifies now: the new member gets the program's referee points and the referrer,
    if still active, the points of their nth successful referral. Both rows are locked by the caller
    (members.locks: lock_buyer at a purchase, lock_members when staff release a held referral).
    `purchase`: the purchase that qualified it; both entries reference it, so its refund can take
    them back where the program says so (Program.refund_takes_referral)."""
    program = referee.program
    referee.referral_rewarded_at = now
    referee.save(update_fields=["referral_rewarded_at"])
    if program.referral_mode == Program.Referral.OFF:
        return
    if program.referral_referee_points:
        ledger_credit(
            referee,
            kind=LedgerEntry.Kind.REFERRAL,
            points=program.referral_referee_points,
            now=now,
            reason=gettext_noop("Joined through a referral"),
            reason_params={},
            reference=f"members.member:{referrer.pk if referrer else ''}",
            purchase=purchase,
        )
    if referrer is None or referrer.status != Member.Status.ACTIVE:
        return
    nth = Member.objects.filter(referred_by=referrer, referral_rewarded_at__isnull=False).count()
    points = referral_points_for(program, nth)
    if points:
        ledger_credit(
            referrer,
            kind=LedgerEntry.Kind.REFERRAL,
            points=points,
            now=now,
            **ledger_reason(gettext_noop("Referral #%(nth)s"), nth=nth),
            reference=f"members.member:{referee.pk}",
            purchase=purchase,
        )
        event_record(
            PointsEarned(member=referrer.number, points=points, kind="referral"), program=program, member=referrer
        )
    tier_evaluate(member=referrer, now=now)
