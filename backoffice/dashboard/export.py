"""One dashboard table as a CSV download: exactly the rows the page shows, for the same filters."""

import csv

from django.http import HttpResponse

from backoffice.dashboard.tables import TABLES, text
from core.csvfiles import formula_safe
from members.metrics import Scope


def table_csv(*, key: str, scope: Scope) -> HttpResponse:
    """The table `key` of TABLES over `scope`, as an attachment named after program, table and period."""
    table = TABLES[key](scope)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    filename = f"{scope.program.slug}-{key}-{scope.start:%Y%m%d}-{scope.end:%Y%m%d}.csv"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    writer = csv.writer(response)
    writer.writerow([str(c) for c in table.csv_columns])
    writer.writerows([[_csv_cell(v) for v in row] for row in table.rows])
    return response


def _csv_cell(value) -> str:
    """Names typed by staff (causes, campaigns) must not run as spreadsheet formulas; numbers stay numbers."""
    return formula_safe(value) if isinstance(value, str) else text(value)
