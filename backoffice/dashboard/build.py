"""The dashboard page: every table and the KPI cards read from their rows, built in one transaction,
and the snapshot job queued when the page would otherwise recompute closed months."""

import time
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from django.conf import settings
from django.core.cache import cache
from django.db import DEFAULT_DB_ALIAS, connections, router, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from backoffice.dashboard.tables import TABLES, Table, member_rows, points_rows, scope_feedback_scores, trend_scope
from core.db import REPLICA, replica_configured, replica_lag
from core.enqueue import enqueue_on_commit
from core.formatting import number
from members import metrics, tasks
from members.metrics import Scope
from members.models import Program


@dataclass
class Card:
    label: str
    value: object
    unit: str = ""
    link: str | None = None
    # The same figure over the previous period of the same length; None when there is none to show.
    previous: object = None
    # "pp": compare as a difference in percentage points (rates, NPS); "%": as a relative change.
    compare: str = ""
    # Whether a rise is good news (churn, overdue tickets: it is not).
    rise_is_good: bool = True

    @property
    def change(self) -> Decimal | None:
        if not self.compare or self.value is None or self.previous is None:
            return None
        if self.compare == "pp":
            return (Decimal(self.value) - Decimal(self.previous)).quantize(Decimal("0.1"))
        if not self.previous:
            return None
        return ((Decimal(self.value) - Decimal(self.previous)) * 100 / abs(Decimal(self.previous))).quantize(
            Decimal("0.1")
        )

    @property
    def trend(self) -> str:
        """ "up", "down" or "flat", for the arrow; "good" or "bad" comes from `tone`."""
        change = self.change
        if change is None or change == 0:
            return "flat"
        return "up" if change > 0 else "down"

    @property
    def tone(self) -> str:
        if self.trend == "flat":
            return "flat"
        return "good" if (self.trend == "up") == self.rise_is_good else "bad"

    @property
    def change_text(self) -> str:
        change = self.change
        if change is None:
            return ""
        sign = "+" if change > 0 else ("\u2212" if change < 0 else "\u00b1")
        if self.compare == "pp":
            return _("%(sign)s%(change)s pts") % {"sign": sign, "change": number(abs(change))}
        return f"{sign}{number(abs(change))}%"

    @property
    def previous_text(self) -> str:
        return "" if self.previous is None else number(self.previous)


@dataclass
class Dashboard:
    scope: Scope
    trend_start: datetime
    tables: list[Table]
    cards: list[Card] = field(default_factory=list)
    # How fresh the figures are: when they were read, from which database, and how far behind the
    # primary the replica was then (None: no replica configured, or it could not be reached).
    computed_at: datetime | None = None
    seconds: float = 0.0
    from_replica: bool = False
    replica: str = "none"  # "none" (none configured, or not asked for), "used", "lagging" (skipped), "unreachable"
    replica_lag: float | None = None
    # Set on a page read from a summary (backoffice.dashboard.summaries): how often they are refreshed.
    summary_every: float | None = None

    @property
    def replica_limit(self) -> float:
        return settings.REPLICA_MAX_LAG_SECONDS

    @property
    def summary_minutes(self) -> int:
        return max(1, round((self.summary_every or 0) / 60))


# (table, row key, label, unit, compare, rise is good). The liability and the overdue tickets are
# stocks at one moment, not flows of the period: they have no previous period to compare with.
CARDS = [
    ("members", "active", _("Active members"), "", "%", True),
    ("members", "new", _("New members"), "", "%", True),
    ("members", "crr", _("Retention (CRR)"), "%", "pp", True),
    ("members", "churn", _("Churn"), "%", "pp", False),
    ("members", "aov", _("Average order value"), "currency", "%", True),
    ("members", "clv", _("Customer lifetime value"), "currency", "%", True),
    ("points", "issued", _("Points issued"), "", "%", True),
    ("points", "redemption_rate", _("Redemption rate"), "%", "pp", True),
    ("points", "liability_value", _("Outstanding liability"), "currency", "", True),
    ("feedback", "nps", _("NPS"), "", "pp", True),
    ("feedback", "tickets_overdue", _("Overdue tickets"), "", "", False),
]


def previous_figures(*, scope: Scope) -> dict[tuple[str, str], object]:
    """The cards' figures over the previous period of the same length, by (table, row key): a fixed
    number of aggregate queries, the same selectors as the tables."""
    previous = scope.previous
    figures = {
        ("members", key): value
        for key, _label, value in member_rows(metrics.member_metrics(scope=previous), scope.program.currency)
    }
    figures |= {
        ("points", key): value
        for key, _label, value in points_rows(metrics.points_metrics(scope=previous, with_liability=False))
    }
    figures[("feedback", "nps")] = scope_feedback_scores(previous)["nps"]
    return figures


# The period aggregates group up to one row per active member (60k at 100k members): at
# PostgreSQL's default 4 MB they spill to disk (EXPLAIN ANALYZE in bench/RESULTS.md).
DASHBOARD_WORK_MEM = "32MB"


def _replica_state() -> tuple[str, float | None]:
    """Whether the page's reads may come from the replica, and its lag in seconds."""
    if not replica_configured():
        return "none", None
    lag = replica_lag()
    if lag is None:
        return "unreachable", None
    return ("used" if lag <= settings.REPLICA_MAX_LAG_SECONDS else "lagging"), lag


def dashboard_build(*, scope: Scope) -> Dashboard:
    """Every table and card of the page. In a `replica_reads()` block its reads come from the
    replica unless it lags (core.db), in one transaction on the database that answers."""
    began, computed_at = time.perf_counter(), timezone.now()
    replica, lag = _replica_state()
    alias = router.db_for_read(Program) or DEFAULT_DB_ALIAS
    with transaction.atomic(using=alias):
        reader = connections[alias]
        if reader.vendor == "postgresql":
            with reader.cursor() as cursor:
                cursor.execute("SET LOCAL work_mem = %s", [DASHBOARD_WORK_MEM])
        tables = [build(scope) for build in TABLES.values()]
        previous = previous_figures(scope=scope)
    by_key = {t.key: t for t in tables}
    cards = []
    for table_key, row_key, label, unit, compare, rise_is_good in CARDS:
        table = by_key[table_key]
        value = next(row[2] for row in table.rows if row[0] == row_key)
        cards.append(
            Card(
                label,
                value,
                scope.program.currency if unit == "currency" else unit,
                table.link,
                previous=previous.get((table_key, row_key)) if compare else None,
                compare=compare,
                rise_is_good=rise_is_good,
            )
        )
    return Dashboard(
        scope=scope,
        trend_start=trend_scope(scope).start,
        tables=tables,
        cards=cards,
        computed_at=computed_at,
        seconds=time.perf_counter() - began,
        from_replica=alias == REPLICA,
        replica=replica if alias == REPLICA or replica != "used" else "none",
        replica_lag=lag,
    )


def snapshots_ensure(*, program: Program) -> None:
    """Until the daily job has run (a fresh install, or data loaded in bulk), the first dashboard
    view queues it, once an hour at most: later views read closed months from the snapshots."""
    if metrics.snapshot_missing(program=program) and cache.add(f"metric-snapshots-queued:{program.pk}", 1, 3600):
        enqueue_on_commit(tasks.metric_snapshots_refresh)
