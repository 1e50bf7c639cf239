"""Indexes for the admin's member search on PostgreSQL.

The admin searches email, phone and names with icontains, which Django writes as
UPPER(column) LIKE UPPER('%q%'), and the number and external id with iexact, written
UPPER(column) = UPPER('q'): the plain B-trees serve neither, so every search scanned all members
twice (the page and its count; 438-643 ms at 100k). pg_trgm GIN indexes on the same UPPER(...)
expressions answer the first, B-tree indexes on UPPER(...) the second. SQLite (the embedded default) has no pg_trgm: the operations do nothing there, and the
model state is unchanged (the indexes are expressions Django's migration state does not track).
"""

from django.db import migrations

COLUMNS = ("email", "phone", "first_name", "last_name")  # icontains: trigram GIN
EXACT = ("number", "external_id")  # iexact: B-tree on UPPER(...)


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
    for column in EXACT:
        schema_editor.execute(
            f'CREATE INDEX IF NOT EXISTS "member_{column}_upper" ON "members_member" (UPPER("{column}"::text))'
        )


def drop(apps, schema_editor) -> None:
    if not _postgres(schema_editor):
        return
    for column in COLUMNS:
        schema_editor.execute(f'DROP INDEX IF EXISTS "member_{column}_trgm"')
    for column in EXACT:
        schema_editor.execute(f'DROP INDEX IF EXISTS "member_{column}_upper"')


class Migration(migrations.Migration):
    dependencies = [("members", "0015_program_points_name_translations")]

    operations = [migrations.RunPython(create, drop, elidable=False)]
