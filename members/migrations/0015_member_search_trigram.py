"""Trigram indexes for the admin's member search on PostgreSQL.

The admin searches email, phone and names with icontains, which Django writes as
UPPER(column) LIKE UPPER('%q%'): a B-tree cannot serve it, so every search scanned all members
(438-643 ms at 100k). pg_trgm GIN indexes on the same UPPER(...) expressions answer it from the
index. SQLite (the embedded default) has no pg_trgm: the operations do nothing there, and the
model state is unchanged (the indexes are expressions Django's migration state does not track).
"""

from django.db import migrations

COLUMNS = ("email", "phone", "first_name", "last_name")


def _postgres(schema_editor) -> bool:
    return schema_editor.connection.vendor == "postgresql"


def create(apps, schema_editor) -> None:
    if not _postgres(schema_editor):
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for column in COLUMNS:
        schema_editor.execute(
            f'CREATE INDEX IF NOT EXISTS "member_{column}_trgm" ON "members_member" '
            f'USING gin ((UPPER("{column}"::text)) gin_trgm_ops)'
        )


def drop(apps, schema_editor) -> None:
    if not _postgres(schema_editor):
        return
    for column in COLUMNS:
        schema_editor.execute(f'DROP INDEX IF EXISTS "member_{column}_trgm"')


class Migration(migrations.Migration):
    dependencies = [("members", "0014_phone_e164")]

    operations = [migrations.RunPython(create, drop, elidable=False)]
