"""The dashboard's preset periods, precomputed: a periodic job (backoffice.tasks, the reports queue)
builds each program's page for every preset period every DASHBOARD_SUMMARY_SECONDS and stores it
(DashboardSummary); the admin index shows the stored page, saying how old it is. A custom period
or a filter (tier, partner, loyalty type) is computed live, as is a preset whose summary is missing
or older than three refresh intervals (the job stopped)."""

import pickle
from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone

from backoffice.dashboard.build import Dashboard, dashboard_build, snapshots_ensure
from backoffice.dashboard.forms import Period, period_bounds
from backoffice.models import DashboardSummary
from core.db import replica_reads
from members.metrics import Scope
from members.models import Program
from members.zones import program_clock

PRESETS = [period for period, _label in Period.CHOICES if period != Period.CUSTOM]


# Last month is closed: only purchases recorded late change it, so it is rebuilt hourly.
CLOSED_PERIOD_SECONDS = {Period.LAST_MONTH: 3600.0}


def dashboard_summaries_refresh(*, now: datetime | None = None) -> int:
    """Build and store every program's page for each preset period, skipping a page stored less
    than half an interval ago (a run that overlapped the previous one on a large program) and last
    month's within the hour. Returns the pages stored."""
    now = now or timezone.now()
    every = settings.DASHBOARD_SUMMARY_SECONDS
    stored = 0
    for program in Program.objects.order_by("pk"):
        recent = dict(DashboardSummary.objects.filter(program=program).values_list("period", "computed_at"))
        for period in PRESETS:
            if period in recent and now - recent[period] < timedelta(
                seconds=CLOSED_PERIOD_SECONDS.get(period, every / 2)
            ):
                continue
            with replica_reads(), program_clock(program):  # "today", "this month": the program's local days
                start, end = period_bounds(period, now)
                page = dashboard_build(scope=Scope(program=program, start=start, end=end))
            DashboardSummary.objects.update_or_create(
                program=program,
                period=period,
                defaults={"computed_at": page.computed_at, "seconds": page.seconds, "page": pickle.dumps(page)},
            )
            stored += 1
    return stored


def dashboard_page(*, scope: Scope, period: str, now: datetime | None = None) -> Dashboard:
    """The page for `scope`: the stored summary of a preset period without filters while it is
    fresh, else computed now (reads from the replica when it is fresh enough)."""
    now = now or timezone.now()
    every = settings.DASHBOARD_SUMMARY_SECONDS
    if period in PRESETS and scope.tier is None and scope.partner is None and scope.loyalty_type is None:
        summary = (
            DashboardSummary.objects.filter(
                program=scope.program, period=period, computed_at__gte=now - timedelta(seconds=3 * every)
            )
            .only("page")
            .first()
        )
        page = _unpickled(summary.page) if summary is not None else None
        if page is not None:
            page.summary_every = every
            return page
    snapshots_ensure(program=scope.program)
    with replica_reads(), program_clock(scope.program):  # months and dates by the program's local day
        return dashboard_build(scope=scope)


def _unpickled(data: bytes) -> Dashboard | None:
    """The stored page; None when it no longer fits the code (a summary stored before an upgrade
    that moved or renamed a class): the page is computed live until the job stores it again."""
    try:
        page = pickle.loads(data)  # noqa: S301 - written by dashboard_summaries_refresh
    except (pickle.UnpicklingError, AttributeError, ImportError, EOFError, TypeError, ValueError):
        return None
    return page if isinstance(page, Dashboard) else None
