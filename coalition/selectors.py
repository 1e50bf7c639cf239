"""Reads of partner settlement: a month's figures computed from the ledger, rates, statements, CSV.

`settlement_figures` is the one definition of what a statement says; closing a month
(coalition.services) freezes it, and the nightly reconciliation (coalition.checks) recomputes it to
compare. Entries are always read by program and created_at range (the ledger is partitioned by
month) and grouped in SQL by partner, kind and day; only spends and expiries are walked in Python, by
chunks, to follow the lots they took points from back to the partner that issued them.
"""

import bisect
import csv
import io
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Prefetch, Q, QuerySet, Sum
from django.db.models.functions import Coalesce, TruncDate
from django.utils import timezone

from coalition.models import PartnerRate, SettlementLine, SettlementStatement
from core.csvfiles import formula_safe
from members.models import LedgerEntry, Partner, PointLot, Program
from rewards.selectors import vouchers_consumed_at_partners

Kind = SettlementLine.Kind
CENT = Decimal("0.01")
LOT_CHUNK = 2000

# Ledger kinds counted at the partner an entry names: the line each goes to, and the sign that makes
# a line's points read naturally (redeemed points count up, returned ones down).
_AT_PARTNER = {
    **{kind: (Kind.ISSUED, 1) for kind in LedgerEntry.ISSUED_KINDS},
    LedgerEntry.Kind.REVERSE: (Kind.REVERSED, 1),
    LedgerEntry.Kind.REDEEM: (Kind.REDEEMED, -1),
    LedgerEntry.Kind.REFUND: (Kind.RETURNED, -1),
}

# The partner an entry was caused at: the one it names, or the partner of the purchase it belongs
# to (a campaign bonus or challenge prize a purchase there set off), as the partner API counts it
# (members.api.selectors.partner_member_entries).
_CAUSED_AT = Coalesce("partner_id", "purchase__partner_id")


@dataclass
class Figure:
    points: int = 0
    amount: Decimal = Decimal("0.00")


# partner id -> line kind -> figure
Figures = dict[int, dict[str, Figure]]


# --- months ---------------------------------------------------------------------------------


def month_start(moment: datetime) -> date:
    """The month a moment falls in (the installation's time zone), as its first day."""
    return timezone.localtime(moment, timezone.get_default_timezone()).date().replace(day=1)


def month_next(month: date) -> date:
    return (month.replace(day=28) + timedelta(days=4)).replace(day=1)


def month_previous(month: date) -> date:
    return (month.replace(day=1) - timedelta(days=1)).replace(day=1)


def month_bounds(month: date) -> tuple[datetime, datetime]:
    """[start, end) of a month, in the installation's time zone."""
    tz = timezone.get_default_timezone()
    return datetime.combine(month, time.min, tzinfo=tz), datetime.combine(month_next(month), time.min, tzinfo=tz)


# --- rates ----------------------------------------------------------------------------------


class Rates:
    """Each partner's rates by date: the one in force on a day is the latest that started by then
    (none yet: the point is worth nothing)."""

    def __init__(self, rows):
        self._by_partner: dict[int, list[tuple[date, Decimal, Decimal]]] = defaultdict(list)
        for partner_id, valid_from, cost, value in rows:
            self._by_partner[partner_id].append((valid_from, cost, value))
        for rates in self._by_partner.values():
            rates.sort()

    def on(self, partner_id: int, day: date) -> tuple[Decimal, Decimal]:
        """(cost per point issued, value per point redeemed) on `day`."""
        rates = self._by_partner.get(partner_id, [])
        i = bisect.bisect_right([r[0] for r in rates], day)
        return (rates[i - 1][1], rates[i - 1][2]) if i else (Decimal(0), Decimal(0))

    def partners(self) -> set[int]:
        return set(self._by_partner)


def program_rates(*, program: Program, until: date) -> Rates:
    """The rates of the program's partners that started before `until`."""
    return Rates(
        PartnerRate.objects.filter(partner__program=program, valid_from__lt=until).values_list(
            "partner_id", "valid_from", "cost_per_point", "value_per_point"
        )
    )


# --- a month's figures ----------------------------------------------------------------------


