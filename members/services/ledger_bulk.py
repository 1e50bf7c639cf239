"""The ledger's bulk forms, for the periodic jobs (members.services.expiry): many locked members'
lots, balances and entries moved by set-based statements (`UPDATE ... FROM` an aggregate of the
lots, `INSERT ... SELECT` of the entries, `RETURNING`), a constant number per chunk whatever its
size, and no model object built. They keep the invariant of members.services.ledger, whose
primitives move one member at a time: available + pending == sum(entries) == sum(lot remainders).

The caller holds the members' row locks (members.locks.lock_member_ids) in the same transaction,
so the lots these statements select cannot change under them: every writer of a member's lots
locks the member first. The lots are named by a queryset filter, compiled once per chunk and used
as `id IN (...)` by each statement.
"""

from datetime import datetime

from django.db import connection
from django.db.models import Q

from core.sql import ids_in, json_array_agg, json_param, when
from members.models import LedgerEntry, Member, PointLot

_LOT = PointLot._meta.db_table
_MEMBER = Member._meta.db_table
_ENTRY = LedgerEntry._meta.db_table


def _lots(due: Q, member_ids: list[int]) -> tuple[str, tuple]:
    """SELECT id of the members' lots matching `due`, with its parameters."""
    return PointLot.objects.filter(due, member_id__in=member_ids).order_by().values("id").query.sql_with_params()


def _members(member_ids: list[int]) -> tuple[str, list]:
    """The members' rows by primary key (without it PostgreSQL may join the aggregate to a scan of
    the whole member table)."""
    return ids_in(f"{_MEMBER}.id", member_ids)


def ledger_release_pending(*, member_ids: list[int], due: Q) -> int:
    """Make the locked members' pending lots matching `due` spendable (their return window has
    passed). Two statements for any number of members. Returns the points released."""
    lots, params = _lots(due, member_ids)
    members, members_params = _members(member_ids)
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {_MEMBER} SET points_pending = points_pending - d.points,"  # noqa: S608 - table names, ORM SQL and placeholders only
            " points_available = points_available + d.points"
            f" FROM (SELECT member_id, SUM(remaining) AS points FROM {_LOT} WHERE id IN ({lots})"
            " GROUP BY member_id) AS d"
            f" WHERE {_MEMBER}.id = d.member_id AND {members}",
            [*params, *members_params],
        )
        released = f"UPDATE {_LOT} SET pending = FALSE WHERE id IN ({lots}) RETURNING remaining"  # noqa: S608 - ORM SQL
        cursor.execute(released, params)
        return sum(remaining for (remaining,) in cursor.fetchall())


def ledger_expire(
    *, member_ids: list[int], due: Q, now: datetime, reason: str, reason_params: dict | None = None
) -> list[tuple[int, int]]:
    """Expire what remains of the locked members' lots matching `due`: one EXPIRE entry per member
    (its breakdown lists the lots, in lot order), the balances, the lots. Three statements for any
    number of members. Returns (entry id, points expired) per entry."""
    lots, params = _lots(due, member_ids)
    members, members_params = _members(member_ids)
    joined, joined_params = ids_in("m.id", member_ids)
    reason_params_sql, reason_params_value = json_param(reason_params)
    breakdown = json_array_agg({"lot": "l.id", "points": "l.remaining"}, order_by="l.id")
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {_ENTRY} (program_id, member_id, kind, points, currency, reference, reason,"  # noqa: S608 - table names, ORM SQL and placeholders only
            " reason_params, breakdown, created_at)"
            f" SELECT m.program_id, l.member_id, %s, -SUM(l.remaining), '', '', %s, {reason_params_sql},"
            f" {breakdown}, %s"
            f" FROM (SELECT id, member_id, remaining FROM {_LOT} WHERE id IN ({lots}) ORDER BY member_id, id) AS l"
            f" JOIN {_MEMBER} AS m ON m.id = l.member_id AND {joined}"
            " GROUP BY l.member_id, m.program_id"
            " RETURNING id, points",
            [LedgerEntry.Kind.EXPIRE, reason, *reason_params_value, when(now), *params, *joined_params],
        )
        entries = [(entry_id, -points) for entry_id, points in cursor.fetchall()]
        cursor.execute(
            f"UPDATE {_MEMBER} SET points_pending = points_pending - d.pending,"  # noqa: S608 - table names, ORM SQL and placeholders only
            " points_available = points_available - d.available"
            " FROM (SELECT member_id, SUM(CASE WHEN pending THEN remaining ELSE 0 END) AS pending,"
            f" SUM(CASE WHEN pending THEN 0 ELSE remaining END) AS available FROM {_LOT} WHERE id IN ({lots})"
            " GROUP BY member_id) AS d"
            f" WHERE {_MEMBER}.id = d.member_id AND {members}",
            [*params, *members_params],
        )
        emptied = f"UPDATE {_LOT} SET remaining = 0 WHERE id IN ({lots})"  # noqa: S608 - ORM SQL
        cursor.execute(emptied, params)
    return entries
