# ruff: noqa: S608 - SQL is built from table and column names of migrations and settings, always quoted; values are parameters.
"""Monthly range partitions of the append-only tables on PostgreSQL (declarative partitioning).

A partitioned table `t` has one partition per calendar month (UTC) of its time column, named
`t_pYYYYMM`, and a DEFAULT partition `t_default` that catches rows outside every month (a clock far
ahead, a partition not yet created). Its database primary key is (id, <time column>): PostgreSQL
wants the partition key in every unique key. Django still sees `id` as the primary key: the id comes
from one sequence, so it stays unique on its own, and every lookup by id works unchanged.

PostgreSQL cannot enforce a unique key across partitions unless it includes the partition key. Where
a table's idempotency rests on a key without its time (webhook delivery per endpoint and event,
campaign delivery per campaign, member and occurrence, idempotency key per partner), `PartitionByMonth`
installs a *guard*: a small unpartitioned table `t_once` with that key as its primary key and a BEFORE
INSERT trigger that inserts the key there first and skips the row when the key is already taken.
That is exactly INSERT ... ON CONFLICT DO NOTHING (the callers' bulk_create(ignore_conflicts=True)):
a concurrent insert of the same key waits for the first transaction and is skipped once it commits.

SQLite (and a PostgreSQL table not yet converted) keeps plain tables: every function here then
falls back to what a plain table can do (retention as a chunked DELETE).
"""

import csv
import logging
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

from django.db import connection, transaction
from django.db.migrations.operations.base import Operation

log = logging.getLogger(__name__)

DEFAULT_SUFFIX = "_default"
GUARD_SUFFIX = "_once"


# --- months ------------------------------------------------------------------------------------


def month_start(moment: datetime | date) -> date:
    if isinstance(moment, datetime):
        moment = _aware(moment).astimezone(UTC)
    return date(moment.year, moment.month, 1)


def _aware(moment: datetime) -> datetime:
    """SQLite hands back naive UTC datetimes."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _param(moment: datetime):
    """A datetime as this database compares it (SQLite: naive UTC text, as Django stores it)."""
    return connection.ops.adapt_datetimefield_value(moment)


def month_add(month: date, months: int) -> date:
    index = month.year * 12 + month.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def month_bound(month: date) -> datetime:
    return datetime(month.year, month.month, 1, tzinfo=UTC)


def _bounds_sql(month: date) -> str:
    # Literals: DDL takes no bound parameters.
    return f"FOR VALUES FROM ('{month_bound(month).isoformat()}') TO ('{month_bound(month_add(month, 1)).isoformat()}')"


def partition_name(table: str, month: date) -> str:
    return f"{table}_p{month:%Y%m}"


@dataclass(frozen=True)
class Partition:
    name: str
    lower: datetime
    upper: datetime


# --- catalog -------------------------------------------------------------------------------------


def _q(name: str) -> str:
    return connection.ops.quote_name(name)


def is_partitioned(table: str) -> bool:
    if connection.vendor != "postgresql":
        return False
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT 1 FROM pg_partitioned_table p JOIN pg_class c ON c.oid = p.partrelid"
            " WHERE c.relname = %s AND c.relnamespace = current_schema()::regnamespace",
            [table],
        )
        return cursor.fetchone() is not None


def partitioned_tables() -> list[str]:
    """Every partitioned table of this database, by name."""
    if connection.vendor != "postgresql":
        return []
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname FROM pg_partitioned_table p JOIN pg_class c ON c.oid = p.partrelid"
            " WHERE c.relnamespace = current_schema()::regnamespace ORDER BY c.relname"
        )
        return [row[0] for row in cursor.fetchall()]


def partition_column(table: str) -> str:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT a.attname FROM pg_partitioned_table p JOIN pg_class c ON c.oid = p.partrelid"
            " JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = p.partattrs[0]"
            " WHERE c.relname = %s AND c.relnamespace = current_schema()::regnamespace",
            [table],
        )
        return cursor.fetchone()[0]


def partitions(table: str) -> list[Partition]:
    """The monthly partitions of `table`, oldest first (not the DEFAULT one)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname, pg_get_expr(c.relpartbound, c.oid) FROM pg_inherits i"
            " JOIN pg_class c ON c.oid = i.inhrelid JOIN pg_class p ON p.oid = i.inhparent"
            " WHERE p.relname = %s AND p.relnamespace = current_schema()::regnamespace",
            [table],
        )
        rows = cursor.fetchall()
    found = []
    for name, bound in rows:
        if bound == "DEFAULT":
            continue
        # FOR VALUES FROM ('2026-12-01 00:00:00+00') TO ('2027-01-01 00:00:00+00')
        lower, upper = (datetime.fromisoformat(part.split("'")[1]) for part in bound.split(" TO "))
        found.append(Partition(name, lower.astimezone(UTC), upper.astimezone(UTC)))
    return sorted(found, key=lambda p: p.lower)


