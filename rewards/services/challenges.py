"""Challenges and badges: progress from purchases, engagement and referrals; the prize on completion."""

from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext_noop

from members import services as members_services
from members.models import Event, Member, Purchase
from members.outbox import event_record
from members.texts import ledger_reason, stored_all
from rewards.events import ChallengeCompleted
from rewards.models import Challenge, ChallengeProgress, MemberBadge


def _open_challenges(member: Member, metrics: Iterable[str], at: datetime) -> QuerySet[Challenge]:
    return Challenge.objects.filter(
        program_id=member.program_id, metric__in=list(metrics), is_active=True, starts_at__lte=at, ends_at__gt=at
    ).select_related("badge")


@transaction.atomic
def challenge_progress_add(
    *,
    member: Member,
    metric: str,
    at: datetime,
    amount: Decimal = Decimal(1),
    categories: Iterable[str] = (),
    purchase: Purchase | None = None,
) -> list[ChallengeProgress]:
    """Move the member's open challenges on `metric` forward; completes (once) those that reach their
    target, giving the points and the badge. `purchase`: the purchase that moved them, which the prize
    references (a refund of it takes the prize back, members.services.purchases)."""
    updated = []
    for challenge in _open_challenges(member, [metric], at):
        progress, _created = ChallengeProgress.objects.get_or_create(challenge=challenge, member=member)
        progress = ChallengeProgress.objects.select_for_update().get(pk=progress.pk)
        if progress.completed_at is not None:
            continue
        if metric == Challenge.Metric.CATEGORIES:
            progress.seen = sorted(set(progress.seen) | {c for c in categories if c})
            progress.value = Decimal(len(progress.seen))
        else:
            progress.value += amount
        fields = ["value", "seen", "updated_at"]
        if progress.value >= challenge.target:
            progress.completed_at = timezone.now()
            fields.append("completed_at")
            _challenge_prize(challenge, member, progress.completed_at, purchase)
        progress.save(update_fields=fields)
        updated.append(progress)
    return updated


def _challenge_prize(challenge: Challenge, member: Member, now: datetime, purchase: Purchase | None) -> None:
    if challenge.points and member.status == Member.Status.ACTIVE:
        members_services.points_grant(
            member=member,
            points=challenge.points,
            **ledger_reason(gettext_noop("Challenge completed: %(title)s"), title=stored_all(challenge, "title")),
            reference=f"rewards.challenge:{challenge.pk}",
            purchase=purchase,
        )
    if challenge.badge_id:
        MemberBadge.objects.get_or_create(
            member=member, badge=challenge.badge, defaults={"challenge": challenge, "awarded_at": now}
        )
    event_record(
        ChallengeCompleted(
            member=member.number,
            challenge=challenge.pk,
            points=challenge.points,
            purchase=purchase.pk if purchase else None,
        ),
        program=member.program,
        member=member,
    )


def challenge_progress_on_purchase(*, purchase: Purchase) -> None:
    member = purchase.member
    at = purchase.occurred_at
    challenge_progress_add(member=member, metric=Challenge.Metric.PURCHASES, at=at, purchase=purchase)
    challenge_progress_add(
        member=member, metric=Challenge.Metric.SPEND, at=at, amount=purchase.amount, purchase=purchase
    )
    categories = [item.get("category", "") for item in purchase.items or [] if isinstance(item, dict)]
    if categories:
        challenge_progress_add(
            member=member, metric=Challenge.Metric.CATEGORIES, at=at, categories=categories, purchase=purchase
        )


@transaction.atomic
def challenge_progress_on_refund(*, purchase: Purchase, amount: Decimal, full: bool) -> list[ChallengeProgress]:
    """A purchase was refunded (`amount` now; `full` once all of it): the spend it counted goes back
    down, and a full refund takes its purchase back out of the count. A challenge the purchase
    completed is reopened on a full refund (the ledger already took its prize points back, since
    they reference the purchase) and its badge withdrawn; one completed by another purchase stays
    as it is. Categories stay counted: another purchase may have brought the same ones."""
    member = purchase.member
    back = {Challenge.Metric.SPEND: amount}
    if full:
        back[Challenge.Metric.PURCHASES] = Decimal(1)
    changed = []
    for challenge in _open_challenges(member, back, purchase.occurred_at):
        progress = ChallengeProgress.objects.select_for_update().filter(challenge=challenge, member=member).first()
        if progress is None:
            continue
        fields = ["value", "updated_at"]
        if progress.completed_at is not None:
            if not full or not _completed_by(challenge, member, purchase):
                continue
            progress.completed_at = None
            fields.append("completed_at")
            if challenge.badge_id:
                MemberBadge.objects.filter(member=member, badge_id=challenge.badge_id, challenge=challenge).delete()
        progress.value = max(progress.value - back[challenge.metric], Decimal(0))
        progress.save(update_fields=fields)
        changed.append(progress)
    return changed


def _completed_by(challenge: Challenge, member: Member, purchase: Purchase) -> bool:
    return Event.objects.filter(
        type=ChallengeCompleted.type,
        member=member,
        payload__challenge=challenge.pk,
        payload__purchase=purchase.pk,
    ).exists()


ENGAGEMENT_METRICS = {
    "review": Challenge.Metric.REVIEWS,
    "social_share": Challenge.Metric.SHARES,
    "survey_completed": Challenge.Metric.SURVEYS,
}


def challenge_progress_on_engagement(*, member: Member, action: str, at: datetime) -> None:
    metric = ENGAGEMENT_METRICS.get(action)
    if metric is not None:
        challenge_progress_add(member=member, metric=metric, at=at)


def challenge_progress_on_referral(*, member: Member, at: datetime) -> None:
    challenge_progress_add(member=member, metric=Challenge.Metric.REFERRALS, at=at)
