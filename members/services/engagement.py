"""Engagement: points for actions other than purchases (reviews, shares, surveys, a completed
profile, birthdays), by the program's engagement rules and within their caps."""

import calendar
from datetime import date, datetime

from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from core.errors import DomainError
from members.checks import member_require_active
from members.events import EngagementRecorded, PointsEarned
from members.locks import CHUNK, lock_member
from members.models import EarningRule, EngagementAction, LedgerEntry, Member
from members.outbox import event_record
from members.selectors import program_rules
from members.services.ledger import ledger_credit
from members.services.tiers import tier_evaluate
from members.texts import stored_reason
from members.zones import member_zone_in, program_day_start, zones_by_local_date


@transaction.atomic
def points_engage(*, member: Member, action: str, reference: str) -> LedgerEntry | None:
    """Award an engagement action within its caps. The same (action, reference) earns once;
    past a cap the action is recorded without points (returns None)."""
    if action not in EarningRule.Action.values:
        raise DomainError(
            "invalid_action",
            f"Unknown action '{action}'.",
            fields={"type": [f"One of {', '.join(EarningRule.Action.values)}."]},
        )
    member = lock_member(member)
    member_require_active(member)
    now = timezone.now()
    existing = EngagementAction.objects.filter(member=member, action=action, reference=reference).first()
    if existing is not None:
        return existing.entry
    rule = (
        EarningRule.objects.filter(
            Q(starts_at__isnull=True) | Q(starts_at__lte=now),
            Q(ends_at__isnull=True) | Q(ends_at__gte=now),
            program_id=member.program_id,
            kind=EarningRule.Kind.ENGAGEMENT,
            action=action,
            is_active=True,
        )
        .order_by("-priority", "id")
        .first()
    )
    done = EngagementAction.objects.filter(member=member, action=action, entry__isnull=False)
    start_of_day = program_day_start(member.program, now)
    capped = (
        rule is None
        or not rule.points
        or (
            (rule.lifetime_cap is not None and done.count() >= rule.lifetime_cap)
            or (rule.daily_cap is not None and done.filter(created_at__gte=start_of_day).count() >= rule.daily_cap)
        )
    )
    entry = None
    if not capped:
        entry = ledger_credit(
            member,
            kind=LedgerEntry.Kind.ENGAGEMENT,
            points=rule.points,
            now=now,
            **stored_reason(rule, "name"),
            reference=reference,
            breakdown=[{"kind": "engagement", "label": rule.name, "points": rule.points, "rule": rule.pk}],
            rule_revision_id=program_rules(member.program).revision_id,
        )
        event_record(
            PointsEarned(member=member.number, points=rule.points, kind="engagement", action=action),
            program=member.program,
            member=member,
        )
        tier_evaluate(member=member, now=now)
    EngagementAction.objects.create(member=member, action=action, reference=reference, entry=entry)
    event_record(
        EngagementRecorded(
            member=member.number, action=action, reference=reference, points=entry.points if entry else 0
        ),
        program=member.program,
        member=member,
    )
    return entry


def born_on(day: date) -> Q:
    """Members whose birthday is `day` (29 February birthdays are celebrated on the 28th in other years)."""
    days = [(day.month, day.day)]
    if (day.month, day.day) == (2, 28) and calendar.monthrange(day.year, 2)[1] == 28:
        days.append((2, 29))
    q = Q(pk__in=[])
    for month, day_of_month in days:
        q |= Q(birth_date__month=month, birth_date__day=day_of_month)
    return q


def birthdays_award(*, now: datetime | None = None) -> int:
    """Hourly: the birthday engagement award for members whose birthday it is where they live (their
    time zone, else their program's), so an hourly run reaches each one soon after their local
    midnight. Once per member and year, within the rule's caps; programs without an active birthday
    rule are skipped. Returns the awards made."""
    now = now or timezone.now()
    programs = EarningRule.objects.filter(
        kind=EarningRule.Kind.ENGAGEMENT, action=EarningRule.Action.BIRTHDAY, is_active=True, points__gt=0
    ).values("program_id")
    awarded = 0
    for day, zones in zones_by_local_date(now).items():
        reference = f"birthday:{day.year}"
        celebrated = EngagementAction.objects.filter(
            member=OuterRef("pk"), action=EarningRule.Action.BIRTHDAY, reference=reference
        )
        members = Member.objects.filter(
            born_on(day), member_zone_in(zones), ~Exists(celebrated), program__in=programs, status=Member.Status.ACTIVE
        )
        awarded += _birthdays_award_chunked(members, reference)
    return awarded


def _birthdays_award_chunked(members, reference: str) -> int:
    awarded, last = 0, 0
    while True:
        chunk = list(members.filter(pk__gt=last).order_by("pk")[:CHUNK])
        if not chunk:
            return awarded
        last = chunk[-1].pk
        # One ledger write per member, each under that member's lock, like every other award.
        for member in chunk:
            if points_engage(member=member, action=EarningRule.Action.BIRTHDAY, reference=reference):
                awarded += 1
