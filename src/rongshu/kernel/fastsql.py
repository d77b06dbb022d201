"""Hot-path SQL without the ORM's per-call query compilation.

Building a query through the ORM costs about as much Python time as PostgreSQL needs to run
a simple one (each ``filter()``/``bulk_create()`` builds and compiles a new query object).
Code on a hot path (one payment order, one ledger transfer) writes its few statements once,
as SQL text cached per model, and binds values with the model fields' own
``get_db_prep_save`` — the same conversion the ORM applies, so the stored values are
identical. See docs/decisions/0006-payment-order-fast-path.md.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
import weakref
from collections.abc import Sequence
from contextlib import nullcontext
from functools import cache
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connection, connections, models

__all__ = [
    "bound_cursor",
    "fetchall",
    "insert",
    "insert_new",
    "json_insert_sql",
    "json_row",
    "one_statement",
    "prep",
    "prepared_cursor",
    "saved",
    "table",
    "update",
]


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
    params = [_db_value(field, obj, True) for obj in objs for field in fields]
    auto = model._meta.auto_field
    # one row (a claim, an order): prepared on PostgreSQL; many: a text that varies
    with one_statement() if len(objs) == 1 else connection.cursor() as cursor:
        cursor.execute(sql, params)
        keys = cursor.fetchall() if auto is not None else []
        if skip_conflict and (keys == [] if auto is not None else cursor.rowcount == 0):
            return False
    for index, obj in enumerate(objs):
        saved(obj, keys[index][0] if auto is not None else None)
    return True


@cache
def _update_plan(model: type[models.Model], names: tuple[str, ...]) -> tuple[str, tuple[Any, ...]]:
    meta = model._meta
    by_name = {f.name: f for f in meta.concrete_fields}
    fields = tuple(by_name[name] for name in names)
    quote = connection.ops.quote_name
    sets = ", ".join(f"{quote(str(f.column))} = %s" for f in fields)
    assert meta.pk is not None
    where = quote(str(meta.pk.column))
    return f"UPDATE {table(model)} SET {sets} WHERE {where} = %s", fields  # noqa: S608


def update(obj: models.Model, names: Sequence[str]) -> int:
    """UPDATE the columns of ``names`` (field names) of ``obj``'s stored row — what
    ``obj.save(update_fields=names)`` writes, in one statement built once per model and
    fields (prepared on PostgreSQL) instead of a query compiled on every call. Returns the
    number of rows updated (0: the row is gone, where the ORM raises)."""
    sql, fields = _update_plan(type(obj), tuple(names))
    params = [_db_value(field, obj, False) for field in fields]
    params.append(obj.pk)
    with one_statement() as cursor:
        cursor.execute(sql, params)
        return int(cursor.rowcount)


def _db_value(field: Any, obj: models.Model, add: bool) -> Any:
    """``obj``'s value of ``field`` as the ORM would bind it (``add``: for an INSERT)."""
    value = field.pre_save(obj, add)
    if type(value) not in _AS_IS.get(type(field), _NOTHING):
        value = field.get_db_prep_save(value, connection)
    return value


def saved(obj: models.Model, pk: Any = None) -> None:
    """Mark ``obj`` as the row an INSERT of this module's (or one built from
    :func:`json_insert_sql`) just wrote, with ``pk`` its new auto primary key, as the ORM's
    ``save()`` leaves an instance."""
    if pk is not None:
        obj.pk = pk
    obj._state.adding = False
    obj._state.db = connection.alias


def prep(model: type[models.Model], field_name: str, value: Any) -> Any:
    """``value`` as the database stores ``model.field_name`` (a UUID as text on SQLite …)."""
    field = model._meta.get_field(field_name)
    assert isinstance(field, models.Field)
    return field.get_db_prep_save(value, connection)


@cache
def json_insert_sql(model: type[models.Model], *, skip_conflict: bool = False) -> str:
    """PostgreSQL: a one-row INSERT of ``model`` whose values come in ONE ``jsonb``
    parameter, :func:`json_row` (``jsonb_populate_record`` gives each column its type), with
    ``RETURNING`` the primary key: a statement with a short, fixed parameter list (psycopg
    caches the conversion of a statement only up to 50 parameters and 4 kB of text)."""
    meta = model._meta
    fields = _insert_plan(model, 1, False)[1]
    quote = connection.ops.quote_name
    columns = ", ".join(quote(str(f.column)) for f in fields)
    conflict = " ON CONFLICT DO NOTHING" if skip_conflict else ""
    auto = meta.auto_field
    returning = f" RETURNING {quote(str(auto.column))}" if auto is not None else ""
    return (
        f"INSERT INTO {table(model)} ({columns}) SELECT {columns} "  # noqa: S608
        f"FROM jsonb_populate_record(NULL::{table(model)}, %s::jsonb){conflict}{returning}"
    )


def json_row(obj: models.Model) -> str:
    """``obj``'s values for :func:`json_insert_sql`, by column name (what :func:`insert`
    binds), as JSON text (a UUID, date or time as its ISO text, which PostgreSQL reads back
    exactly)."""
    values = obj.__dict__
    row = {}
    for column, attname, field, as_is in _json_plan(type(obj)):
        value = values.get(attname, _NOTHING)
        if type(value) not in as_is or (type(value) is dt.datetime and value.tzinfo is None):
            # (a missing attribute: a frozenset is in no plan; a naive datetime is made aware)
            value = field.get_db_prep_save(field.pre_save(obj, True), connection)
        row[column] = value
    return json.dumps(row, default=_json_value, ensure_ascii=False)


