"""Tiers: upgrades as members qualify, staff assignments (with a floor), the daily review that warns
and downgrades. Every change writes a TierChange row and a `tier.changed` event."""

import sys
from datetime import date, datetime, timedelta

from django.db import connection, transaction
from django.db.models import QuerySet
from django.utils import timezone

from core.enqueue import enqueue_on_commit
from core.errors import DomainError
from core.sql import when
from members.events import TierChanged, TierExpiring
from members.households import household_tier_mode, household_tier_qualified
from members.locks import CHUNK, lock_member, lock_member_ids
from members.models import Member, Program, Tier, TierChange
from members.outbox import event_build, events_record_bulk
from members.selectors import program_rules, tier_metric_parts, tier_qualified, window_start
from members.services.audit import audit_record


def _tier_change(member: Member, tier: Tier | None, reason: str, note: str = "", created_by=None):
    """Move a locked member to `tier` in memory; returns the history row and event to write."""
    previous = member.tier
    member.tier = tier
    member.tier_downgrade_warned_at = None
    change = TierChange(
        member=member, from_tier=previous, to_tier=tier, reason=reason, note=note, created_by=created_by
    )
    event = event_build(
        TierChanged(
            member=member.number,
            from_=previous.name if previous else None,
            to=tier.name if tier else None,
            reason=reason,
        ),
        program_id=member.program_id,
        member=member,
    )
    return change, event


def _tier_set(member: Member, tier: Tier | None, reason: str, note: str = "", created_by=None) -> None:
    change, event = _tier_change(member, tier, reason, note, created_by)
    member.save(update_fields=["tier", "tier_downgrade_warned_at"])
    change.save()
    events_record_bulk([event])


def _qualified(member: Member, now: datetime, min_level: int) -> Tier | None:
    """The member's own metric qualifies them; in household mode, their household's combined one."""
    if household_tier_mode(member):
        return household_tier_qualified(member, now, min_level=min_level)
    return tier_qualified(member, now, min_level=min_level)


def _household_share_upgrade(member: Member) -> None:
    """In household mode what qualified this member qualifies the others too: they are evaluated
    after commit, each under their own lock (members.services.households.household_tiers_evaluate)."""
    if household_tier_mode(member):
        enqueue_on_commit("members.tasks.household_tiers_evaluate", member.household_id)


def tier_evaluate(*, member: Member, now: datetime | None = None) -> Tier | None:
    """Upgrade at once when the (locked) member qualifies for a higher tier; called on every
    qualifying event (purchase, points earned, referral)."""
    now = now or timezone.now()
    current_level = member.tier.level if member.tier else -1
    # Only tiers above the current one matter here (the hot path of every purchase), and the
    # current one when a downgrade warning may be lifted. At the top tier nothing is computed.
    min_level = max(current_level if member.tier_downgrade_warned_at else current_level + 1, 0)
    if not any(t.level >= min_level and not t.invitation_only for t in program_rules(member.program).tiers):
        return member.tier
    qualified = _qualified(member, now, min_level)
    if qualified is not None and qualified.level > current_level:
        _tier_set(member, qualified, TierChange.Reason.UPGRADE)
        _household_share_upgrade(member)
    elif member.tier_downgrade_warned_at and qualified and qualified.level >= current_level:
        member.tier_downgrade_warned_at = None
        member.save(update_fields=["tier_downgrade_warned_at"])
    return member.tier


@transaction.atomic
def tier_assign(*, member: Member, tier: Tier, until: date | None, created_by, note: str = "") -> Member:
    """Staff set a tier; with `until` it is also a floor: reviews never take the member below it
    before that date. Without `until` the tier is reviewed like any other."""
    if tier.program_id != member.program_id:
        raise DomainError("invalid_tier", "The tier belongs to another program.", fields={"tier": ["Wrong program."]})
    if until is not None and until < timezone.localdate():
        raise DomainError(
            "invalid_date", "The floor date is in the past.", fields={"until": ["Must be in the future."]}
        )
    member = lock_member(member)
    before = {"tier": member.tier_id, "tier_floor": member.tier_floor_id, "tier_floor_until": member.tier_floor_until}
    member.tier_floor = tier if until else None
    member.tier_floor_until = until
    member.save(update_fields=["tier_floor", "tier_floor_until"])
    if member.tier_id != tier.pk:
        _tier_set(member, tier, TierChange.Reason.MANUAL, note=note, created_by=created_by)
    after = {"tier": member.tier_id, "tier_floor": member.tier_floor_id, "tier_floor_until": member.tier_floor_until}
    audit_record(
        actor=created_by,
        action="tier.assign",
        target=member,
        changes={name: [before[name], after[name]] for name in before},
        reason=note,
    )
    return member


