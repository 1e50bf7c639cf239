"""Points over time, by periodic jobs: pending points released after the return window, expiry
(fixed dates or inactivity) and the notice before it. Chunked by member id range, each chunk in
its own transaction, with a constant number of queries per chunk."""

from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import F, Min, Q, Sum
from django.utils import timezone
from django.utils.translation import gettext_noop

from members.events import PointsExpired, PointsExpiring
from members.locks import CHUNK, lock_members
from members.models import Event, Member, PointLot, Program
from members.outbox import event_build, events_record_bulk
from members.selectors import add_months
from members.services.ledger import ledger_expire, ledger_release_pending
from members.texts import ledger_reason


def _member_chunks(lot_filter: Q):
    """Yield sorted lists of member ids that have lots matching the filter, CHUNK at a time."""
    last = 0
    while True:
        ids = list(
            PointLot.objects.filter(lot_filter, member_id__gt=last)
            .order_by("member_id")
            .values_list("member_id", flat=True)
            .distinct()[:CHUNK]
        )
        if not ids:
            return
        yield ids
        last = ids[-1]


def points_release_pending(*, now: datetime | None = None) -> int:
    """Make pending points spendable once their return window has passed. Returns points released."""
    now = now or timezone.now()
    due = Q(pending=True, available_at__lte=now)
    released = 0
    for ids in _member_chunks(due):
        with transaction.atomic():
            released += ledger_release_pending(members=lock_members(*ids), due=due)
    return released


def _expire(lot_filter: Q, now: datetime, why: dict) -> int:
    """`why`: the entries' reason fields (members.texts.ledger_reason)."""
    expired = 0
    for ids in _member_chunks(lot_filter):
        with transaction.atomic():
            members = lock_members(*ids)
            entries = ledger_expire(members=members, lots=lot_filter, now=now, **why)
            expired += sum(-entry.points for entry in entries)
            events_record_bulk(
                [
                    event_build(
                        PointsExpired(member=members[entry.member_id].number, points=-entry.points),
                        program_id=entry.program_id,
                        member_id=entry.member_id,
                    )
                    for entry in entries
                ]
            )
    return expired


def points_expire_due(*, now: datetime | None = None) -> int:
    """Expire lots past their date (fixed policy) and balances of inactive members (inactivity policy)."""
    now = now or timezone.now()
    total = _expire(
        Q(remaining__gt=0, expires_at__lte=now), now, ledger_reason(gettext_noop("Points reached their expiry date"))
    )
    for program in Program.objects.filter(expiry_policy=Program.Expiry.INACTIVITY):
        cutoff = add_months(now, -program.expiry_months)
        inactive = Q(remaining__gt=0, member__program=program, member__last_activity_at__lt=cutoff)
        why = ledger_reason(gettext_noop("No activity for %(months)s months"), months=program.expiry_months)
        total += _expire(inactive, now, why)
    return total


def _expiring_event(program: Program, member_id: int, number: str, points: int, expires_at: datetime) -> Event:
    return event_build(
        PointsExpiring(member=number, points=points, expires_at=expires_at.isoformat()),
        program=program,
        member_id=member_id,
    )


def points_expiry_notify(*, now: datetime | None = None) -> int:
    """Daily: a `points.expiring` event for each member with points that expire within the
    program's notice period. Fixed expiry: once per lot (lots expiring together share one event).
    Inactivity expiry: once per period of inactivity (any activity re-arms it). Returns events."""
    now = now or timezone.now()
    sent = 0
    for program in Program.objects.filter(expiry_policy=Program.Expiry.FIXED):
        horizon = now + timedelta(days=program.expiry_notice_days)
        due = Q(
            member__program=program,
            member__status=Member.Status.ACTIVE,
            remaining__gt=0,
            expires_at__gt=now,
            expires_at__lte=horizon,
            expiry_notified_at__isnull=True,
        )
        for ids in _member_chunks(due):
            with transaction.atomic():
                rows = list(
                    PointLot.objects.filter(due, member_id__in=ids)
                    .values("member_id", "member__number")
                    .annotate(points=Sum("remaining"), first=Min("expires_at"))
                )
                events_record_bulk(
                    [
                        _expiring_event(program, row["member_id"], row["member__number"], row["points"], row["first"])
                        for row in rows
                    ]
                )
                PointLot.objects.filter(due, member_id__in=ids).update(expiry_notified_at=now)
                sent += len(rows)
    for program in Program.objects.filter(expiry_policy=Program.Expiry.INACTIVITY):
        cutoff = add_months(now, -program.expiry_months)
        due = Q(
            program=program,
            status=Member.Status.ACTIVE,
            last_activity_at__gte=cutoff,
            last_activity_at__lte=add_months(now + timedelta(days=program.expiry_notice_days), -program.expiry_months),
        ) & (Q(points_available__gt=0) | Q(points_pending__gt=0))
        not_warned = Q(points_expiry_warned_at__isnull=True) | Q(points_expiry_warned_at__lte=F("last_activity_at"))
        last = 0
        while True:
            with transaction.atomic():
                rows = list(
                    Member.objects.filter(due, not_warned, pk__gt=last)
                    .order_by("pk")
                    .values("pk", "number", "points_available", "points_pending", "last_activity_at")[:CHUNK]
                )
                if not rows:
                    break
                last = rows[-1]["pk"]
                events_record_bulk(
                    [
                        _expiring_event(
                            program,
                            row["pk"],
                            row["number"],
                            row["points_available"] + row["points_pending"],
                            add_months(row["last_activity_at"], program.expiry_months),
                        )
                        for row in rows
                    ]
                )
                Member.objects.filter(pk__in=[row["pk"] for row in rows]).update(points_expiry_warned_at=now)
                sent += len(rows)
    return sent