# --- creating partitions ------------------------------------------------------------------------


def partition_create(table: str, month: date) -> str | None:
    """The partition of `month`, created unless it exists. Rows of that month already caught by
    the DEFAULT partition move into it (PostgreSQL refuses the new partition otherwise)."""
    name = partition_name(table, month)
    column = partition_column(table)
    lower, upper = month_bound(month), month_bound(month_add(month, 1))
    default = table + DEFAULT_SUFFIX
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass(%s)", [name])
        if cursor.fetchone()[0] is not None:
            return None
        cursor.execute(
            f"SELECT EXISTS (SELECT 1 FROM {_q(default)} WHERE {_q(column)} >= %s AND {_q(column)} < %s)",
            [lower, upper],
        )
        if cursor.fetchone()[0]:
            # Detached, DEFAULT and the new month are plain tables without the partitioned table's
            # triggers (the audit trail's append-only one, the guards): the rows move as they are.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute(f"ALTER TABLE {_q(table)} DETACH PARTITION {_q(default)}")
            cursor.execute(f"CREATE TABLE {_q(name)} (LIKE {_q(table)} INCLUDING DEFAULTS INCLUDING CONSTRAINTS)")
            cursor.execute(
                f"WITH moved AS (DELETE FROM {_q(default)} WHERE {_q(column)} >= %s AND {_q(column)} < %s RETURNING *)"
                f" INSERT INTO {_q(name)} SELECT * FROM moved",
                [lower, upper],
            )
            cursor.execute(f"ALTER TABLE {_q(table)} ATTACH PARTITION {_q(name)} {_bounds_sql(month)}")
            cursor.execute(f"ALTER TABLE {_q(table)} ATTACH PARTITION {_q(default)} DEFAULT")
        else:
            cursor.execute(f"CREATE TABLE {_q(name)} PARTITION OF {_q(table)} {_bounds_sql(month)}")
    return name


def partitions_ensure(table: str, *, now: datetime, ahead: int) -> list[str]:
    """This month's partition and the next `ahead` months', created where missing."""
    first = month_start(now)
    created = [partition_create(table, month_add(first, i)) for i in range(ahead + 1)]
    return [name for name in created if name]


# --- retention ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class KeepWhile:
    """A month is kept while `table` has a row of that month (by `column`) matching `condition`
    (SQL over that table's columns): e.g. events not yet dispatched keep their month."""

    table: str
    column: str
    condition: str

    def holds(self, lower: datetime, upper: datetime) -> bool:
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT EXISTS (SELECT 1 FROM {_q(self.table)} WHERE {_q(self.column)} >= %s"
                f" AND {_q(self.column)} < %s AND ({self.condition}))",
                [_param(lower), _param(upper)],
            )
            return cursor.fetchone()[0]


@dataclass(frozen=True)
class Dropped:
    table: str
    month: date
    rows: int
    archive: str = ""
    partition: str = ""