def _qualified_sql(program: Program, member_ids: QuerySet, now: datetime) -> tuple[str, str, list, list, list]:
    """SQL for the best tier each member qualifies for (level, tier id; -1 and NULL for none), as
    tiers_qualified(previous_year=True) decides it, with the LEFT JOINs of the grouped metric
    subqueries it reads (tier_metric_parts, one set per metric and window, compiled by the ORM)."""
    joins, join_params, values = [], [], {}

    def value(tier: Tier, until: datetime, start: datetime | None) -> str:
        key = (tier.metric, tier.window, until)
        if key not in values:
            column = "referred_by_id" if tier.metric == Tier.Metric.REFERRALS else "member_id"
            terms = []
            for part in tier_metric_parts(tier=tier, member_ids=member_ids, now=until, start=start):
                alias = f"v{len(joins)}"
                sql, params = part.query.sql_with_params()
                joins.append(f" LEFT JOIN ({sql}) AS {alias} ON {alias}.{column} = m.id")
                join_params.extend(params)
                terms.append(f"COALESCE({alias}.v, 0)")
            values[key] = " + ".join(terms)
        return values[key]

    levels, ids, params = [], [], []
    for tier in sorted(program_rules(program).tiers, key=lambda t: t.level, reverse=True):
        if tier.invitation_only:
            continue
        tests = [f"({value(tier, now, window_start(tier.window, now))}) >= CAST(%s AS NUMERIC)"]
        if tier.window == Tier.Window.CALENDAR_YEAR:
            # A tier earned during a year is kept through the next one.
            year = window_start(tier.window, now)
            last_year = value(tier, year - timedelta(microseconds=1), year.replace(year=year.year - 1))
            tests.append(f"({last_year}) >= CAST(%s AS NUMERIC)")
        levels.append(f" WHEN {' OR '.join(tests)} THEN {tier.level}")
        ids.append(f" WHEN {' OR '.join(tests)} THEN {tier.pk}")
        params.extend([str(tier.threshold)] * len(tests))
    if not levels:
        return "-1", "NULL", [], [], []
    return f"CASE{''.join(levels)} ELSE -1 END", f"CASE{''.join(ids)} END", [*params, *params], joins, join_params


def _tier_review_rows(
    program: Program, member_ids: QuerySet, span: tuple[int, int], now: datetime, today: date
) -> list[tuple]:
    """One statement: the members under review (above the entry tier, active, not on a lifetime
    tier) among `member_ids` whose review changes something, with what decides it: (id, number,
    tier id, level, qualified level, qualified tier id, floor level in force or -1, warning state:
    0 none, 1 warned, 2 warned and the notice period over). Everyone's qualification is computed in
    SQL; only the members the review changes come back. `span`: the lowest and highest id of the
    chunk, which lets PostgreSQL read the member rows by primary key rather than the whole table."""
    level, tier_id, case_params, joins, join_params = _qualified_sql(program, member_ids, now)
    members, members_params = member_ids.query.sql_with_params()
    notice_over = now - timedelta(days=program.tier_notice_days)
    sql = (
        "SELECT id, number, tier_id, level, qualified, qualified_tier, floor_level, warning FROM ("  # noqa: S608 - table names, ORM SQL and placeholders only
        f" SELECT m.id, m.number, m.tier_id, t.level, {level} AS qualified, {tier_id} AS qualified_tier,"
        " COALESCE(CASE WHEN m.tier_floor_until >= %s THEN f.level END, -1) AS floor_level,"
        " CASE WHEN m.tier_downgrade_warned_at IS NULL THEN 0 WHEN m.tier_downgrade_warned_at <= %s THEN 2"
        " ELSE 1 END AS warning"
        f" FROM {Member._meta.db_table} AS m JOIN {Tier._meta.db_table} AS t ON t.id = m.tier_id"
        f" LEFT JOIN {Tier._meta.db_table} AS f ON f.id = m.tier_floor_id"
        f"{''.join(joins)}"
        f' WHERE m.program_id = %s AND m.status = %s AND t.level > 0 AND t."window" <> %s AND m.id BETWEEN %s AND %s AND m.id IN ({members})'
        ") AS d"
        " WHERE qualified > level OR (warning = 0 AND qualified < level AND floor_level < level)"
        " OR (warning > 0 AND (qualified >= level OR floor_level >= level OR warning = 2))"
        " ORDER BY id"
    )
    params = [
        *case_params,
        connection.ops.adapt_datefield_value(today),
        when(notice_over),
        *join_params,
        program.pk,
        Member.Status.ACTIVE,
        Tier.Window.LIFETIME,
        *span,
        *members_params,
    ]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def _tier_review_action(level: int, qualified: int, floor_level: int, warning: int) -> str | None:
    if qualified > level:
        return "upgraded"
    if qualified >= level or floor_level >= level:
        return "cleared" if warning else None
    if warning == 0:
        return "warned"
    return "downgraded" if warning == 2 else None


