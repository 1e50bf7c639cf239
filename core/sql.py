"""Pieces of hand-written SQL that differ between PostgreSQL and SQLite, for set-based statements
(the periodic jobs' `INSERT ... SELECT` and `UPDATE ... FROM`). Everything else in those statements
is written once: both databases take `UPDATE ... FROM`, `RETURNING`, `FALSE` and `CAST`."""

import json
from collections.abc import Sequence
from datetime import datetime

from django.db import connection


def _postgresql() -> bool:
    return connection.vendor == "postgresql"


def ids_in(column: str, ids: Sequence[int]) -> tuple[str, list]:
    """`column` is one of `ids`, as one parameter whatever their number."""
    if _postgresql():
        return f"{column} = ANY(%s)", [list(ids)]
    return f"{column} IN (SELECT value FROM json_each(%s))", [json.dumps(list(ids))]  # noqa: S608 - table names, ORM SQL and placeholders only


def json_object(pairs: dict[str, str]) -> str:
    """A JSON object {"key": <SQL expression>, ...}."""
    args = ", ".join(f"'{key}', {expression}" for key, expression in pairs.items())
    return f"JSONB_BUILD_OBJECT({args})" if _postgresql() else f"JSON_OBJECT({args})"


def json_array_agg(pairs: dict[str, str], *, order_by: str) -> str:
    """An aggregate: the JSON array of one `json_object(pairs)` per grouped row, in `order_by` order."""
    if _postgresql():
        return f"JSONB_AGG({json_object(pairs)} ORDER BY {order_by})"
    # SQLite adds rows in the order the (ordered) FROM subquery hands them over.
    return f"JSON_GROUP_ARRAY({json_object(pairs)})"


def json_param(value) -> tuple[str, list]:
    """A JSON value as a parameter (None: SQL NULL, as Django's JSONField stores it)."""
    text = None if value is None else json.dumps(value)
    return ("CAST(%s AS jsonb)" if _postgresql() else "%s"), [text]


def when(value: datetime):
    """A datetime as a raw statement's parameter, stored as the ORM stores it (SQLite: naive UTC text)."""
    return connection.ops.adapt_datetimefield_value(value)


def for_update() -> str:
    """Row locks where the database has them (SQLite locks the whole database for a write)."""
    return " FOR UPDATE" if connection.features.has_select_for_update else ""