def _archive(source_sql: str, params: list, path: Path) -> None:
    """The rows as CSV with a header, written by the client (no server file access needed)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with connection.cursor() as cursor, path.open("w", newline="") as out:
        if connection.vendor == "postgresql":
            query = connection.ops.compose_sql(source_sql, params)
            # psycopg's own cursor: COPY streams the rows without loading them all in memory.
            with cursor.cursor.copy(f"COPY ({query}) TO STDOUT WITH (FORMAT csv, HEADER)") as copy:
                for block in copy:
                    out.write(bytes(block).decode())
            return
        cursor.execute(source_sql, params)
        writer = csv.writer(out)
        writer.writerow(col[0] for col in cursor.description)
        while rows := cursor.fetchmany(1000):
            writer.writerows(rows)


def months_drop_before(
    table: str,
    *,
    column: str,
    cutoff: date,
    keep_while: KeepWhile | None = None,
    archive_dir: str = "",
    chunk: int = 5000,
) -> list[Dropped]:
    """Drop every whole month of `table` before the month `cutoff`, oldest first, skipping a month
    that `keep_while` holds for. Partitioned: detach and drop the partition (archived first as CSV
    under `archive_dir` when set). Plain table: the same months deleted in chunks of `chunk` rows."""
    if is_partitioned(table):
        months = [(p.lower, p.upper, p.name) for p in partitions(table) if p.upper <= month_bound(cutoff)]
    else:
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT MIN({_q(column)}) FROM {_q(table)} WHERE {_q(column)} < %s", [_param(month_bound(cutoff))]
            )
            oldest = cursor.fetchone()[0]
        months = []
        if oldest is not None:
            month = month_start(oldest if isinstance(oldest, datetime) else datetime.fromisoformat(oldest))
            while month < cutoff:
                months.append((month_bound(month), month_bound(month_add(month, 1)), ""))
                month = month_add(month, 1)
    dropped = []
    for lower, upper, name in months:
        if keep_while is not None and keep_while.holds(lower, upper):
            log.info("retention: %s keeps %s (%s)", table, f"{lower:%Y-%m}", keep_while.condition)
            continue
        done = _month_drop(
            table, column=column, lower=lower, upper=upper, partition=name, archive_dir=archive_dir, chunk=chunk
        )
        if done is not None:
            dropped.append(done)
    return dropped


def _month_drop(
    table: str, *, column: str, lower: datetime, upper: datetime, partition: str, archive_dir: str, chunk: int
) -> Dropped | None:
    where = f"{_q(column)} >= %s AND {_q(column)} < %s"
    bounds = [_param(lower), _param(upper)]
    source = _q(partition) if partition else _q(table)
    archive = ""
    with transaction.atomic(), connection.cursor() as cursor:
        if partition:
            # No write reaches the month between its copy and its drop (readers go on meanwhile).
            cursor.execute(f"LOCK TABLE {source} IN SHARE MODE")
        cursor.execute(f"SELECT COUNT(*) FROM {source} WHERE {where}", bounds)
        rows = cursor.fetchone()[0]
        if partition == "" and rows == 0:
            return None
        if archive_dir and rows:
            path = Path(archive_dir) / f"{table}_{lower:%Y%m}.csv"
            _archive(f"SELECT * FROM {source} WHERE {where} ORDER BY id", bounds, path)
            archive = str(path)
        if partition:
            # Checks deferred by this transaction's own writes would refuse the DROP: run them now.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute(f"ALTER TABLE {_q(table)} DETACH PARTITION {source}")
            cursor.execute(f"DROP TABLE {source}")
    if partition:
        # The keys of the dropped rows no longer count: the guard's narrow rows go in chunks.
        _chunks_delete(table + GUARD_SUFFIX, "ctid", f"{_q(column)} < %s", [upper], chunk)
    else:
        _chunks_delete(table, _q("id"), where, bounds, chunk)
    return Dropped(table=table, month=month_start(lower), rows=rows, archive=archive, partition=partition)


def _chunks_delete(table: str, key: str, where: str, params: list, chunk: int) -> None:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT to_regclass(%s)", [table])
            if cursor.fetchone()[0] is None:  # a table without a guard
                return
        while True:
            with transaction.atomic():
                cursor.execute(
                    f"DELETE FROM {_q(table)} WHERE {key} IN (SELECT {key} FROM {_q(table)} WHERE {where} LIMIT %s)",
                    [*params, chunk],
                )
                if cursor.rowcount < chunk:
                    return


# --- converting a table (migrations) -------------------------------------------------------------


def _fetch(cursor, sql: str, params: list) -> list[tuple]:
    cursor.execute(sql, params)
    return cursor.fetchall()


def _table_shape(cursor, oid: int, *, skip_triggers: str = "") -> tuple[list, list, list]:
    """What a table move must recreate: its indexes (name, definition, unique, primary, backs a
    unique constraint, columns), foreign keys (name, definition) and own triggers (name, definition;
    those whose name starts with `skip_triggers` left out)."""
    indexes = _fetch(
        cursor,
        "SELECT i.relname, pg_get_indexdef(x.indexrelid), x.indisunique, x.indisprimary, c.conname IS NOT NULL,"
        " ARRAY(SELECT a.attname FROM pg_attribute a WHERE a.attrelid = x.indrelid AND a.attnum = ANY(x.indkey))"
        " FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid"
        " LEFT JOIN pg_constraint c ON c.conindid = x.indexrelid AND c.contype = 'u'"
        " WHERE x.indrelid = %s ORDER BY i.relname",
        [oid],
    )
    foreign = _fetch(
        cursor,
        "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = %s AND contype = 'f'",
        [oid],
    )
    triggers = _fetch(
        cursor,
        "SELECT tgname, pg_get_triggerdef(oid) FROM pg_trigger WHERE tgrelid = %s AND NOT tgisinternal"
        " AND (%s = '' OR tgname NOT LIKE %s)",
        [oid, skip_triggers, skip_triggers + "%"],
    )
    return indexes, foreign, triggers


def table_partition(
    schema_editor, *, table: str, column: str, guard: tuple[str, ...] = (), guard_expire: str = "", ahead: int = 3
) -> None:
    """Turn the plain table `table` into one partitioned by month of `column`, rows included:
    rename it aside, create the partitioned table like it, create the months its rows span plus
    `ahead`, move the rows, drop the old table, then recreate its keys, indexes, foreign keys and
    triggers (with their names) on the new one. A unique key without `column` must be the `guard`:
    it moves to the guard table (module docstring); `guard_expire` (an interval) makes a key free
    again that long after it was taken (idempotency keys)."""
    q = schema_editor.quote_name
    old = f"{table}__plain"
    with schema_editor.connection.cursor() as cursor:
        oid = _fetch(cursor, "SELECT %s::regclass::oid", [table])[0][0]
        indexes, foreign, triggers = _table_shape(cursor, oid)
        sequence = _fetch(cursor, "SELECT pg_get_serial_sequence(%s, 'id')", [table])[0][0]
        next_id = _fetch(cursor, f"SELECT last_value + CASE WHEN is_called THEN 1 ELSE 0 END FROM {sequence}", [])[0][0]
        oldest = _fetch(cursor, f"SELECT MIN({q(column)}) FROM {q(table)}", [])[0][0]
        # Django made `id` an identity column; a table migrated back (table_unpartition) has a sequence.
        identity = _fetch(cursor, "SELECT attidentity FROM pg_attribute WHERE attrelid = %s AND attname = 'id'", [oid])
        identity = identity[0][0] != ""

    seq = f"{table}_id_seq"
    statements = [
        f"ALTER TABLE {q(table)} RENAME TO {q(old)}",
        f"CREATE TABLE {q(table)} (LIKE {q(old)} INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING STORAGE)"
        f" PARTITION BY RANGE ({q(column)})",
    ]
    first = month_start(oldest) if oldest is not None else month_start(datetime.now(UTC))
    last = month_add(month_start(datetime.now(UTC)), ahead)
    month = first
    while month <= last:
        statements.append(
            f"CREATE TABLE {q(partition_name(table, month))} PARTITION OF {q(table)} {_bounds_sql(month)}"
        )
        month = month_add(month, 1)
    statements += [
        f"CREATE TABLE {q(table + DEFAULT_SUFFIX)} PARTITION OF {q(table)} DEFAULT",
        f"INSERT INTO {q(table)} SELECT * FROM {q(old)}",
    ]
    if identity:
        statements += [
            f"DROP TABLE {q(old)}",
            f"CREATE SEQUENCE {q(seq)} OWNED BY {q(table)}.{q('id')} START WITH {next_id}",
            f"ALTER TABLE {q(table)} ALTER COLUMN {q('id')} SET DEFAULT nextval('{seq}')",
        ]
    else:  # the sequence (and the default LIKE copied) stay; the new table owns it
        statements += [f"ALTER SEQUENCE {sequence} OWNED BY {q(table)}.{q('id')}", f"DROP TABLE {q(old)}"]
    for name, definition, unique, primary, is_constraint, columns in indexes:
        if primary:
            statements.append(f"ALTER TABLE {q(table)} ADD CONSTRAINT {q(name)} PRIMARY KEY ({q('id')}, {q(column)})")
        elif unique and column not in columns:
            if tuple(sorted(columns)) != tuple(sorted(guard)):
                raise ValueError(f"{table}: unique key {name} ({', '.join(columns)}) lacks {column} and is no guard")
        elif is_constraint:
            statements.append(
                f"ALTER TABLE {q(table)} ADD CONSTRAINT {q(name)} UNIQUE ({', '.join(q(c) for c in columns)})"
            )
        else:
            statements.append(
                definition.replace(f" ON {old}", f" ON {table}").replace(f" ON public.{old}", f" ON {table}")
            )
    statements += [f"ALTER TABLE {q(table)} ADD CONSTRAINT {q(name)} {definition}" for name, definition in foreign]
    statements += [
        definition.replace(f" ON {old} ", f" ON {table} ").replace(f" ON public.{old} ", f" ON {table} ")
        for _, definition in triggers
    ]
    if guard:
        statements += _guard_sql(q, table=table, column=column, keys=guard, expire=guard_expire)
    for statement in statements:
        schema_editor.execute(statement, params=None)


def _guard_sql(q, *, table: str, column: str, keys: tuple[str, ...], expire: str) -> list[str]:
    guard = table + GUARD_SUFFIX
    cols = ", ".join(q(k) for k in keys)
    match = " AND ".join(f"{q(k)} = NEW.{q(k)}" for k in keys)
    match_old = " AND ".join(f"{q(k)} = OLD.{q(k)}" for k in keys)
    any_null = " OR ".join(f"NEW.{q(k)} IS NULL" for k in keys)
    expired = (
        f"DELETE FROM {q(guard)} WHERE {match} AND {q(column)} < NEW.{q(column)} - interval '{expire}';"
        if expire
        else ""
    )
    return [
        f"CREATE TABLE {q(guard)} AS SELECT DISTINCT ON ({cols}) {cols}, {q(column)} FROM {q(table)}"
        f" WHERE NOT ({any_null.replace('NEW.', '')}) ORDER BY {cols}, {q(column)} DESC",
        f"ALTER TABLE {q(guard)} ADD PRIMARY KEY ({cols})",
        f"CREATE INDEX {q(guard + '_' + column)} ON {q(guard)} ({q(column)})",
        # NULLs never collide in a unique key: those rows need no guard.
        f"""CREATE FUNCTION {q(guard)}() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF {any_null} THEN RETURN NEW; END IF;
    {expired}
    INSERT INTO {q(guard)} ({cols}, {q(column)}) VALUES ({", ".join(f"NEW.{q(k)}" for k in keys)}, NEW.{q(column)})
        ON CONFLICT DO NOTHING;
    IF FOUND THEN RETURN NEW; END IF;
    RETURN NULL;  -- the key is taken: skip the row, as ON CONFLICT DO NOTHING would