def settlement_figures(*, program: Program, month: date, rates: Rates | None = None) -> Figures:
    """What each partner's statement for `month` says, computed from the ledger and the vouchers
    used at partners: points per line kind, and the money they are worth at the rate of their day."""
    start, end = month_bounds(month)
    rates = rates or program_rates(program=program, until=end.date())
    tz = timezone.get_default_timezone()
    by_day: dict[tuple[int, str], dict[date, int]] = defaultdict(lambda: defaultdict(int))
    entries = LedgerEntry.objects.filter(program=program, created_at__gte=start, created_at__lt=end)
    at_partners = (
        entries.filter(kind__in=list(_AT_PARTNER))
        .annotate(at=_CAUSED_AT, day=TruncDate("created_at", tzinfo=tz))
        .filter(at__isnull=False)
        .values_list("at", "kind", "day")
        .annotate(points=Sum("points"))
        .order_by()
    )
    for partner_id, kind, day, points in at_partners:
        line, sign = _AT_PARTNER[kind]
        by_day[partner_id, line][day] += sign * points
    vouchers = (
        vouchers_consumed_at_partners(program=program, since=start, until=end)
        .annotate(day=TruncDate("consumed_at", tzinfo=tz))
        .values_list("consumed_by_id", "day")
        .annotate(points=Sum("redemption__points"))
        .order_by()
    )
    for partner_id, day, points in vouchers:
        by_day[partner_id, Kind.VOUCHERS][day] += points
    figures: Figures = defaultdict(dict)
    for (partner_id, line), days in by_day.items():
        rate_index = 0 if line in SettlementLine.PARTNER_PAYS else 1
        amount = sum((points * rates.on(partner_id, day)[rate_index] for day, points in days.items()), Decimal(0))
        figures[partner_id][line] = Figure(sum(days.values()), amount.quantize(CENT, ROUND_HALF_UP))
    spends = entries.filter(kind=LedgerEntry.Kind.REDEEM).values_list("partner_id", "breakdown")
    for partner_id, points in _issued_elsewhere(spends).items():
        figures[partner_id][Kind.ELSEWHERE] = Figure(points)
    expiries = entries.filter(kind=LedgerEntry.Kind.EXPIRE).values_list("partner_id", "breakdown")
    for partner_id, points in _issued_elsewhere(expiries).items():
        figures[partner_id][Kind.BREAKAGE] = Figure(points)
    return {p: {k: f for k, f in lines.items() if f.points or f.amount} for p, lines in figures.items()}


def _issued_elsewhere(rows) -> dict[int, int]:
    """Points that debits (rows of (partner where taken, breakdown)) took from lots a partner issued,
    other than the one where they were taken, per issuing partner. A lot's issuer is the partner of
    the entry that created it (as _CAUSED_AT), if that entry issued points (an earn, a bonus...):
    returned or transferred points lost their issuer and count for nobody."""
    totals: dict[int, int] = defaultdict(int)
    chunk: list[tuple[int | None, int, int]] = []

    def settle_chunk():
        issuers = dict(
            PointLot.objects.filter(id__in={lot for _, lot, _ in chunk}, entry__kind__in=LedgerEntry.ISSUED_KINDS)
            .annotate(issuer=Coalesce("entry__partner_id", "entry__purchase__partner_id"))
            .filter(issuer__isnull=False)
            .values_list("id", "issuer")
        )
        for taken_at, lot, points in chunk:
            issuer = issuers.get(lot)
            if issuer is not None and issuer != taken_at:
                totals[issuer] += points
        chunk.clear()

    for taken_at, breakdown in rows.iterator(chunk_size=LOT_CHUNK):
        chunk += [(taken_at, part["lot"], part["points"]) for part in breakdown or () if "lot" in part]
        if len(chunk) >= LOT_CHUNK:
            settle_chunk()
    if chunk:
        settle_chunk()
    return dict(totals)


def settlement_recorded(*, program: Program, month: date) -> Figures:
    """What closed statements say about `month`: its statements' own lines, plus the adjustments
    later statements carried for it."""
    lines = (
        SettlementLine.objects.filter(statement__program=program)
        .filter(Q(statement__month=month, adjusts="") | Q(kind=Kind.ADJUSTMENT, period=month))
        .values_list("statement__partner_id", "kind", "adjusts")
        .annotate(points=Sum("points"), amount=Sum("amount"))
        .order_by()
    )
    recorded: Figures = defaultdict(dict)
    for partner_id, kind, adjusts, points, amount in lines:
        figure = recorded[partner_id].setdefault(adjusts or kind, Figure())
        figure.points += points
        figure.amount += amount
    return dict(recorded)


