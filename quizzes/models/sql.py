"""Statements of the grading hot path, compiled once per database and run on a cursor.

A graded submission runs a handful of short statements. Through the ORM each one costs
more CPU to build and convert (about 1 ms) than the database spends on it, which made the
worker's work around a 20 ms sandbox run cost as much as the run (docs/architecture.md,
"The grading hot path"). So the hot path keeps its statements here:

- ``CompiledQuery``: an ORM queryset compiled once per database, its SQL run again with
  new values for its ids. The conditions stay written once, as the models' ``Q`` objects.
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
from django.utils import timezone

# Ids no row has: a compiled query's parameters that are replaced on each run.
_SENTINEL_BASE = -7_340_033_000


class CompiledQuery:
    """``build(*ids)`` → a queryset; compiled once per database alias with stand-in ids,
    then run with real ones. Every id parameter must be an integer the ORM passes through
    unchanged (a primary or foreign key), used exactly once in the SQL."""

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
        sentinels = [_SENTINEL_BASE - n for n in range(self.arity)]
        queryset = self.build(*sentinels)
        sql, params = queryset.query.get_compiler(using=alias).as_sql()
        params = list(params)
        positions = []
        for sentinel in sentinels:
            found = [i for i, value in enumerate(params) if value == sentinel]
            if len(found) != 1:
                raise ValueError(f"id parameter {sentinel} appears {len(found)} times in {sql}")
            positions.append(found[0])
        with self._lock:
            self._compiled[alias] = (sql, params, positions)
        return sql, params, positions

    def execute(self, cursor: Any, *ids: int) -> Any:
        """Run on ``cursor`` (of this query's database) and return the cursor."""
        sql, params, positions = self.compile(cursor.db.alias)
        values = list(params)
        for position, value in zip(positions, ids, strict=True):
            values[position] = value
        cursor.execute(sql, values)
        return cursor


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
