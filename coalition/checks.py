"""Partner settlement's part of the nightly reconciliation (members.reconciliation): closed
statements agree with their own lines, and with the ledger of their month.

For each month closed within SETTLEMENT_CORRECTION_MONTHS, the month's figures are recomputed from
the ledger (coalition.selectors.settlement_figures) and compared with what its statements and the
adjustments carried for it say. A difference is a statement changed after closing, or an entry dated
back into a closed month that the next close has not carried yet.
"""

from django.conf import settings
from django.utils import timezone

from coalition.models import SettlementStatement
from coalition.selectors import (
    closed_months,
    figures_difference,
    month_next,
    month_previous,
    month_start,
    settlement_figures,
    settlement_recorded,
    statement_totals,
    statements,
)
from members.models import Partner, Program
from members.reconciliation import reconciliation_check

TOTALS = (
    "points_issued",
    "points_redeemed",
    "points_redeemed_elsewhere",
    "points_expired",
    "partner_owes",
    "program_owes",
)


def _since():
    since = month_start(timezone.now())
    for _ in range(settings.SETTLEMENT_CORRECTION_MONTHS):
        since = month_previous(since)
    return since


@reconciliation_check("settlements")
def settlements_check() -> list[dict]:
    found = []
    since = _since()
    recent = statements(SettlementStatement.objects.filter(month__gte=since)).prefetch_related("lines")
    for statement in recent:
        totals = statement_totals(list(statement.lines.all()))
        for name in TOTALS:
            if getattr(statement, name) != totals[name]:
                found.append(
                    {
                        "object": f"settlement statement {statement.pk} ({statement})",
                        "detail": f"{name} is {getattr(statement, name)} but its lines add up to {totals[name]}",
                    }
                )
    names = dict(Partner.objects.values_list("pk", "name"))
    for program in Program.objects.filter(pk__in=recent.values("program_id")).order_by("pk"):
        for month in closed_months(program=program, since=since, before=month_next(month_start(timezone.now()))):
            expected = settlement_figures(program=program, month=month)
            missing = figures_difference(expected, settlement_recorded(program=program, month=month))
            for partner_id, kinds in sorted(missing.items()):
                for kind, figure in sorted(kinds.items()):
                    found.append(
                        {
                            "object": f"{names.get(partner_id, partner_id)} {month:%Y-%m} ({kind})",
                            "detail": f"the ledger differs from the closed statements by {figure.points:+d} points, "
                            f"{figure.amount:+} {program.currency}",
                        }
                    )
    return found
