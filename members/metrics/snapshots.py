"""Monthly snapshots: the one write of the metrics, derived figures and never domain state. The
dashboard's 12-month charts read a closed month from its snapshot instead of a year of rows."""

from datetime import date, datetime

from django.db import transaction
from django.utils import timezone

from members.metrics.activity import activity_months_live
from members.metrics.loyalty import loyalty_distribution
from members.metrics.points import points_months_live
from members.metrics.scope import Scope, month_start, next_month
from members.metrics.tiers import movements_months_live, tiers_months_live
from members.models import MetricSnapshot, Program
from members.selectors import add_months


@transaction.atomic
def metric_snapshot_month(*, program: Program, month: date, now: datetime | None = None) -> MetricSnapshot:
    """Compute and store a closed month's whole-program figures (recomputing replaces them)."""
    now = now or timezone.now()
    month = month.replace(day=1)
    scope = Scope(program=program, start=month_start(month), end=next_month(month))
    data = {
        "activity": activity_months_live(scope)[month],
        "points": points_months_live(scope)[month],
        "tiers": tiers_months_live(scope)[month],
        "movements": movements_months_live(scope)[month],
    }
    previous = MetricSnapshot.objects.filter(program=program, month=month).first()
    if previous is not None and "loyalty" in previous.data:
        data["loyalty"] = previous.data["loyalty"]
    elif scope.end <= now < next_month(scope.end.date()):
        # Loyalty types are only known as they are now: record them while the month has just closed.
        data["loyalty"] = loyalty_distribution(scope=scope)
    snapshot, _ = MetricSnapshot.objects.update_or_create(
        program=program, month=month, defaults={"data": data, "computed_at": now}
    )
    return snapshot


def snapshot_missing(*, program: Program, now: datetime | None = None) -> bool:
    """True when the program's last closed month has no snapshot (new install, beat not running)."""
    last_month = add_months(month_start(timezone.localtime(now or timezone.now()).date()), -1).date()
    return not MetricSnapshot.objects.filter(program=program, month=last_month).exists()


def metric_snapshots_refresh(*, now: datetime | None = None, months: int = 2) -> int:
    """Daily: recompute each program's last `months` closed months (refunds and back-dated purchases
    still change the previous month); a program without snapshots gets its last 12. Returns rows."""
    now = now or timezone.now()
    this_month = timezone.localtime(now).date().replace(day=1)
    written = 0
    for program in Program.objects.order_by("pk"):
        depth = months if MetricSnapshot.objects.filter(program=program).exists() else 12
        for back in range(depth, 0, -1):
            metric_snapshot_month(program=program, month=add_months(month_start(this_month), -back).date(), now=now)
            written += 1
    return written