END $$""",
        f"CREATE TRIGGER {q(guard)} BEFORE INSERT ON {q(table)} FOR EACH ROW EXECUTE FUNCTION {q(guard)}()",
        # A row deleted (erasure, purge) frees its key, as it would in a unique index.
        f"""CREATE FUNCTION {q(guard + "_free")}() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM {q(guard)} WHERE {match_old} AND {q(column)} = OLD.{q(column)};
    RETURN NULL;
END $$""",
        f"CREATE TRIGGER {q(guard + '_free')} AFTER DELETE ON {q(table)} FOR EACH ROW EXECUTE FUNCTION {q(guard + '_free')}()",
    ]


def table_unpartition(schema_editor, *, table: str, column: str, guard: tuple[str, ...], model) -> None:
    """The way back (migrating backwards): the plain table again, rows included, with its keys,
    indexes, foreign keys and triggers; the guard becomes `model`'s unique constraint again."""
    q = schema_editor.quote_name
    old = f"{table}__parted"
    guard_name = table + GUARD_SUFFIX
    with schema_editor.connection.cursor() as cursor:
        oid = _fetch(cursor, "SELECT %s::regclass::oid", [table])[0][0]
        indexes, foreign, triggers = _table_shape(cursor, oid, skip_triggers=guard_name)
    statements = [
        f"ALTER TABLE {q(table)} RENAME TO {q(old)}",
        f"CREATE TABLE {q(table)} (LIKE {q(old)} INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING STORAGE)",
        f"INSERT INTO {q(table)} SELECT * FROM {q(old)}",
        f"ALTER SEQUENCE {q(table + '_id_seq')} OWNED BY {q(table)}.{q('id')}",
        f"DROP TABLE {q(old)}",
    ]
    if guard:
        statements += [
            f"DROP TABLE {q(guard_name)}",
            f"DROP FUNCTION {q(guard_name)}()",
            f"DROP FUNCTION {q(guard_name + '_free')}()",
        ]
    for name, definition, _unique, primary, is_constraint, columns in indexes:
        if primary:
            statements.append(f"ALTER TABLE {q(table)} ADD CONSTRAINT {q(name)} PRIMARY KEY ({q('id')})")
        elif is_constraint:
            statements.append(
                f"ALTER TABLE {q(table)} ADD CONSTRAINT {q(name)} UNIQUE ({', '.join(q(c) for c in columns)})"
            )
        else:
            for prefix in (f" ON ONLY public.{old} ", f" ON ONLY {old} ", f" ON public.{old} ", f" ON {old} "):
                definition = definition.replace(prefix, f" ON {table} ")
            statements.append(definition)
    statements += [f"ALTER TABLE {q(table)} ADD CONSTRAINT {q(name)} {definition}" for name, definition in foreign]
    statements += [
        definition.replace(f" ON {old} ", f" ON {table} ").replace(f" ON public.{old} ", f" ON {table} ")
        for _, definition in triggers
    ]
    for statement in statements:
        schema_editor.execute(statement, params=None)
    for constraint in model._meta.constraints:
        fields = getattr(constraint, "fields", ())
        if fields and tuple(sorted(model._meta.get_field(f).column for f in fields)) == tuple(sorted(guard)):
            schema_editor.add_constraint(model, constraint)


