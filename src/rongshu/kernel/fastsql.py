"""Hot-path SQL without the ORM's per-call query compilation.

Building a query through the ORM costs about as much Python time as PostgreSQL needs to run
a simple one (each ``filter()``/``bulk_create()`` builds and compiles a new query object).
Code on a hot path (one payment order, one ledger transfer) writes its few statements once,
as SQL text cached per model, and binds values with the model fields' own
``get_db_prep_save`` — the same conversion the ORM applies, so the stored values are
identical. See docs/decisions/0006-payment-order-fast-path.md.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from typing import Any

from django.db import connection, models

__all__ = ["insert", "insert_new", "prep", "table"]


def table(model: type[models.Model]) -> str:
    return connection.ops.quote_name(model._meta.db_table)


_TEXT: frozenset[type] = frozenset({str, type(None)})
_INT: frozenset[type] = frozenset({int, type(None)})
# value types a plain column stores as they are (what the field's own conversion returns)
_AS_IS: dict[type, frozenset[type]] = {
    models.CharField: _TEXT,
    models.TextField: _TEXT,
    models.IntegerField: _INT,
    models.BigIntegerField: _INT,
    models.SmallIntegerField: _INT,
    models.PositiveIntegerField: _INT,
    models.PositiveSmallIntegerField: _INT,
    models.BooleanField: frozenset({bool, type(None)}),
}
_NOTHING: frozenset[type] = frozenset()


@cache
def _insert_plan(
    model: type[models.Model], rows: int, skip_conflict: bool = False
) -> tuple[str, tuple[Any, ...]]:
    meta = model._meta
    fields = tuple(f for f in meta.concrete_fields if f is not meta.auto_field)
    quote = connection.ops.quote_name
    columns = ", ".join(quote(str(f.column)) for f in fields)
    one = "(" + ", ".join(["%s"] * len(fields)) + ")"
    auto = meta.auto_field
    returning = f" RETURNING {quote(str(auto.column))}" if auto is not None else ""
    values = ", ".join([one] * rows)
    conflict = " ON CONFLICT DO NOTHING" if skip_conflict else ""
    sql = f"INSERT INTO {table(model)} ({columns}) VALUES {values}{conflict}{returning}"  # noqa: S608
    return sql, fields


def insert(objs: Sequence[models.Model]) -> None:
    """INSERT ``objs`` (instances of one model) in one statement and set their new primary
    keys — what ``bulk_create`` does for rows that cannot conflict, without building a query
    object. A unique conflict raises ``IntegrityError`` as with the ORM."""
    if objs:
        _insert(objs, skip_conflict=False)


def insert_new(obj: models.Model) -> bool:
    """INSERT ``obj`` unless one of its unique keys is taken (``ON CONFLICT DO NOTHING``,
    SQLite and PostgreSQL): True when it went in (its primary key is set), False when a row
    with one of its unique values exists — no error, so the caller's transaction stays usable
    without a savepoint. On PostgreSQL a conflicting row that another transaction has not
    committed yet makes this wait for that transaction's outcome."""
    return _insert([obj], skip_conflict=True)


def _insert(objs: Sequence[models.Model], *, skip_conflict: bool) -> bool:
    model = type(objs[0])
    sql, fields = _insert_plan(model, len(objs), skip_conflict)
    params = []
    for obj in objs:
        for field in fields:
            value = field.pre_save(obj, True)
            if type(value) not in _AS_IS.get(type(field), _NOTHING):
                value = field.get_db_prep_save(value, connection)
            params.append(value)
    auto = model._meta.auto_field
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        keys = cursor.fetchall() if auto is not None else []
        if skip_conflict and (keys == [] if auto is not None else cursor.rowcount == 0):
            return False
    for index, obj in enumerate(objs):
        if auto is not None:
            setattr(obj, auto.attname, keys[index][0])
        obj._state.adding = False
        obj._state.db = connection.alias
    return True


def prep(model: type[models.Model], field_name: str, value: Any) -> Any:
    """``value`` as the database stores ``model.field_name`` (a UUID as text on SQLite …)."""
    field = model._meta.get_field(field_name)
    assert isinstance(field, models.Field)
    return field.get_db_prep_save(value, connection)
