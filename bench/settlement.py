"""Partner settlement: how long computing a month's statements takes, month by month, for the
program with the most ledger entries (the demo's, or bench/seed.py's). Prints one line per month:
entries in the month, partners with figures, milliseconds and queries. Reads only.

    .venv/bin/python bench/settlement.py [--months 12]
"""

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django

django.setup()

from django.db import connection
from django.db.models import Count
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from coalition.selectors import month_bounds, month_previous, month_start, settlement_figures
from members.models import LedgerEntry, Program


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--months", type=int, default=12)
    args = parser.parse_args()
    busiest = (
        LedgerEntry.objects.values("program_id")
        .annotate(n=Count("id"))
        .order_by("-n")
        .values_list("program_id", flat=True)
    )
    program = Program.objects.get(pk=busiest[0])
    month = month_previous(month_start(timezone.now()))
    print(f"program {program.slug}: month, entries, partners, ms, queries")
    for _ in range(args.months):
        start, end = month_bounds(month)
        entries = LedgerEntry.objects.filter(program=program, created_at__gte=start, created_at__lt=end).count()
        with CaptureQueriesContext(connection) as queries:
            began = time.perf_counter()
            figures = settlement_figures(program=program, month=month)
            ms = (time.perf_counter() - began) * 1000
        print(f"{month:%Y-%m} {entries:>9} {len(figures):>3} {ms:>9.1f} {len(queries):>4}")
        month = month_previous(month)


if __name__ == "__main__":
    main()
