"""The dashboard page: every table and the KPI cards read from their rows, built in one transaction,
and the snapshot job queued when the page would otherwise recompute closed months."""

from dataclasses import dataclass, field
from datetime import datetime

from django.core.cache import cache
from django.db import connection, transaction
from django.utils.translation import gettext_lazy as _

from backoffice.dashboard.tables import TABLES, Table, trend_scope
from core.enqueue import enqueue_on_commit
from members import metrics, tasks
from members.metrics import Scope
from members.models import Program


@dataclass
class Card:
    label: str
    value: object
    unit: str = ""
    link: str | None = None


@dataclass
class Dashboard:
    scope: Scope
    trend_start: datetime
    tables: list[Table]
    cards: list[Card] = field(default_factory=list)


CARDS = [
    ("members", "active", _("Active members"), ""),
    ("members", "new", _("New members"), ""),
    ("members", "crr", _("Retention (CRR)"), "%"),
    ("members", "churn", _("Churn"), "%"),
    ("members", "aov", _("Average order value"), "currency"),
    ("members", "clv", _("Customer lifetime value"), "currency"),
    ("points", "issued", _("Points issued"), ""),
    ("points", "redemption_rate", _("Redemption rate"), "%"),
    ("points", "liability_value", _("Outstanding liability"), "currency"),
    ("feedback", "nps", _("NPS"), ""),
    ("feedback", "tickets_overdue", _("Overdue tickets"), ""),
]


# The period aggregates group up to one row per active member (60k at 100k members): at
# PostgreSQL's default 4 MB they spill to disk (EXPLAIN ANALYZE in bench/RESULTS.md).
DASHBOARD_WORK_MEM = "32MB"


def dashboard_build(*, scope: Scope) -> Dashboard:
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL work_mem = %s", [DASHBOARD_WORK_MEM])
        tables = [build(scope) for build in TABLES.values()]
    by_key = {t.key: t for t in tables}
    cards = []
    for table_key, row_key, label, unit in CARDS:
        table = by_key[table_key]
        value = next(row[2] for row in table.rows if row[0] == row_key)
        cards.append(Card(label, value, scope.program.currency if unit == "currency" else unit, table.link))
    return Dashboard(scope=scope, trend_start=trend_scope(scope).start, tables=tables, cards=cards)


def snapshots_ensure(*, program: Program) -> None:
    """Until the daily job has run (a fresh install, or data loaded in bulk), the first dashboard
    view queues it, once an hour at most: later views read closed months from the snapshots."""
    if metrics.snapshot_missing(program=program) and cache.add(f"metric-snapshots-queued:{program.pk}", 1, 3600):
        enqueue_on_commit(tasks.metric_snapshots_refresh)
