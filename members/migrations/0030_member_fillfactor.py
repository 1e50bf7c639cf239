"""Leave a fifth of each member page free on PostgreSQL, so that updating a member's balances,
activity or warning (every earn, the periodic jobs) is a HOT update: the new row version stays on
its page and none of the member table's 23 indexes (four of them trigram GIN) gets a new entry. On
the 100k bench, 2,000 balance updates took 2.6 s with full pages and 0.34 s with room (bench/RESULTS.md).
It applies to pages written from now on; `VACUUM FULL members_member` (or pg_repack) rewrites the
existing ones."""

from django.db import migrations


def fillfactor(percent: int):
    def apply(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(f"ALTER TABLE members_member SET (fillfactor = {percent})")

    return apply


class Migration(migrations.Migration):
    dependencies = [("members", "0029_partition_by_month")]

    operations = [migrations.RunPython(fillfactor(80), fillfactor(100))]
