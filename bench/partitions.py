"""What monthly partitions buy for retention and lookups: one month of N event-like rows removed by
DELETE from a plain table versus DETACH + DROP of its partition, and a key lookup bounded to one
day on both tables. Scratch tables in the database of DATABASE_URL (PostgreSQL), dropped at the end.

    DATABASE_URL=postgres://... .venv/bin/python bench/partitions.py [--rows 400000] [--months 4]
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

COLUMNS = "id bigint NOT NULL, program_id bigint NOT NULL, type varchar(40) NOT NULL, payload jsonb NOT NULL, occurred_at timestamptz NOT NULL"
FILL = (
    "INSERT INTO {table} SELECT g, mod(g, 50), 'points.earned', jsonb_build_object('member', g, 'points', mod(g, 300)),"
    " timestamptz '2026-01-01' + (g::float / %(rows)s * %(months)s * 30) * interval '1 day'"
    " FROM generate_series(1, %(rows)s) g"
)


def timed(cursor, sql: str, params=None) -> float:
    start = time.perf_counter()
    cursor.execute(sql, params)
    return (time.perf_counter() - start) * 1000


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=400_000)
    parser.add_argument("--months", type=int, default=4)
    args = parser.parse_args()
    params = {"rows": args.rows, "months": args.months}
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS bench_plain, bench_parted")
        cursor.execute(f"CREATE TABLE bench_plain ({COLUMNS}, PRIMARY KEY (id))")
        cursor.execute(
            f"CREATE TABLE bench_parted ({COLUMNS}, PRIMARY KEY (id, occurred_at)) PARTITION BY RANGE (occurred_at)"
        )
        for m in range(args.months + 1):
            cursor.execute(
                f"CREATE TABLE bench_parted_{m} PARTITION OF bench_parted FOR VALUES FROM"
                f" (timestamptz '2026-01-01' + interval '{m} month') TO (timestamptz '2026-01-01' + interval '{m + 1} month')"
            )
        for table in ("bench_plain", "bench_parted"):
            cursor.execute(FILL.format(table=table), params)
            cursor.execute(f"CREATE INDEX ON {table} (program_id, occurred_at)")
            cursor.execute(f"ANALYZE {table}")
        month = "occurred_at >= '2026-01-01' AND occurred_at < '2026-02-01'"
        cursor.execute(f"SELECT COUNT(*) FROM bench_plain WHERE {month}")
        month_rows = cursor.fetchone()[0]
        lookup = "SELECT COUNT(*) FROM {t} WHERE program_id = 7 AND occurred_at >= timestamptz '2026-03-10' AND occurred_at < timestamptz '2026-03-11'"
        plain_lookup = min(timed(cursor, lookup.format(t="bench_plain")) for _ in range(20))
        parted_lookup = min(timed(cursor, lookup.format(t="bench_parted")) for _ in range(20))
        delete_ms = timed(cursor, f"DELETE FROM bench_plain WHERE {month}")
        vacuum_ms = timed(cursor, "VACUUM bench_plain")
        drop_ms = timed(cursor, "ALTER TABLE bench_parted DETACH PARTITION bench_parted_0") + timed(
            cursor, "DROP TABLE bench_parted_0"
        )
        cursor.execute("DROP TABLE bench_plain, bench_parted")
    print(f"rows {args.rows} over {args.months} months; one month: {month_rows} rows")
    print(f"remove a month: DELETE {delete_ms:.0f} ms + VACUUM {vacuum_ms:.0f} ms; DETACH + DROP {drop_ms:.1f} ms")
    print(f"one day's lookup by program: plain {plain_lookup:.2f} ms, partitioned {parted_lookup:.2f} ms (best of 20)")


if __name__ == "__main__":
    main()