@cache
def _json_plan(model: type[models.Model]) -> tuple[tuple[str, str, Any, frozenset[type]], ...]:
    """(column, attribute, field, value types stored as they are) per column: the plain
    types of :data:`_AS_IS`, a UUID where the database has a uuid type, an aware datetime on
    PostgreSQL, an integer key of an integer primary key; anything else goes through the
    field's own conversion."""
    fields = _insert_plan(model, 1, False)[1]
    plan = []
    for f in fields:
        as_is = _AS_IS.get(type(f), _NOTHING)
        if type(f) is models.UUIDField and connection.features.has_native_uuid_field:
            as_is = frozenset({uuid.UUID, type(None)})
        elif (
            type(f) is models.DateTimeField
            and not (f.auto_now or f.auto_now_add)
            and connection.vendor == "postgresql"
        ):
            # PostgreSQL stores an aware datetime as it is (adapt_datetimefield_value)
            as_is = frozenset({dt.datetime, type(None)})
        elif isinstance(f, models.ForeignKey) and isinstance(
            f.target_field, models.AutoField | models.BigAutoField
        ):
            as_is = _INT
        plan.append((str(f.column), f.attname, f, as_is))
    return tuple(plan)


def _json_value(value: Any) -> str:
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, dt.date):  # and datetime
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not a plain column value")


# psycopg connection → its preparing cursor (a connection belongs to one thread)
_PREPARED: weakref.WeakKeyDictionary[Any, Any] = weakref.WeakKeyDictionary()
_CURSOR_CLASSES: dict[bool, type[Any]] = {}


def prepared_cursor() -> Any:
    """PostgreSQL: a cursor (Django's wrapper: query logging, execute wrappers, error
    translation) whose statements are prepared on the server — parsed and planned once per
    connection — for the few statements of a hot path. Django's own cursors bind client-side
    and never prepare. The connection's automatic preparation is left off (threshold 2^31);
    a database whose ``OPTIONS`` say ``"prepare_threshold": None`` (PgBouncer < 1.21 in
    transaction mode) and a connection that logs queries (DEBUG, ``CaptureQueriesContext``:
    psycopg keeps no text of a prepared execution) get the statements unprepared. Use ``%s``
    placeholders; values are bound on the server, so a value whose type the statement does
    not fix needs a cast. The cursor is reused: do not close it (no ``with``)."""
    db = connections[DEFAULT_DB_ALIAS]  # one look-up of the thread's connection
    options = db.settings_dict.get("OPTIONS") or {}
    if db.queries_logged or (
        "prepare_threshold" in options and options["prepare_threshold"] is None
    ):
        return bound_cursor()
    db.close_if_health_check_failed()  # as Django's own cursor(): once per request
    db.ensure_connection()
    db.validate_thread_sharing()
    conn = db.connection
    raw = _PREPARED.get(conn)
    if raw is None or raw.closed:
        if conn.prepare_threshold is None:
            conn.prepare_threshold = 2**31  # nothing else is prepared automatically
        raw = _PREPARED[conn] = _cursor_class(prepare=True)(conn)
    return db.make_cursor(raw)


def fetchall(sql: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
    """The rows of a hot-path read: prepared on PostgreSQL (:func:`prepared_cursor`), on a
    plain cursor elsewhere."""
    with one_statement() as cursor:
        cursor.execute(sql, params)
        return list(cursor.fetchall())


def one_statement() -> Any:
    """A cursor (as a context manager) for one hot-path statement: on PostgreSQL the
    connection's reused :func:`prepared_cursor` (left open), elsewhere a plain cursor."""
    if connection.vendor == "postgresql":
        return nullcontext(prepared_cursor())
    return connection.cursor()


def bound_cursor() -> Any:
    """PostgreSQL: a new Django cursor (errors translated, queries logged when Django logs
    them) over a psycopg cursor that sends the parameters apart from the statement, in
    binary where it can — a list of 1,000 UUIDs goes as one array value instead of being
    quoted into the text element by element (Django's cursors bind on the client). Never
    prepared; close it (``with``)."""
    db = connections[DEFAULT_DB_ALIAS]
    db.close_if_health_check_failed()
    db.ensure_connection()
    raw = _cursor_class(prepare=False)(db.connection)
    return db.make_debug_cursor(raw) if db.queries_logged else db.make_cursor(raw)


def _cursor_class(*, prepare: bool) -> type[Any]:
    """A psycopg server-side-binding cursor class whose ``execute`` always (or never)
    prepares, whatever Django's wrapper passes."""
    cls = _CURSOR_CLASSES.get(prepare)
    if cls is None:
        import psycopg

        class Cursor(psycopg.Cursor[Any]):
            def execute(
                self,
                query: Any,
                params: Any = None,
                *,
                prepare: bool | None = None,
                binary: bool | None = None,
            ) -> Any:
                return super().execute(query, params, prepare=always, binary=binary)

        always = prepare
        cls = _CURSOR_CLASSES[prepare] = Cursor
    return cls
