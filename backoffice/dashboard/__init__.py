"""The program dashboard on the admin index: a filter form, KPI cards, and tables with their charts.

- forms.py: DashboardForm and the periods it offers; it cleans into a members.metrics.Scope.
- tables.py: one builder per table, registered in TABLES (its key names the CSV export too).
- charts.py: the SVG geometry of the charts next to the tables (no JavaScript).
- build.py: the whole page (tables and KPI cards) for one scope, and the snapshot job it may queue.
- summaries.py: the preset periods' pages precomputed by a periodic job, and the page the index shows.
- export.py: one table as CSV, the same rows as the page.

To add a table: write its builder in tables.py (with a chart from charts.py if it has one) and
register it in TABLES; the page and the CSV export pick it up.
"""

from backoffice.dashboard.build import dashboard_build, snapshots_ensure
from backoffice.dashboard.export import table_csv
from backoffice.dashboard.forms import DashboardForm
from backoffice.dashboard.summaries import dashboard_page, dashboard_summaries_refresh
from backoffice.dashboard.tables import TABLES

__all__ = [
    "TABLES",
    "DashboardForm",
    "dashboard_build",
    "dashboard_page",
    "dashboard_summaries_refresh",
    "snapshots_ensure",
    "table_csv",
]