class PartitionByMonth(Operation):
    """Migration operation: partition `table` by month of `column` on PostgreSQL (table_partition);
    nothing on other databases, whose tables stay plain. The model state does not change: Django
    keeps `id` as the primary key and the unique constraints it knows (the guard enforces them)."""

    reversible = True
    reduces_to_sql = False

    def __init__(self, table: str, column: str, guard: tuple[str, ...] = (), guard_expire: str = "") -> None:
        self.table, self.column, self.guard, self.guard_expire = table, column, tuple(guard), guard_expire

    def deconstruct(self):
        kwargs = {"table": self.table, "column": self.column}
        if self.guard:
            kwargs["guard"] = self.guard
        if self.guard_expire:
            kwargs["guard_expire"] = self.guard_expire
        return self.__class__.__qualname__, [], kwargs

    def state_forwards(self, app_label, state) -> None:
        pass

    def database_forwards(self, app_label, schema_editor, from_state, to_state) -> None:
        if schema_editor.connection.vendor == "postgresql":
            table_partition(
                schema_editor, table=self.table, column=self.column, guard=self.guard, guard_expire=self.guard_expire
            )

    def database_backwards(self, app_label, schema_editor, from_state, to_state) -> None:
        if schema_editor.connection.vendor == "postgresql":
            model = next(m for m in to_state.apps.get_models() if m._meta.db_table == self.table)
            table_unpartition(schema_editor, table=self.table, column=self.column, guard=self.guard, model=model)

    def describe(self) -> str:
        return f"Partition {self.table} by month of {self.column} (PostgreSQL)"

    @property
    def migration_name_fragment(self) -> str:
        return f"partition_{self.table}"
