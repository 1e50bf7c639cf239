"""Points over time, by periodic jobs: pending points released after the return window, expiry
(fixed dates or inactivity) and the notice before it. Chunked by member id, each chunk in its own
transaction holding its members' row locks, with a constant number of statements per chunk: the
release and the expiry are set-based (members.services.ledger_bulk), so their cost follows the
rows that change, not the number of members."""

from collections.abc import Iterator
from datetime import datetime, timedelta

from django.db import connection, transaction
from django.db.models import F, Min, Q, Sum
from django.utils import timezone
from django.utils.translation import gettext_noop

from core.sql import ids_in, json_object, when
from members.events import PointsExpired, PointsExpiring
from members.locks import CHUNK, lock_member_ids
from members.models import Event, LedgerEntry, Member, PointLot, Program
from members.outbox import event_build, events_dispatch_on_commit, events_record_bulk
from members.selectors import add_months
from members.services.ledger_bulk import ledger_expire, ledger_release_pending
from members.texts import ledger_reason


def _member_chunks(lot_filter: Q) -> Iterator[list[int]]:
    """Sorted lists of the ids of members with lots matching the filter, CHUNK at a time: one read
    of the matching lots (from their partial indexes), however many chunks follow."""
    ids = list(PointLot.objects.filter(lot_filter).order_by("member_id").values_list("member_id", flat=True).distinct())
    for i in range(0, len(ids), CHUNK):
        yield ids[i : i + CHUNK]


def points_release_pending(*, now: datetime | None = None) -> int:
    """Make pending points spendable once their return window has passed. Returns points released."""
    now = now or timezone.now()
    due = Q(pending=True, available_at__lte=now)
    released = 0
    for ids in _member_chunks(due):
        with transaction.atomic():
            locked = lock_member_ids(ids)
            if locked:
                released += ledger_release_pending(member_ids=locked, due=due)
    return released


def _expired_events_record(entry_ids: list[int], member_ids: list[int], created_at: datetime) -> None:
    """One `points.expired` event per EXPIRE entry just written, by one `INSERT ... SELECT`: the
    payload PointsExpired(member=<number>, points=<points expired>) would give, dispatched on commit."""
    entries, params = ids_in("e.id", entry_ids)
    members, members_params = ids_in("m.id", member_ids)
    payload = json_object({"member": "m.number", "points": "-e.points"})
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {Event._meta.db_table} (program_id, member_id, type, payload, occurred_at)"  # noqa: S608 - table names, ORM SQL and placeholders only
            f" SELECT e.program_id, e.member_id, %s, {payload}, %s"
            f" FROM {LedgerEntry._meta.db_table} AS e JOIN {Member._meta.db_table} AS m ON m.id = e.member_id"
            f" WHERE {entries} AND e.created_at = %s AND {members} ORDER BY e.id"
            " RETURNING id",
            [PointsExpired.type, when(timezone.now()), *params, when(created_at), *members_params],
        )
        events_dispatch_on_commit(sorted(event_id for (event_id,) in cursor.fetchall()))


def _expire(due: Q, now: datetime, why: dict) -> int:
    """`why`: the entries' reason fields (members.texts.ledger_reason). A lot filter that names its
    member's fields (inactivity) is checked after the lock, so a member active meanwhile keeps them."""
    expired = 0
    for ids in _member_chunks(due):
        with transaction.atomic():
            locked = lock_member_ids(ids)
            if not locked:
                continue
            entries = ledger_expire(member_ids=locked, due=due, now=now, **why)
            if entries:
                _expired_events_record([entry_id for entry_id, _ in entries], locked, now)
            expired += sum(points for _, points in entries)
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