def figures_difference(expected: Figures, recorded: Figures) -> Figures:
    """expected - recorded, only where they differ."""
    found: Figures = {}
    for partner_id in expected.keys() | recorded.keys():
        mine, theirs = expected.get(partner_id, {}), recorded.get(partner_id, {})
        for kind in mine.keys() | theirs.keys():
            a, b = mine.get(kind, Figure()), theirs.get(kind, Figure())
            if a.points != b.points or a.amount != b.amount:
                found.setdefault(partner_id, {})[kind] = Figure(a.points - b.points, a.amount - b.amount)
    return found


def closed_months(*, program: Program, since: date, before: date) -> list[date]:
    """Months of the program with closed statements in [since, before), oldest first."""
    return list(
        SettlementStatement.objects.filter(program=program, month__gte=since, month__lt=before)
        .values_list("month", flat=True)
        .distinct()
        .order_by("month")
    )


# --- statements -----------------------------------------------------------------------------


# The statement's total each line kind counts in (an adjustment: in the kind it corrects).
_TOTAL_OF = {
    Kind.ISSUED: "points_issued",
    Kind.REVERSED: "points_issued",
    Kind.REDEEMED: "points_redeemed",
    Kind.RETURNED: "points_redeemed",
    Kind.VOUCHERS: "points_redeemed",
    Kind.ELSEWHERE: "points_redeemed_elsewhere",
    Kind.BREAKAGE: "points_expired",
}


def statement_totals(lines: list[SettlementLine]) -> dict:
    """A statement's totals from its lines: points per total, and the money each side owes."""
    totals = dict.fromkeys(set(_TOTAL_OF.values()), 0) | {
        "partner_owes": Decimal("0.00"),
        "program_owes": Decimal("0.00"),
    }
    for line in lines:
        totals[_TOTAL_OF[line.effective_kind]] += line.points
        if line.paid_by:
            totals[f"{line.paid_by}_owes"] += line.amount
    return totals


def statements(queryset: QuerySet[SettlementStatement] | None = None) -> QuerySet[SettlementStatement]:
    queryset = SettlementStatement.objects.all() if queryset is None else queryset
    return queryset.select_related("partner", "program")


def partner_statements(*, partner: Partner) -> QuerySet[SettlementStatement]:
    """A partner's own statements (the partner API shows no other)."""
    return SettlementStatement.objects.filter(partner=partner)


CSV_HEADER = ["partner", "month", "line", "corrects", "period", "points", "amount", "currency", "paid_by"]


def statement_csv_rows(statement: SettlementStatement, lines: list[SettlementLine]) -> list[list[str]]:
    """A statement as CSV rows (no header): one per line, then the two totals and the balance (who
    pays it, the sum)."""
    partner, month = formula_safe(statement.partner.name), f"{statement.month:%Y-%m}"
    rows = []
    for line in lines:
        rows.append(
            [
                partner,
                month,
                line.kind,
                line.adjusts,
                f"{line.period:%Y-%m}",
                str(line.points),
                str(line.amount),
                statement.currency,
                line.paid_by,
            ]
        )
    balance = statement.balance
    for label, amount, payer in (
        ("total_partner_owes", statement.partner_owes, "partner"),
        ("total_program_owes", statement.program_owes, "program"),
        ("balance", abs(balance), "partner" if balance > 0 else "program" if balance < 0 else ""),
    ):
        rows.append([partner, month, label, "", month, "", str(amount), statement.currency, payer])
    return rows


def statements_with_lines(queryset: QuerySet[SettlementStatement]) -> QuerySet[SettlementStatement]:
    """Statements with their partner and their lines in order (`ordered_lines`)."""
    lines = Prefetch("lines", queryset=SettlementLine.objects.order_by("period", "id"), to_attr="ordered_lines")
    return statements(queryset).prefetch_related(lines)


def statements_csv(items: Iterable[SettlementStatement]) -> str:
    """Statements (from statements_with_lines) as one CSV document: a header, then each statement's
    lines and totals (see README, "Partner settlement")."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_HEADER)
    for statement in items:
        writer.writerows(statement_csv_rows(statement, statement.ordered_lines))
    return out.getvalue()
