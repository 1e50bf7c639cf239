"""The Fidelis admin site: the index is the program dashboard, each of its tables also as CSV.

The dashboard is read-only; it needs the view permission on members (superusers and the
"analyst" group have it).
"""

import csv

from django.contrib import admin
from django.contrib.auth.models import Group, Permission
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from config.csvfiles import formula_safe
from config.dashboard import TABLES, DashboardForm, dashboard_build, text
from members import metrics, tasks
from members.models import Program

ANALYST_GROUP = "analyst"
DASHBOARD_PERMISSION = "members.view_member"


class FidelisAdminSite(admin.AdminSite):
    site_header = _("Fidelis loyalty back-office")
    site_title = _("Fidelis admin")
    index_title = _("Program dashboard")

    def get_urls(self):
        return [
            path("dashboard/<slug:key>.csv", self.admin_view(self.dashboard_csv), name="dashboard_csv"),
            *super().get_urls(),
        ]

    def index(self, request: HttpRequest, extra_context=None):
        context = {**(extra_context or {})}
        if request.user.has_perm(DASHBOARD_PERMISSION) and Program.objects.exists():
            form = DashboardForm(request.GET)
            context["dashboard_form"] = form
            if form.is_valid():
                scope = form.scope(timezone.now())
                _snapshots_ensure(scope.program)
                context["dashboard"] = dashboard_build(scope=scope)
                context["dashboard_query"] = request.GET.urlencode()
        return super().index(request, context)

    def dashboard_csv(self, request: HttpRequest, key: str) -> HttpResponse:
        if not request.user.has_perm(DASHBOARD_PERMISSION):
            raise PermissionDenied
        if key not in TABLES:
            raise Http404
        form = DashboardForm(request.GET)
        if not form.is_valid():
            return HttpResponse(form.errors.as_text(), status=400, content_type="text/plain; charset=utf-8")
        scope = form.scope(timezone.now())
        table = TABLES[key](scope)
        response = HttpResponse(content_type="text/csv; charset=utf-8")
        filename = f"{scope.program.slug}-{key}-{scope.start:%Y%m%d}-{scope.end:%Y%m%d}.csv"
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        writer = csv.writer(response)
        writer.writerow([str(c) for c in table.columns])
        writer.writerows([[_csv_cell(v) for v in row] for row in table.rows])
        return response


def _snapshots_ensure(program: Program) -> None:
    """Until the daily job has run (a fresh install, or data loaded in bulk), the first dashboard
    view queues it, once an hour at most: later views read closed months from the snapshots."""
    if metrics.snapshot_missing(program=program) and cache.add(f"metric-snapshots-queued:{program.pk}", 1, 3600):
        tasks.metric_snapshots_refresh.delay_on_commit()


def _csv_cell(value) -> str:
    """Names typed by staff (causes, campaigns) must not run as spreadsheet formulas; numbers stay numbers."""
    return formula_safe(value) if isinstance(value, str) else text(value)


def analyst_group_sync(**kwargs) -> None:
    """After every migrate, give the analyst group the view permission of models added since."""
    group = Group.objects.filter(name=ANALYST_GROUP).first()
    if group is not None:
        group.permissions.add(*Permission.objects.filter(codename__startswith="view_"))
