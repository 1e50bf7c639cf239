"""Writes of partner settlement: closing a month into frozen statements.

A month is closed once it is over (the beat job `coalition.tasks.settlements_close_due`, or staff);
each partner gets one statement, written in one transaction and never changed afterwards. Closing a
month also looks back at the months closed before it (SETTLEMENT_CORRECTION_MONTHS): whatever the
ledger or the rates say about them now that their statements and earlier adjustments do not (an
entry dated back into a closed month, a rate corrected after the fact) becomes adjustment lines of
the month being closed, so the money owed follows without rewriting a closed statement.
"""

from datetime import date, datetime

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from coalition.models import SettlementLine, SettlementStatement
from coalition.selectors import (
    Figure,
    closed_months,
    figures_difference,
    month_bounds,
    month_next,
    month_previous,
    month_start,
    program_rates,
    settlement_figures,
    settlement_recorded,
    statement_totals,
)
from core.errors import DomainError
from members.models import Partner, Program

Kind = SettlementLine.Kind


@transaction.atomic
def settlement_close(*, program: Program, month: date, now: datetime | None = None) -> list[SettlementStatement]:
    """Close `month` (any day of it) for the program's partners: one statement each for those with
    activity, a rate or a correction to carry. Partners already closed for it are left as they are,
    so closing twice adds nothing. Refused for a month not over yet, or older than one closed already."""
    now = now or timezone.now()
    month = month.replace(day=1)
    _, end = month_bounds(month)
    if end > now:
        raise DomainError("month_not_over", f"{month:%Y-%m} is not over yet: it can be closed from {end:%Y-%m-%d}.")
    # One close of a program at a time: the second waits, then finds the partners closed.
    Program.objects.select_for_update().filter(pk=program.pk).first()
    if SettlementStatement.objects.filter(program=program, month__gt=month).exists():
        raise DomainError("later_month_closed", f"A month after {month:%Y-%m} is closed already.", status=409)
    closed = set(SettlementStatement.objects.filter(program=program, month=month).values_list("partner_id", flat=True))
    rates = program_rates(program=program, until=end.date())
    lines: dict[int, list[SettlementLine]] = {}
    for partner_id, figures in settlement_figures(program=program, month=month, rates=rates).items():
        lines[partner_id] = [_line(kind, month, figure) for kind, figure in sorted(figures.items())]
    since = month
    for _ in range(settings.SETTLEMENT_CORRECTION_MONTHS):
        since = month_previous(since)
    for earlier in closed_months(program=program, since=since, before=month):
        expected = settlement_figures(program=program, month=earlier, rates=rates)
        missing = figures_difference(expected, settlement_recorded(program=program, month=earlier))
        for partner_id, figures in missing.items():
            lines.setdefault(partner_id, []).extend(
                _line(Kind.ADJUSTMENT, earlier, figure, adjusts=kind) for kind, figure in sorted(figures.items())
            )
    partner_ids = (lines.keys() | rates.partners()) - closed
    partners = Partner.objects.filter(program=program, pk__in=partner_ids).order_by("pk")
    made = []
    for partner in partners:
        statement = SettlementStatement(
            program=program, partner=partner, month=month, currency=program.currency, closed_at=now
        )
        partner_lines = lines.get(partner.pk, [])
        for field, value in statement_totals(partner_lines).items():
            setattr(statement, field, value)
        statement.save()
        for line in partner_lines:
            line.statement = statement
        SettlementLine.objects.bulk_create(partner_lines)
        made.append(statement)
    return made


def _line(kind: str, period: date, figure: Figure, adjusts: str = "") -> SettlementLine:
    return SettlementLine(kind=kind, adjusts=adjusts, period=period, points=figure.points, amount=figure.amount)


def settlements_close_due(*, now: datetime | None = None) -> int:
    """Periodic: close every month that is over and not closed yet, per program, oldest first (a
    program's first close is last month's). One transaction per program and month. Returns the
    statements written."""
    now = now or timezone.now()
    last = month_previous(month_start(now))
    made = 0
    for program in Program.objects.filter(partners__isnull=False).distinct().order_by("pk"):
        latest = SettlementStatement.objects.filter(program=program).order_by("-month").values_list("month", flat=True)
        month = month_next(latest[0]) if latest else last
        while month <= last:
            made += len(settlement_close(program=program, month=month, now=now))
            month = month_next(month)
    return made
