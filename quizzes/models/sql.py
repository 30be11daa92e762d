"""Statements of the grading hot path, compiled once per database and run on a cursor.

A graded submission runs a handful of short statements. Through the ORM each one costs
more CPU to build and convert (about 1 ms) than the database spends on it, which made the
worker's work around a 20 ms sandbox run cost as much as the run (docs/architecture.md,
"The grading hot path"). So the hot path keeps its statements here:

- ``CompiledQuery``: an ORM queryset compiled once per database, its SQL run again with
  new values for its ids. The conditions stay written once, as the models' ``Q`` objects.
  ``CompiledModelQuery`` returns the rows as the queryset's model instances, for the web
  tier's hot path (an autosave reads its question this way).
- ``Names`` and ``HandWritten``: quoted table and column names from the models' meta, for
  the few UPDATE and INSERT statements written by hand (built once per database). Values
  are always parameters, adapted as the ORM adapts them (``adapt_datetime``,
  ``adapt_uuid``, ``adapt_json``).
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any, Generic, TypeVar

from django.db import connections, router
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import Field, Model, QuerySet
from django.db.models.query import get_related_populators
from django.utils import timezone

# Stand-ins for a compiled query's parameters, replaced on each run: values no query
# passes as a constant, within even a positive small integer column's range (the ORM drops
# or empties a condition whose value the column cannot hold).
_SENTINEL_BASE = 32_000


class CompiledQuery:
    """``build(*ids)`` → a queryset; compiled once per database alias with stand-in ids,
    then run with real ones. Every id parameter must be an integer the ORM passes through
    unchanged (a key, a position), used exactly once in the SQL."""

    def __init__(self, model: type[Model], build: Callable[..., QuerySet[Any]], arity: int):
        self.model = model
        self.build = build
        self.arity = arity
        self._compiled: dict[str, tuple[str, list[Any], list[int]]] = {}
        self._lock = threading.Lock()

    def using(self, *, write: bool = True) -> str:
        return (router.db_for_write if write else router.db_for_read)(self.model) or "default"

    def compile(self, alias: str) -> tuple[str, list[Any], list[int]]:
        compiled = self._compiled.get(alias)
        if compiled is not None:
            return compiled
        compiled = self._sql(self._compiler(alias))
        with self._lock:
            self._compiled[alias] = compiled
        return compiled

    def _compiler(self, alias: str) -> Any:
        queryset = self.build(*(_SENTINEL_BASE + n for n in range(self.arity)))
        return queryset.query.get_compiler(using=alias)

    def _sql(self, compiler: Any) -> tuple[str, list[Any], list[int]]:
        sql, params = compiler.as_sql()
        params = list(params)
        positions = []
        for n in range(self.arity):
            sentinel = _SENTINEL_BASE + n
            found = [i for i, value in enumerate(params) if value == sentinel]
            if len(found) != 1:
                raise ValueError(f"id parameter {sentinel} appears {len(found)} times in {sql}")
            positions.append(found[0])
        return sql, params, positions

    def execute(self, cursor: Any, *ids: int) -> Any:
        """Run on ``cursor`` (of this query's database) and return the cursor. The ids are
        the database's own (a key read from a row): one that no column can hold is a bug."""
        if not _in_range(ids):
            raise ValueError(f"an id out of any integer column's range: {ids}")
        sql, params, positions = self.compile(cursor.db.alias)
        cursor.execute(sql, _bind(params, positions, ids))
        return cursor


# The widest integer column's range: an id outside it matches no row (the ORM would say so
# without asking the database; SQLite cannot even take it as a parameter).
_INT64 = range(-(2**63), 2**63)


def _in_range(ids: Sequence[int]) -> bool:
    return all(value in _INT64 for value in ids)


def _bind(params: list[Any], positions: list[int], ids: Sequence[int]) -> list[Any]:
    values = list(params)
    for position, value in zip(positions, ids, strict=True):
        values[position] = value
    return values


class _ModelRows:
    """What turning a compiled query's rows into instances needs, as the ORM's
    ``ModelIterable`` does it: the columns' converters, the model's fields in the row and
    the ``select_related`` populators."""

    def __init__(self, query: CompiledModelQuery, alias: str) -> None:
        compiler = query._compiler(alias)
        self.sql, self.params, self.positions = query._sql(compiler)
        if compiler.annotation_col_map or compiler.has_extra_select:
            raise ValueError("a compiled model query selects the model's columns only")
        self.compiler = compiler
        select, klass_info = compiler.select, compiler.klass_info
        self.converters = compiler.get_converters([s[0] for s in select[: compiler.col_count]])
        fields = klass_info["select_fields"]
        self.start, self.end = fields[0], fields[-1] + 1
        self.model = klass_info["model"]
        self.init_list = [column[0].target.attname for column in select[self.start : self.end]]
        # Django 5.2's signature (the type stubs already have a later one).
        self.populators = get_related_populators(klass_info, select, alias)  # type: ignore[call-arg]


class CompiledModelQuery(CompiledQuery):
    """A ``CompiledQuery`` whose rows come back as the queryset's model instances (with its
    ``select_related`` objects and ``only`` fields), built as the ORM builds them. Kept per
    thread: the converters hold the thread's connection."""

    def __init__(self, model: type[Model], build: Callable[..., QuerySet[Any]], arity: int):
        super().__init__(model, build, arity)
        self._local = threading.local()

    def _rows(self, alias: str) -> _ModelRows:
        per_alias: dict[str, _ModelRows] = self._local.__dict__.setdefault("rows", {})
        rows = per_alias.get(alias)
        if rows is None:
            rows = per_alias[alias] = _ModelRows(self, alias)
        return rows

    def fetch(self, *ids: int, write: bool = True) -> list[Any]:
        """Run on this query's database; every row as an instance."""
        if not _in_range(ids):
            return []
        alias = self.using(write=write)
        plan = self._rows(alias)
        with connections[alias].cursor() as cursor:
            cursor.execute(plan.sql, _bind(plan.params, plan.positions, ids))
            fetched = cursor.fetchall()
        rows: Any = fetched
        if plan.converters:
            rows = plan.compiler.apply_converters(fetched, plan.converters)
        instances = []
        for row in rows:
            instance = plan.model.from_db(alias, plan.init_list, row[plan.start : plan.end])
            for populator in plan.populators:
                populator.populate(row, instance)
            instances.append(instance)
        return instances


class Names:
    """Quoted identifiers of the models' tables and columns, for hand-written SQL."""

    def __init__(self, connection: BaseDatabaseWrapper) -> None:
        self.quote = connection.ops.quote_name

    def table(self, model: type[Model]) -> str:
        return str(self.quote(model._meta.db_table))

    def col(self, model: type[Model], name: str) -> str:
        field = model._meta.get_field(name)
        assert isinstance(field, Field) and field.column
        return str(self.quote(field.column))

    def cols(self, model: type[Model], names: Sequence[str]) -> str:
        return ", ".join(self.col(model, name) for name in names)


T = TypeVar("T")


class HandWritten(Generic[T]):
    """Statements written by hand (``build`` makes them from the database's ``Names``),
    built once per database alias."""

    def __init__(self, build: Callable[[Names], T]) -> None:
        self.build = build
        self._built: dict[str, T] = {}

    def on(self, connection: BaseDatabaseWrapper) -> T:
        built = self._built.get(connection.alias)
        if built is None:
            built = self._built[connection.alias] = self.build(Names(connection))
        return built


def connection_for(model: type[Model]) -> BaseDatabaseWrapper:
    return connections[router.db_for_write(model) or "default"]


def client_side_binding(connection: BaseDatabaseWrapper) -> bool:
    """Whether a cursor of ``connection`` may run several statements in one call: psycopg
    with client-side binding (Django's default for PostgreSQL) can; SQLite cannot."""
    return connection.vendor == "postgresql" and not connection.settings_dict.get(
        "OPTIONS", {}
    ).get("server_side_binding")


def adapt_datetime(connection: BaseDatabaseWrapper, value: datetime | None) -> Any:
    return connection.ops.adapt_datetimefield_value(value)


def read_datetime(connection: BaseDatabaseWrapper, value: Any) -> datetime | None:
    """A DateTimeField column as read by a cursor: PostgreSQL gives an aware datetime,
    SQLite a naive one in UTC (or text)."""
    if value is None or (isinstance(value, datetime) and timezone.is_aware(value)):
        return value
    converted = connection.ops.convert_datetimefield_value(value, None, connection)  # type: ignore[attr-defined]
    assert isinstance(converted, datetime)
    return converted


def adapt_uuid(connection: BaseDatabaseWrapper, value: uuid.UUID | None) -> Any:
    if value is None:
        return None
    return value if connection.features.has_native_uuid_field else value.hex


def adapt_json(connection: BaseDatabaseWrapper, value: Any) -> Any:
    return connection.ops.adapt_json_value(value, None)


def read_decimal(value: Any) -> Decimal:
    """A DecimalField column as read by a cursor (SQLite gives int or float)."""
    if isinstance(value, Decimal):
        return value
    return Decimal(str(value if value is not None else 0))