def _tier_review_apply(program: Program, rows: list[tuple], now: datetime, today: date) -> dict[str, int]:
    """Write what the review decided for the locked members `rows` (from _tier_review_rows): their
    tier and warning (two statements), the TierChange rows and the events (one bulk INSERT each)."""
    tiers = {t.pk: t for t in program_rules(program).tiers}
    by_level = sorted(tiers.values(), key=lambda t: t.level)
    counts = {"warned": 0, "downgraded": 0, "upgraded": 0}
    moved, warned, changes, events = [], [], [], []
    for member_id, number, tier_id, level, qualified, qualified_tier, floor_level, warning in rows:
        action = _tier_review_action(level, qualified, floor_level, warning)
        if action is None:
            continue
        if action in counts:
            counts[action] += 1
        current = tiers[tier_id]
        if action == "warned":
            warned.append(member_id)
            downgrade_after = str(today + timedelta(days=program.tier_notice_days))
            events.append(
                event_build(
                    TierExpiring(member=number, tier=current.name, downgrade_after=downgrade_after),
                    program_id=program.pk,
                    member_id=member_id,
                )
            )
            continue
        if action == "cleared":  # qualifies again, or is held by a floor
            moved.append((member_id, tier_id))
            continue
        if action == "upgraded":
            new, reason = tiers[qualified_tier], TierChange.Reason.UPGRADE
        else:
            lower = [t for t in by_level if t.level < level]
            new, reason = (lower[-1] if lower else None), TierChange.Reason.DOWNGRADE
        moved.append((member_id, new.pk if new else None))
        changes.append(TierChange(member_id=member_id, from_tier=current, to_tier=new, reason=reason))
        event = TierChanged(member=number, from_=current.name, to=new.name if new else None, reason=reason)
        events.append(event_build(event, program_id=program.pk, member_id=member_id))
    with connection.cursor() as cursor:
        if moved:
            rows_sql = ", ".join(["(%s, %s)"] * len(moved))
            cursor.execute(
                f"UPDATE {Member._meta.db_table} SET tier_id = CAST(v.column2 AS INTEGER),"  # noqa: S608 - table names and placeholders only
                f" tier_downgrade_warned_at = NULL FROM (VALUES {rows_sql}) AS v"
                f" WHERE {Member._meta.db_table}.id = v.column1",
                [value for pair in moved for value in pair],
            )
    Member.objects.filter(pk__in=warned).update(tier_downgrade_warned_at=now)
    TierChange.objects.bulk_create(changes)
    events_record_bulk(events)
    return counts


def tiers_review(*, now: datetime | None = None) -> dict[str, int]:
    """Daily, by id-range chunks of members above the entry tier: upgrade who qualifies for more;
    warn who no longer qualifies (`tier.expiring`); once the program's notice period has passed
    since the warning, downgrade by one level. Never below a floor still in force; a member who
    qualifies again before the downgrade keeps the tier.

    Who qualifies is computed in SQL for the whole chunk (one statement that returns only the
    members whose review changes something); those alone are locked, decided again under the lock
    (a purchase may have landed in between), and written: a constant number of statements per
    chunk, and Python work only for the members that change."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    counts = {"warned": 0, "downgraded": 0, "upgraded": 0}
    for program in Program.objects.filter(pk__in=Tier.objects.filter(level__gt=0).values("program_id")):
        candidates = Member.objects.filter(program=program, tier__level__gt=0, status=Member.Status.ACTIVE).exclude(
            tier__window=Tier.Window.LIFETIME
        )
        if program.household_tier_mode == Program.HouseholdTierMode.HOUSEHOLD:
            # Their household's combined metric qualifies them (members.households): the SQL below
            # measures one member, so it would warn them wrongly. Not reviewed here (README "Households").
            candidates = candidates.filter(household__isnull=True)
        last = 0
        while True:
            edge = candidates.filter(pk__gt=last).order_by("pk").values_list("pk", flat=True)[CHUNK - 1 : CHUNK]
            edge = edge[0] if edge else None
            chunk = candidates.filter(pk__gt=last, **({"pk__lte": edge} if edge else {})).values("pk")
            changing = _tier_review_rows(program, chunk, (last + 1, edge or sys.maxsize), now, today)
            if changing:
                with transaction.atomic():
                    locked = lock_member_ids([row[0] for row in changing])
                    again = Member.objects.filter(pk__in=locked).values("pk")
                    rows = _tier_review_rows(program, again, (locked[0], locked[-1]), now, today) if locked else []
                    for action, n in _tier_review_apply(program, rows, now, today).items():
                        counts[action] += n
            if edge is None:
                break
            last = edge
    return counts
