"""Create the monthly partitions ahead now (what beat does daily); with --retention, also drop the
months past DATA_RETENTION_MONTHS. --list shows every partition with its estimated rows."""

from django.core.management.base import BaseCommand
from django.db import connection

from core.partitions import is_partitioned, partitions
from members.retention import TABLES, partitions_maintain, retention_apply


class Command(BaseCommand):
    help = "Create monthly partitions ahead (PostgreSQL); --retention drops old months; --list shows them."

    def add_arguments(self, parser):
        parser.add_argument("--retention", action="store_true", help="Also drop months past their retention.")
        parser.add_argument("--list", action="store_true", help="List the partitions of every table.")

    def handle(self, *args, **options):
        created = partitions_maintain()
        self.stdout.write(f"Partitions created: {', '.join(created) or 'none needed'}.")
        if options["retention"]:
            dropped = retention_apply()
            for done in dropped:
                archive = f", archived to {done.archive}" if done.archive else ""
                self.stdout.write(f"Dropped {done.table} {done.month:%Y-%m}: {done.rows} rows{archive}.")
            if not dropped:
                self.stdout.write("Nothing past its retention.")
        if options["list"]:
            self._list()

    def _list(self):
        for table in TABLES:
            if not is_partitioned(table):
                self.stdout.write(f"{table}: not partitioned")
                continue
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT c.relname, GREATEST(c.reltuples, 0)::bigint FROM pg_inherits i"
                    " JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = %s::regclass",
                    [table],
                )
                estimates = dict(cursor.fetchall())
            months = ", ".join(f"{p.lower:%Y-%m} (~{estimates.get(p.name, 0)})" for p in partitions(table))
            self.stdout.write(f"{table}: {months}; default (~{estimates.get(table + '_default', 0)})")
