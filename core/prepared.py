"""Querysets compiled once per process: the SQL of a hot lookup kept, run again with other values.

Django compiles a queryset's SQL on every evaluation. For the partner API's member lookup and the
earn's member lock (a member with its program and tiers: about 150 columns) that compilation was
most of the request's CPU (bench/RESULTS.md). A `Prepared` builds its queryset once per database
alias with stand-in values, keeps the SQL and where the stand-ins went in its parameters, and then
runs that SQL with the caller's values through Django's cursor (so query logs and query counts see
it) and turns the rows into model instances with Django's own row populators, as the queryset
would have.

What a prepared queryset may hold: filters whose values reach the SQL unchanged (exact lookups, not
`iexact` or `contains`, which transform them), `select_related` and `select_for_update`, a slice. No
annotations, `extra()`, `values()` or `prefetch_related`: `Prepared` refuses them when it compiles.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db import connections, router
from django.db.models import Model, QuerySet
from django.db.models.query import ModelIterable, get_related_populators
from django.db.transaction import TransactionManagementError

# Stand-ins for the usual parameters (an id, a text): values no real row or request carries.
STAND_IN_ID = -918_273_645
STAND_IN_TEXT = "stand-in:text"


@dataclass(frozen=True)
class _Compiled:
    sql: str
    params: tuple
    slots: dict[str, list[int]]  # stand-in name -> its positions in params
    make: Callable[[tuple], Model]
    convert: Callable[[list], Any]  # rows -> rows with Django's value converters applied
    for_update: bool


class Prepared:
    """`Prepared(build, **stand_ins)`: `build(**values)` returns the queryset; `stand_ins` are values of
    the right type that appear nowhere else in the query (they locate the parameters). Calling the
    Prepared with real values returns the model instances the queryset would have."""

    def __init__(self, build: Callable[..., QuerySet], **stand_ins: Any) -> None:
        # Nothing is built here: a module-level Prepared is created while apps are still loading.
        self._build = build
        self._stand_ins = stand_ins
        self._compiled: dict[str, _Compiled] = {}
        self._target: tuple[type[Model], bool] | None = None  # (model, select_for_update)

    def __call__(self, **values: Any) -> list[Model]:
        if values.keys() != self._stand_ins.keys():
            raise TypeError(f"expected values for {sorted(self._stand_ins)}, got {sorted(values)}")
        if self._target is None:
            query = self._build(**self._stand_ins).query
            self._target = (query.model, bool(query.select_for_update))
        model, for_update = self._target
        # The alias the queryset itself would use (a lock on the primary; a read where the router says).
        alias = router.db_for_write(model) if for_update else router.db_for_read(model)
        compiled = self._compiled.get(alias) or self._compile(alias)
        connection = connections[alias]
        if compiled.for_update and connection.features.has_select_for_update and connection.get_autocommit():
            raise TransactionManagementError("select_for_update cannot be used outside of a transaction.")
        params = list(compiled.params)
        for name, positions in compiled.slots.items():
            for position in positions:
                params[position] = values[name]
        with connection.cursor() as cursor:
            cursor.execute(compiled.sql, params)
            rows = cursor.fetchall()
        return [compiled.make(row) for row in compiled.convert(rows)]

    def _compile(self, alias: str) -> _Compiled:
        queryset = self._build(**self._stand_ins).using(alias)
        query = queryset.query
        if query.annotations or query.extra or queryset._prefetch_related_lookups or queryset._known_related_objects:
            raise ValueError("Prepared takes filters, select_related, select_for_update and a slice only.")
        if queryset._iterable_class is not ModelIterable:
            raise ValueError("Prepared returns model instances: no values() or values_list().")
        compiler = query.get_compiler(using=alias)
        sql, params = compiler.as_sql()
        slots = {
            name: [i for i, param in enumerate(params) if type(param) is type(value) and param == value]
            for name, value in self._stand_ins.items()
        }
        missing = [name for name, positions in slots.items() if not positions]
        if missing:
            raise ValueError(f"stand-ins not found unchanged in the SQL's parameters: {missing}")
        klass_info, select = compiler.klass_info, compiler.select
        start, end = klass_info["select_fields"][0], klass_info["select_fields"][-1] + 1
        init_list = [column[0].target.attname for column in select[start:end]]
        populators = get_related_populators(klass_info, select, alias)
        model = klass_info["model"]

        def make(row: tuple) -> Model:
            instance = model.from_db(alias, init_list, row[start:end])
            for populator in populators:
                populator.populate(row, instance)
            return instance

        compiled = _Compiled(
            sql=sql,
            params=tuple(params),
            slots=slots,
            make=make,
            convert=lambda rows: compiler.results_iter(results=[rows]),
            for_update=bool(query.select_for_update),
        )
        self._compiled[alias] = compiled
        return compiled
